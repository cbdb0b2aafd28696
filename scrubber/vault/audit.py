"""The audit log: every reveal, access and erasure, allowed or denied, hash-chained.

Each record holds the hash of the one before it and its own hash over its canonical JSON, so
`verify` finds a record that was edited, deleted, inserted or moved. A head (last seq and hash)
is kept beside the chain and updated with it, so deleting the last records shows too; each
append also logs the new head, which an external log store can keep as an outside anchor.

Records hold actors, decisions, tokens and keyed digests of identifiers: never a value.
Homes: tables in the vault store (default), or a JSONL file with a `.head` file beside it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from scrubber.errors import VaultUnavailable
from scrubber.log import get_logger

GENESIS = "0" * 64
Action = Literal["restore", "access", "erase"]
# allowed: everything asked was done; partial: some tokens withheld; denied: nothing revealed;
# unauthenticated / forbidden: refused before any lookup.
Outcome = Literal["allowed", "partial", "denied", "unauthenticated", "forbidden"]

log = get_logger("scrubber.audit")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    actor: str  # the API key's name, or "anonymous"
    role: str
    action: Action
    outcome: Outcome
    via: Literal["http", "cli"]
    detail: dict[str, Any] = field(default_factory=dict)


class AuditStore(Protocol):
    def append_audit(self, build: Callable[[int, str | None], tuple[str, str]]) -> tuple[int, str]:
        """Atomically: read the head, build the next record after it, store both."""

    def audit_records(self) -> Iterator[tuple[int, str]]:
        """(position, record line) in chain order; position is the seq the store keeps."""

    def audit_head(self) -> tuple[int, str] | None: ...


def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def chain_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def seal_record(seq: int, prev: str, event: AuditEvent, ts: str) -> tuple[str, str]:
    """The record line and its hash."""
    body = {"seq": seq, "ts": ts, **asdict(event), "prev": prev}
    digest = chain_hash(body)
    return canonical({**body, "hash": digest}), digest


class AuditLog:
    def __init__(self, store: AuditStore, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self._clock = clock

    def append(self, event: AuditEvent) -> int:
        """Store the event before the caller acts on it; raises VaultUnavailable if it cannot."""
        ts = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="milliseconds")
        seq, digest = self.store.append_audit(
            lambda seq, prev: seal_record(seq, prev or GENESIS, event, ts)
        )
        log.info("audit_appended", seq=seq, hash=digest, action=event.action,
                 outcome=event.outcome, actor=event.actor)  # fmt: skip
        return seq


@dataclass(frozen=True, slots=True)
class VerifyReport:
    valid: bool
    records: int
    first_bad_seq: int | None = None
    problem: str | None = None


def verify(store: AuditStore) -> VerifyReport:
    """Walk the chain from the start; the first broken link is reported (by its position)."""
    prev, count = GENESIS, 0
    for position, line in store.audit_records():
        count += 1
        problem = _check(position, line, count, prev)
        if problem is not None:
            return VerifyReport(False, count, count, problem)
        prev = json.loads(line)["hash"]
    head = store.audit_head()
    if (head is None and count) or (head is not None and head != (count, prev)):
        told = "no head" if head is None else f"a head at seq {head[0]}"
        return VerifyReport(
            False, count, count + 1,
            f"the chain ends at seq {count} but the store has {told} "
            "(records deleted at the end, or the head was changed)",
        )  # fmt: skip
    return VerifyReport(True, count)


def _check(position: int, line: str, expected_seq: int, prev: str) -> str | None:
    try:
        record = json.loads(line)
    except ValueError:
        return "not valid JSON (edited)"
    if not isinstance(record, dict) or not isinstance(record.get("hash"), str):
        return "not an audit record (edited)"
    if record.get("seq") != expected_seq or position != expected_seq:
        return f"found seq {record.get('seq')} where seq {expected_seq} belongs (deleted or moved)"
    if record.get("prev") != prev:
        return "does not follow the record before it (a record was deleted, inserted or moved)"
    body = {key: value for key, value in record.items() if key != "hash"}
    if chain_hash(body) != record["hash"]:
        return "its hash does not match its content (edited)"
    return None


class JsonlAuditStore:
    """The chain as one JSON line per record, the head in `<file>.head`, an flock for writers."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.head_path = path.with_name(path.name + ".head")
        self._lock_path = path.with_name(path.name + ".lock")

    def append_audit(self, build: Callable[[int, str | None], tuple[str, str]]) -> tuple[int, str]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock_path.open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                head = self.audit_head()
                if head is not None and head[0] < 0:
                    raise VaultUnavailable(f"audit head {self.head_path} is unreadable")
                seq = 1 if head is None else head[0] + 1
                record, digest = build(seq, None if head is None else head[1])
                with self.path.open("a", encoding="utf-8") as out:
                    out.write(record + "\n")
                    out.flush()
                    os.fsync(out.fileno())
                staged = self.head_path.with_name(self.head_path.name + ".tmp")
                staged.write_text(json.dumps({"seq": seq, "hash": digest}), encoding="utf-8")
                os.replace(staged, self.head_path)
                return seq, digest
        except OSError as exc:
            raise VaultUnavailable(
                f"audit log {self.path} is not writable ({exc.strerror})"
            ) from None

    def audit_records(self) -> Iterator[tuple[int, str]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as lines:
            for number, line in enumerate(lines, start=1):
                yield number, line.rstrip("\n")

    def audit_head(self) -> tuple[int, str] | None:
        try:
            head = json.loads(self.head_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return (-1, "unreadable")
        return int(head["seq"]), str(head["hash"])
