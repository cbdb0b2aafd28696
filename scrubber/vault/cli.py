"""`scrubber vault access|erase|restore | audit verify`: the vault's commands.

`register` adds them to the main parser; `HANDLERS` maps each command to its function. The CLI
twins go through the same Gatekeeper as the HTTP API (`scrubber serve`): an API key (from an
environment variable, never an argument that `ps` would show), a role, and an audit record for
every decision. Identifiers and texts are read from files or stdin, never from the command line,
for the same reason.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from scrubber.config import Config, load_config
from scrubber.errors import ConfigError
from scrubber.log import get_logger

log = get_logger("scrubber.vault_cli")
RESTORE_BATCH = 1000  # lines per restore call (and per audit record)


def register(commands: Any) -> None:
    """Add `vault` and `audit` to the `scrubber` subcommands."""
    vault = commands.add_parser("vault", help="reveal tokens and serve subject rights")
    actions = vault.add_subparsers(dest="vault_command", required=True)
    for name, text in (
        ("restore", "restore the tokens in lines of text your role may reveal"),
        ("access", "list the tokens of identifiers (one per line): for a subject access request"),
        ("erase", "delete the vault rows of identifiers (one per line): for an erasure request"),
    ):
        action = actions.add_parser(name, help=text)
        action.add_argument("--config", type=Path, required=True)
        action.add_argument(
            "--api-key-env", default="SCRUBBER_API_KEY", help="environment variable with the key"
        )
        action.add_argument("files", nargs="*", type=Path, help="input files (default: stdin)")
    rotate = actions.add_parser("rotate", help="a new encryption key version (and token MAC)")
    rotate.add_argument("--config", type=Path, required=True)
    rotate.add_argument("--new-key-file", type=Path, required=True, help="written, mode 0600")

    audit = commands.add_parser("audit", help="the audit log")
    audit_actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = audit_actions.add_parser(
        "verify", help="check the keyed chain, its head and its anchor; exit 1 if broken"
    )
    where = verify.add_mutually_exclusive_group(required=True)
    where.add_argument(
        "--config", type=Path, help="the audit log, key and anchor this config names"
    )
    where.add_argument("--jsonl", type=Path, help="a JSONL audit log file")
    verify.add_argument(
        "--key-env",
        help=f"environment variable with the audit key (default: the config's vault.audit.key; "
        f"with --jsonl, {AUDIT_KEY_ENV})",
    )
    verify.add_argument(
        "--anchor", type=Path, help="the anchor file (default: the config's vault.audit.anchor)"
    )


def _lines(files: list[Path]) -> Iterator[str]:
    if not files:
        yield from (line.rstrip("\n") for line in sys.stdin)
        return
    for path in files:
        with path.open(encoding="utf-8") as handle:
            yield from (line.rstrip("\n") for line in handle)


def _gatekeeper_and_caller(args: argparse.Namespace) -> tuple[Any, Any]:
    from scrubber.vault.access import open_gatekeeper

    gatekeeper = open_gatekeeper(load_config(args.config))
    return gatekeeper, gatekeeper.access.authenticate(os.environ.get(args.api_key_env))


def _restore(args: argparse.Namespace) -> int:
    gatekeeper, caller = _gatekeeper_and_caller(args)
    batch: list[str] = []
    counts: dict[str, int] = {}

    def flush() -> None:
        done = gatekeeper.restore(caller, batch, "cli")
        sys.stdout.write("".join(line + "\n" for line in done.texts))
        sys.stdout.flush()
        for status in done.statuses.values():
            counts[status.value] = counts.get(status.value, 0) + 1
        batch.clear()

    for line in _lines(args.files):
        batch.append(line)
        if len(batch) >= RESTORE_BATCH:
            flush()
    if batch:
        flush()
    log.info("restore_done", **{f"tokens_{k}": v for k, v in sorted(counts.items())})
    return 0


def _subjects(args: argparse.Namespace) -> int:
    gatekeeper, caller = _gatekeeper_and_caller(args)
    identifiers = [line.strip() for line in _lines(args.files) if line.strip()]
    if not identifiers:
        raise ConfigError("no identifiers given (one per line, in files or on stdin)")
    if args.vault_command == "access":
        found = gatekeeper.access_subjects(caller, identifiers, "cli")
    else:
        found = gatekeeper.erase_subjects(caller, identifiers, "cli")
    subjects = [
        {"index": i, "tokens": [{"token": r.token, "type": r.entity_type} for r in rows]}
        for i, rows in enumerate(found)
    ]
    report: dict[str, Any] = {"subjects": subjects}
    if args.vault_command == "erase":
        report["erased"] = sum(len(rows) for rows in found)
    print(json.dumps(report, indent=2))
    return 0


def _vault(args: argparse.Namespace) -> int:
    if args.vault_command == "rotate":
        from scrubber.vault.rotate import print_rotation

        return print_rotation(load_config(args.config), args.new_key_file)
    return _restore(args) if args.vault_command == "restore" else _subjects(args)


def audit_store(config: Config) -> Any:
    """The audit log a config names, opened without any key but the store's DSN."""
    from scrubber.vault.audit import JsonlAuditStore
    from scrubber.vault.store import open_store

    if config.vault is None:
        raise ConfigError("there is no `vault:` section, so there is no audit log")
    if config.vault.audit_log is not None:
        return JsonlAuditStore(config.vault.audit_log)
    return open_store(config.vault)


AUDIT_KEY_ENV = "SCRUBBER_AUDIT_KEY"  # `audit verify --jsonl` reads the audit key from here


def _audit(args: argparse.Namespace) -> int:
    """Verify needs the audit key: without it nobody can tell a true chain from a rehashed one."""
    from scrubber.config import SecretSource, read_secret
    from scrubber.vault.audit import JsonlAuditStore, audit_key, verify

    def key_from_env(name: str) -> bytes:
        return read_secret("--key-env", SecretSource(env=name))

    if args.jsonl is not None:
        store, anchor = JsonlAuditStore(args.jsonl), None
        key = key_from_env(args.key_env or AUDIT_KEY_ENV)
    else:
        config = load_config(args.config)
        store = audit_store(config)
        assert config.vault is not None  # audit_store refuses a config without one
        anchor = config.vault.audit.anchor
        key = key_from_env(args.key_env) if args.key_env else audit_key(config.vault.audit)
    report = verify(store, key, args.anchor or anchor)
    print(json.dumps(asdict(report)))
    return 0 if report.valid else 1


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "vault": _vault,
    "audit": _audit,
}
