"""`scrubber scrub | run | config validate | eval | kanon`: the command line and its wiring.

Exit codes: 0 done; 1 a check failed (`kanon`, `audit verify`); 2 a bad config, argument or input
file, with one line on stderr; 130 Ctrl-C. Everything beyond the standard library is imported
inside `main`, so Ctrl-C during the seconds of start-up exits quietly too.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, BinaryIO, NoReturn

from scrubber import __version__

if TYPE_CHECKING:
    from connectors.stdio import Line

EXIT_CONFIG = 2  # a bad config, argument or input file
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as a shell reports Ctrl-C


class _Parser(argparse.ArgumentParser):
    """Usage errors on one line, exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_CONFIG, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def _build_parser() -> argparse.ArgumentParser:
    from scrubber.api import serve
    from scrubber.gateway import serve as gateway
    from scrubber.log import LOG_LEVELS
    from scrubber.vault import cli as vault_cli

    parser = _Parser(prog="scrubber", description="Streaming PII scrubbing.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--log-format", choices=["json", "console"], default="json")
    parser.add_argument("--log-level", type=str.lower, choices=LOG_LEVELS, default="info",
                        help="for every command of this process (any case)")  # fmt: skip
    commands = parser.add_subparsers(dest="command", required=True)
    serve.register(commands)  # serve
    gateway.register(commands)  # gateway
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
    run.add_argument(
        "--metrics-port", type=int, default=9400, help="/metrics, /healthz, /readyz of all workers"
    )

    config = commands.add_parser("config", help="configuration tools")
    config_commands = config.add_subparsers(dest="config_command", required=True)
    validate = config_commands.add_parser("validate", help="check a config file; exit 2 if bad")
    validate.add_argument("file", type=Path)
    recognizers = commands.add_parser("recognizers", help="see docs/recognizers.md")
    recognizer_commands = recognizers.add_subparsers(dest="recognizers_command", required=True)
    convert = recognizer_commands.add_parser(
        "import", help="Presidio's recognizer YAML as `recognizers:` entries, on stdout"
    )
    convert.add_argument("file", type=Path, help="a Presidio recognizer-registry YAML file")
    explain = commands.add_parser("explain", help="why each value is replaced, or let go")
    explain.add_argument("--config", type=Path, help="YAML config (default: embedded policy)")
    explain.add_argument("--format", choices=["auto", "text", "json"], default="auto")
    explain.add_argument("--json", action="store_true", help="JSON (docs/recognizers.md)")
    explain.add_argument("record", help="the record to explain, or - for lines from stdin")

    evaluate = commands.add_parser("eval", help="precision/recall on span-labelled JSONL")
    evaluate.add_argument("--data", type=Path, required=True, action="append")
    evaluate.add_argument("--config", type=Path)
    evaluate.add_argument("--baseline", choices=["none", "presidio"], default="none")
    evaluate.add_argument("--limit", type=int, default=0, help="first N records only (0: all)")
    evaluate.add_argument("--format", choices=["auto", "text", "json"], default="text")
    kanon = commands.add_parser(
        "kanon", help="k-anonymity (and l-diversity) of JSON or logfmt lines (counts only)"
    )
    kanon.add_argument(
        "--quasi", required=True, help="comma-separated field paths, e.g. user.age,user.zip"
    )
    kanon.add_argument("--k", type=int, default=5, help="smallest acceptable class (default 5)")
    kanon.add_argument("--sensitive", metavar="FIELD", help="l-diversity of this field's values")
    kanon.add_argument(  # not `--l`: the top-level parser reads it as --log-format/--log-level
        "--l-diversity", type=int, default=2, metavar="L",
        help="with --sensitive: least distinct values per class (default 2)",
    )  # fmt: skip
    kanon.add_argument(
        "--window-records", type=int, metavar="N", help="also a report per window of N lines"
    )
    kanon.add_argument("files", nargs="*", type=Path, help="JSONL files (default: stdin)")
    return parser


def _inputs(files: list[Path]) -> Iterator[BinaryIO]:
    """stdin, or each file in turn (open while it is read)."""
    if not files:
        # A reader of our own over fd 0: the thread blocked in it on Ctrl-C holds its lock,
        # and at exit Python would wait for the lock of `sys.stdin` and abort.
        yield open(sys.stdin.fileno(), "rb", closefd=False)  # noqa: SIM115
        return
    for path in files:
        with path.open("rb") as stream:
            yield stream


