"""`scrubber scrub | run | config validate | eval | kanon`: the command line and its wiring."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import BinaryIO

from connectors.stdio import batched, read_lines
from scrubber.api import serve
from scrubber.config import load_config
from scrubber.errors import ConfigError, ScrubberError
from scrubber.log import configure_logging, get_logger
from scrubber.vault import cli as vault_cli

EXIT_CONFIG = 2


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scrubber", description="Streaming PII scrubbing.")
    parser.add_argument("--log-format", choices=["json", "console"], default="json")
    parser.add_argument("--log-level", default="info")
    commands = parser.add_subparsers(dest="command", required=True)
    serve.register(commands)  # serve
    vault_cli.register(commands)  # vault access|erase|restore, audit verify

    scrub = commands.add_parser("scrub", help="scrub lines from files or stdin to stdout")
    scrub.add_argument("--config", type=Path, help="YAML config (default: embedded policy)")
    scrub.add_argument("--format", choices=["auto", "text", "json"], default="auto")
    scrub.add_argument("--batch-size", type=int, default=256)
    scrub.add_argument("--max-wait-ms", type=float, default=20.0)
    scrub.add_argument("--workers", type=int, default=1, help="processes (order is kept)")
    scrub.add_argument("files", nargs="*", type=Path, help="input files (default: stdin)")

    run = commands.add_parser("run", help="the Kafka pipeline: consume, scrub, produce, commit")
    run.add_argument("--config", type=Path, required=True, help="YAML config with kafka and routes")
    run.add_argument("--workers", type=int, default=1, help="processes in one consumer group")
    run.add_argument("--metrics-port", type=int, default=9400, help="worker i serves port + i")

    config = commands.add_parser("config", help="configuration tools")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    validate = config_commands.add_parser("validate", help="check a config file; exit 2 if bad")
    validate.add_argument("file", type=Path)

    evaluate = commands.add_parser("eval", help="precision/recall on span-labelled JSONL")
    evaluate.add_argument("--data", type=Path, required=True, action="append")
    evaluate.add_argument("--config", type=Path)
    evaluate.add_argument("--baseline", choices=["none", "presidio"], default="none")
    evaluate.add_argument("--limit", type=int, default=0, help="first N records only (0: all)")
    evaluate.add_argument("--format", choices=["auto", "text", "json"], default="text")
    kanon = commands.add_parser(
        "kanon", help="k-anonymity of JSON lines over quasi-identifier fields (counts only)"
    )
    kanon.add_argument(
        "--quasi", required=True, help="comma-separated field paths, e.g. user.age,user.zip"
    )
    kanon.add_argument("--k", type=int, default=5, help="smallest acceptable class (default 5)")
    kanon.add_argument("files", nargs="*", type=Path, help="JSONL files (default: stdin)")
    return parser


def _inputs(files: list[Path], stack: ExitStack) -> Iterator[BinaryIO]:
    if not files:
        yield sys.stdin.buffer
        return
    for path in files:
        yield stack.enter_context(path.open("rb"))


def _scrub(args: argparse.Namespace) -> int:
    # Heavy imports (spaCy) only for commands that scrub.
    from scrubber.stream import scrub_stream
    from scrubber.vault.recorder import scrubber_for

    log = get_logger("scrubber.scrub")
    started = time.monotonic()
    config = load_config(args.config)
    engine = scrubber_for(config) if args.workers <= 1 else None
    log.info("engine_ready", config_hash=config.digest(), workers=args.workers,
             seconds=round(time.monotonic() - started, 3))  # fmt: skip
    out = sys.stdout.buffer
    count = 0
    with ExitStack() as stack:
        max_bytes = config.limits.max_record_bytes
        lines = (
            line for stream in _inputs(args.files, stack) for line in read_lines(stream, max_bytes)
        )
        batches = batched(lines, args.batch_size, args.max_wait_ms / 1000)
        for output in scrub_stream(batches, args.format, args.config, args.workers, engine):
            for reason, size in output.quarantined:
                log.warning("record_quarantined", reason=reason, size=size)
            out.write("".join(line + "\n" for line in output.lines).encode("utf-8"))
            out.flush()
            count += len(output.lines)
    log.info("scrub_done", line_count=count, seconds=round(time.monotonic() - started, 3))
    return 0


def _run(args: argparse.Namespace) -> int:
    from scrubber.pipeline.runner import run

    return run(args.config, args.workers, args.metrics_port, args.log_format)


def _validate(args: argparse.Namespace) -> int:
    config = load_config(args.file)
    from scrubber.engine.keys import load_keys

    load_keys(config)
    print(json.dumps({"valid": True, "file": str(args.file), "config_hash": config.digest()}))
    return 0


def _eval(args: argparse.Namespace) -> int:
    from scrubber.evaluation import run_evaluation

    report = run_evaluation(
        args.data, load_config(args.config), args.baseline, args.limit, args.format
    )
    print(json.dumps(report, indent=2))
    return 0


def _kanon(args: argparse.Namespace) -> int:
    """Exit 0 when every class holds at least k records, 1 when not (usable as a CI gate)."""
    from scrubber.kanon import k_anonymity

    quasi = tuple(path.strip() for path in args.quasi.split(",") if path.strip())
    with ExitStack() as stack:
        lines = (
            line.decode("utf-8", "replace")
            for stream in _inputs(args.files, stack)
            for line in stream
        )
        try:
            report = k_anonymity(lines, quasi, args.k)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return EXIT_CONFIG
    print(json.dumps(report.as_dict()))
    return 0 if report.k_anonymous else 1


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    configure_logging(args.log_format, args.log_level)
    handlers = {
        "scrub": _scrub, "run": _run, "config": _validate, "eval": _eval, "kanon": _kanon,
    }  # fmt: skip
    handlers |= serve.HANDLERS | vault_cli.HANDLERS
    try:
        return handlers[args.command](args)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ScrubberError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