def _unreadable(paths: list[Path]) -> str | None:
    """`nope.log: No such file or directory` for the first input that cannot be read, checked
    before any work starts (without opening it: a FIFO would block)."""
    for path in paths:
        try:
            mode = path.stat().st_mode
        except OSError as exc:
            return f"{path}: {exc.strerror}"
        if stat.S_ISDIR(mode):
            return f"{path}: Is a directory"
        if not os.access(path, os.R_OK):
            return f"{path}: Permission denied"
    return None


class _Interrupts:
    """Ctrl-C (SIGINT) for the whole command, installed before anything heavy is imported.

    While polled (start-up: imports, config, the engine; and all of `scrub`) the handler only
    notes a Ctrl-C, and the command raises KeyboardInterrupt itself at its checkpoints. Raised
    by the handler at an arbitrary instruction, it is swallowed by any `__del__` the garbage
    collector happens to be running ("Exception ignored in"; regex's `SetBase.__del__` did it,
    and `scrub` then waited for input for ever), or turned into other errors by C extensions
    (pydantic-core reported a SchemaError). `scrub` reaches a checkpoint after each batch it
    writes and at least every 0.1 s while it waits for input or for its workers. Other
    commands go live after start-up: Ctrl-C is raised at once, as Python does.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._polled = True
        self._pending = False

    def _handle(self, _signum: int, _frame: FrameType | None) -> None:
        if self._polled:
            self._pending = True
            return
        raise KeyboardInterrupt

    def install(self) -> None:
        self._reset()  # a fresh start for each `main` in one process
        signal.signal(signal.SIGINT, self._handle)

    def checkpoint(self) -> None:
        if self._pending:
            self._pending = False
            raise KeyboardInterrupt

    def go_live(self) -> None:
        """Start-up is over: a Ctrl-C received meanwhile is raised now, later ones at once."""
        self._polled = False
        self.checkpoint()

    @contextmanager
    def polled(self) -> Iterator[None]:
        """Work during which Ctrl-C waits for a checkpoint (and for the end of the block)."""
        self._polled = True
        try:
            yield
        finally:
            self.go_live()


_INTERRUPTS = _Interrupts()


def _scrub(args: argparse.Namespace) -> int:
    """Exit 130 on Ctrl-C, after the batches already scrubbed are written out whole."""
    with _INTERRUPTS.polled():
        try:
            return _scrub_polled(args)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED


def _scrub_polled(args: argparse.Namespace) -> int:
    # Heavy imports (spaCy) only for commands that scrub.
    from connectors.stdio import batched
    from scrubber.config import load_config
    from scrubber.log import get_logger
    from scrubber.stream import preload, scrub_stream
    from scrubber.vault.recorder import scrubber_for

    log = get_logger("scrubber.scrub")
    started = time.monotonic()
    config = load_config(args.config)
    engine = scrubber_for(config) if args.workers <= 1 else None
    if engine is None:
        preload(config)  # the workers, forked later, share the model's memory
    _INTERRUPTS.checkpoint()
    log.info("engine_ready", config_hash=config.digest(), workers=args.workers,
             seconds=round(time.monotonic() - started, 3))  # fmt: skip
    out = sys.stdout.fileno()
    count = 0
    failed: list[OSError] = []  # the lines are read on another thread: its failure, for this one
    # One worker: batches are taken in this thread, which waits for input in `batched`. More:
    # a feeder thread takes them, and this one waits in `scrub_stream`.
    lines = _lines(args.files, config.limits.max_record_bytes, failed)
    idle = _INTERRUPTS.checkpoint if args.workers <= 1 else lambda: None
    batches = batched(lines, args.batch_size, args.max_wait_ms / 1000, idle)
    outputs = scrub_stream(
        batches, args.format, args.config, args.workers, engine,
        log=(args.log_format, args.log_level), while_waiting=_INTERRUPTS.checkpoint,
    )  # fmt: skip
    try:
        with closing(outputs):
            for output in outputs:
                for reason, size in output.quarantined:
                    log.warning("record_quarantined", reason=reason, size=size)
                _write_all(out, output.data)  # encoded by the worker: written as it is
                count += output.count
                _INTERRUPTS.checkpoint()  # only now: no batch is cut short
    except KeyboardInterrupt:
        log.warning("scrub_interrupted", line_count=count)
        raise
    if failed:
        raise failed[0]
    log.info("scrub_done", line_count=count, seconds=round(time.monotonic() - started, 3))
    return 0


def _write_all(fd: int, data: bytes) -> None:
    """Every byte, in as many writes as the pipe takes. Not through `sys.stdout.buffer`: when a
    signal interrupts its write and the handler returns, it can drop the rest (CPython 3.11)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _lines(files: list[Path], max_bytes: int, failed: list[OSError]) -> Iterator[Line]:
    from connectors.stdio import read_lines

    try:
        for stream in _inputs(files):
            yield from read_lines(stream, max_bytes)
    except OSError as exc:
        failed.append(exc)


def _run(args: argparse.Namespace) -> int:
    from scrubber.pipeline.runner import run

    return run(args.config, args.workers, args.metrics_port, args.log_format, args.log_level)


def _validate(args: argparse.Namespace) -> int:
    from scrubber.config import load_config
    from scrubber.vault.checks import check_startup

    config = load_config(args.file)
    check_startup(config)  # every check serve/run/scrub make at start-up, without connecting
    report: dict[str, object] = {"valid": True, "file": str(args.file)}
    report["config_hash"] = config.digest()
    if notes := config.recognizer_notes():  # honoured differently or ignored: said, not hidden
        report["notes"] = notes
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
    print(json.dumps(report))
    return 0


def _explain(args: argparse.Namespace) -> int:
    from scrubber.config import load_config
    from scrubber.engine import Scrubber
    from scrubber.engine.explain import explain, render_text
    from scrubber.operators import MemoryTokenSink

    with _INTERRUPTS.polled():
        # Tokens go to a sink in memory: explaining stores nothing in a vault.
        engine = Scrubber(load_config(args.config), token_sink=MemoryTokenSink())
    records = sys.stdin.read().splitlines() if args.record == "-" else [args.record]
    for record in records:
        explained = explain(engine, record, args.format)
        print(json.dumps(explained.as_dict()) if args.json else render_text(explained))
    return 0


def _import_recognizers(args: argparse.Namespace) -> int:
    """Exit 0 when everything was converted, 1 when something is left out (listed on stderr)."""
    import yaml

    from scrubber.config.presidio import read_registry

    conversion = read_registry(args.file)
    for note in conversion.notes:
        print(f"note: {note}", file=sys.stderr)
    for error in conversion.errors:
        print(f"not imported: {error}", file=sys.stderr)
    recognizers = {"recognizers": conversion.recognizers}
    print(yaml.safe_dump(recognizers, sort_keys=False, allow_unicode=True, width=100), end="")
    return 1 if conversion.errors else 0


def _eval(args: argparse.Namespace) -> int:
    from scrubber.config import load_config
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
    lines = (line.decode("utf-8", "replace") for stream in _inputs(args.files) for line in stream)
    try:
        report = k_anonymity(
            lines, quasi, args.k, sensitive=args.sensitive, l=args.l_diversity,
            window_records=args.window_records,
            on_window=lambda n, f: print(json.dumps({"window": n, **f.as_dict()})),
        )  # fmt: skip
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    print(json.dumps(report.as_dict()))
    return 0 if report.k_anonymous and not report.l_breached else 1


def main(argv: list[str] | None = None) -> int:
    _INTERRUPTS.install()
    try:
        return _main(argv)
    except KeyboardInterrupt:  # while starting up or working: exit 130, no traceback
        return EXIT_INTERRUPTED


def _main(argv: list[str] | None) -> int:
    from scrubber.api import serve
    from scrubber.errors import ConfigError, ScrubberError
    from scrubber.gateway import serve as gateway
    from scrubber.log import configure_logging
    from scrubber.vault import cli as vault_cli

    args = _build_parser().parse_args(argv)
    configure_logging(args.log_format, args.log_level)
    handlers = {
        "scrub": _scrub, "run": _run, "config": _validate, "eval": _eval, "kanon": _kanon,
        "recognizers": _import_recognizers, "explain": _explain,
    }  # fmt: skip
    handlers |= serve.HANDLERS | vault_cli.HANDLERS | gateway.HANDLERS
    # Input files (scrub, kanon, vault ...; eval's --data) are checked before any work starts.
    if problem := _unreadable([*getattr(args, "files", ()), *getattr(args, "data", ())]):
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        _INTERRUPTS.go_live()
        return handlers[args.command](args)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ScrubberError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except BrokenPipeError:
        return 0
    except OSError as exc:  # an input that went away or failed while it was read
        if exc.filename is None:
            raise
        print(f"error: {exc.filename}: {exc.strerror}", file=sys.stderr)
        return EXIT_CONFIG


if __name__ == "__main__":
    sys.exit(main())
