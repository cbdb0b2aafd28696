"""The audit log: every reveal, access and erasure, allowed or denied, in a keyed chain.

Each record holds the previous record's hash and its own, HMAC-SHA256 under the audit key (held
apart from the store); a head (last seq, hash) is kept beside the chain (vault store tables, or a
JSONL file and its `.head`), and each append signs a checkpoint of it into the anchor (an
append-only file apart from the store). The next append repairs a crash's leftovers from the
verified chain and records the repair. Records never hold a value. See docs/vault.md "Audit log".
"""

from __future__ import annotations

import fcntl
import hmac
import json
import os
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from scrubber.config import AuditConfig, VaultConfig, read_secret
from scrubber.errors import ConfigError, VaultUnavailable
from scrubber.log import get_logger

GENESIS = "0" * 64
Action = Literal["restore", "access", "erase", "recover"]
# allowed: everything asked was done; partial: some tokens withheld; denied: nothing revealed;
# unauthenticated / forbidden: refused before any lookup.
Outcome = Literal["allowed", "partial", "denied", "unauthenticated", "forbidden"]
Head = tuple[int, str]  # seq, hash
Sealed = tuple[int, str, str]  # seq, record line, its hash
# A client address or request id is kept only if a short plain label (no value may ride in it).
_LABEL = re.compile(r"[A-Za-z0-9._:%\[\]-]{0,128}")
_BLOCK = 65536  # bytes read at a time backwards from the end of a file
_ANCHOR_TAIL = 4096  # the newest checkpoint is among the anchor's last ~24 lines

log = get_logger("scrubber.audit")


@dataclass(frozen=True, slots=True)
class AuditEvent:
    actor: str  # the API key's name, or "anonymous"
    role: str
    action: Action
    outcome: Outcome
    via: Literal["http", "cli"]
    detail: dict[str, Any] = field(default_factory=dict)
    client: str = ""  # the caller's address (HTTP), or where the CLI ran
    request_id: str = ""

    def __post_init__(self) -> None:
        for name in ("client", "request_id"):
            if not _LABEL.fullmatch(getattr(self, name)):
                object.__setattr__(self, name, "(invalid)")


@dataclass(frozen=True, slots=True)
class ChainState:  # what an append sees under the store's lock, before it writes
    head: Head | None  # None: no head, or one that cannot be read
    last: str | None  # the last complete record line
    torn: int  # bytes of a torn last line the store has just cut away (JSONL)
    records: Callable[[], Iterator[tuple[int, str]]]  # the whole chain, for a recovery


class AuditStore(Protocol):
    def append_audit(self, build: Callable[[ChainState], list[Sealed]]) -> list[Sealed]:
        """Under every writer's lock: read the state, build what follows, store it, move head."""

    def audit_records(self) -> Iterator[tuple[int, str]]:
        """(position, record line) of every complete record, in chain order."""

    def audit_head(self) -> Head | None: ...


def checked_head(seq: object, digest: object) -> Head | None:
    """A stored head; None if it is not a seq and a hash (unreadable: a recovery rebuilds it)."""
    if type(seq) is int and seq > 0 and isinstance(digest, str) and len(digest) == len(GENESIS):
        return seq, digest
    return None


def canonical(document: dict[str, Any]) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _same(expected: str, given: object) -> bool:
    found = given.encode("utf-8", "surrogatepass") if isinstance(given, str) else b""
    return hmac.compare_digest(expected.encode(), found)


def mac(key: bytes, use: Literal["chain", "anchor"], body: dict[str, Any]) -> str:
    """HMAC-SHA256 of a record ("chain") or a checkpoint ("anchor") under a subkey of the audit
    key: one key, two uses kept apart."""
    subkey = hmac.digest(key, f"scrubber audit {use} v1".encode(), "sha256")
    return hmac.new(subkey, canonical(body).encode(), "sha256").hexdigest()


def seal_record(seq: int, prev: str, event: AuditEvent, ts: str, key: bytes) -> tuple[str, str]:
    """The record line and its hash."""
    body = {"seq": seq, "ts": ts, **asdict(event), "prev": prev}
    digest = mac(key, "chain", body)
    return canonical({**body, "hash": digest}), digest


@dataclass
class Broken(Exception):  # a check that failed, raised or returned
    check: str  # format, hmac, seq, prev, head, anchor_signature, anchor_checkpoint
    text: str  # names seqs and line numbers, never a value
    seq: int | None = None  # the first affected seq (None: an anchor line)


@dataclass(frozen=True, slots=True)
class Anchor:
    """Signed checkpoints of the head, one JSON line each (`seq`, `hash`, `ts`, `sig`), appended
    and fsync'd to a file that lives apart from the store and takes appends only."""

    path: Path
    key: bytes = field(repr=False)

    def append(self, seq: int, digest: str, ts: str) -> None:
        body = {"seq": seq, "hash": digest, "ts": ts}
        line = (canonical({**body, "sig": mac(self.key, "anchor", body)}) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            with self.path.open("a+b") as out:  # O_APPEND: `chattr +a` allows it
                fcntl.flock(out, fcntl.LOCK_EX)
                size = out.seek(0, os.SEEK_END)
                if size and os.pread(out.fileno(), 1, size - 1) != b"\n":
                    line = b"\n" + line  # after a torn write: its fragment stays a line apart
                out.write(line)
                out.flush()
                os.fsync(out.fileno())
            if created:
                _fsync_dir(self.path.parent)
        except OSError as exc:
            raise VaultUnavailable(f"audit anchor {self.path} is not writable "
                                   f"({exc.strerror})") from None  # fmt: skip

    def read(self, raw: bytes) -> Head | Literal[False] | None:
        """The checkpoint on a line; False if the audit key did not sign it; None for a line that
        is not JSON (a torn write), which claims nothing."""
        try:
            point = json.loads(raw)
        except ValueError:
            return None
        try:
            body = {name: point[name] for name in ("seq", "hash", "ts")}
            signed = _same(mac(self.key, "anchor", body), point["sig"]) and len(point) == 4
        except (TypeError, KeyError):
            return False
        return (body["seq"], body["hash"]) if signed else False

    def checkpoints(self) -> list[Head] | None:
        """Every signed checkpoint (None: no anchor file); raises on a line the key did not sign."""
        if not self.path.exists():
            return None
        with self.path.open("rb") as lines:
            points = [(number, self.read(raw)) for number, raw in enumerate(lines, start=1)]
        if forged := next((number for number, point in points if point is False), None):
            raise Broken("anchor_signature", f"anchor line {forged} is not signed by the audit "
                         "key (forged or edited)")  # fmt: skip
        return [point for _, point in points if point]

    def latest(self) -> Head | None:
        """The highest signed checkpoint of the last lines (racing writers reorder only a few)."""
        if not self.path.exists():
            return None
        with self.path.open("rb") as anchor:
            size = anchor.seek(0, os.SEEK_END)
            anchor.seek(max(0, size - _ANCHOR_TAIL))
            lines = anchor.read().split(b"\n")[1 if size > _ANCHOR_TAIL else 0 : -1]
        return max((point for point in map(self.read, lines) if point), default=None)


@dataclass(slots=True)
class _Walk:
    count: int = 0
    last: str = GENESIS
    at: dict[int, str] = field(default_factory=dict)  # hashes at the seqs asked for
    broken: Broken | None = None


def _walk(records: Iterable[tuple[int, str]], key: bytes, want: Collection[int]) -> _Walk:
    """Follow the chain from the start to its end, or to its first broken link."""
    walk = _Walk()
    for position, line in records:
        seq = walk.count + 1
        try:
            record = _sealed(line, key)
            if record.get("seq") != seq or position != seq:
                raise Broken("seq", f"another record stands where seq {seq} belongs (deleted "
                             "or moved)")  # fmt: skip
            if record.get("prev") != walk.last:
                raise Broken("prev", "does not follow the record before it (a record was "
                             "deleted, inserted or moved)")  # fmt: skip
        except Broken as broken:
            broken.seq, walk.broken = seq, broken
            return walk
        walk.count, walk.last = seq, record["hash"]
        if seq in want:
            walk.at[seq] = walk.last
    return walk


def _sealed(line: str, key: bytes) -> dict[str, Any]:
    """The record on a line, if its hash is the audit key's HMAC of its content."""
    try:
        record = json.loads(line)
    except ValueError:
        raise Broken("format", "not valid JSON (edited)") from None
    if not isinstance(record, dict) or not isinstance(record.get("hash"), str):
        raise Broken("format", "not an audit record (edited)")
    body = {name: value for name, value in record.items() if name != "hash"}
    if not _same(mac(key, "chain", body), record["hash"]):
        raise Broken("hmac", "its hash is not the audit key's HMAC of its content (edited, "
                     "rehashed without the key, or written under another key)")  # fmt: skip
    return record


def _off_chain(head: Head | None, points: Iterable[Head], walk: _Walk) -> Broken | None:
    """The head and every signed checkpoint must be points on the chain (no head: a repair)."""
    marks = [] if head is None else [("head", "the head", head)]
    marks += [("anchor_checkpoint", "a signed anchor checkpoint", p) for p in sorted(points)]
    for check, what, (seq, digest) in marks:
        if seq > walk.count:
            return Broken(check, f"the chain ends at seq {walk.count} but {what} is at seq "
                          f"{seq} (records deleted at the end, or the log wiped)",
                          walk.count + 1)  # fmt: skip
        if walk.at.get(seq) != digest:
            return Broken(check, f"{what} does not match the record at seq {seq} (changed, or "
                          "the chain rewritten from there)", seq)  # fmt: skip
    return None


@dataclass(frozen=True, slots=True)
class VerifyReport:
    valid: bool
    records: int
    first_bad_seq: int | None = None
    problem: str | None = None
    check: str | None = None  # the check that failed (see `Broken`)
    anchor_seq: int | None = None  # the highest seq the anchor vouches for; None: no anchor read
    repair: str | None = None  # a crash's leftovers (the chain is intact): the next append repairs


def verify(store: AuditStore, key: bytes, anchor: Path | None = None) -> VerifyReport:
    """Walk the chain from the start under the key; check the head and every anchor checkpoint
    against it. Read-only: a crash's leftovers are reported under `repair`, not repaired."""
    try:
        # Anchor, then head, then records: each is written after the next, so a writer running
        # beside this never shows an anchor or a head ahead of the chain.
        points = None if anchor is None else Anchor(anchor, key).checkpoints()
        head = store.audit_head()
        want = {seq for seq, _ in points or ()} | ({head[0]} if head else set())
        walk = _walk(store.audit_records(), key, want)
    except Broken as broken:
        return VerifyReport(False, 0, broken.seq, broken.text, broken.check)
    except OSError as exc:
        raise VaultUnavailable(f"audit log cannot be read ({exc.strerror})") from None
    problem = walk.broken or _off_chain(head, points or (), walk)
    if problem is None and anchor is not None and not points and walk.count:
        problem = Broken("anchor_checkpoint", f"the chain has {walk.count} records but the "
                         "anchor holds no checkpoint (deleted or emptied)", 1)  # fmt: skip
    if problem is not None:  # records: those read, the broken one included
        read = walk.count + 1 if walk.broken else walk.count
        return VerifyReport(False, read, problem.seq, problem.text, problem.check)
    anchored = None if anchor is None else max((seq for seq, _ in points or ()), default=0)
    repair = None
    if behind := walk.count - (head[0] if head else 0):  # the chain intact: a crash's leftover
        repair = (f"the head is {behind} records behind the chain (lost, unreadable, or a "
                  "crash between record and head): the next append repairs it")  # fmt: skip
    return VerifyReport(True, walk.count, anchor_seq=anchored, repair=repair)


class AuditLog:
    def __init__(self, store: AuditStore, key: bytes, anchor: Path | None = None,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.store = store
        self._key = key
        self.anchor = None if anchor is None else Anchor(anchor, key)
        self._clock = clock

    def append(self, event: AuditEvent) -> int:
        """Store the event before the caller acts on it; raises VaultUnavailable if it cannot."""
        ts = datetime.fromtimestamp(self._clock(), UTC).isoformat(timespec="milliseconds")
        repaired: list[dict[str, Any]] = []
        sealed = self.store.append_audit(lambda state: self._follow(state, event, ts, repaired))
        seq, _, digest = sealed[-1]
        for repair in repaired:
            log.warning("audit_recovered", **repair)
        if self.anchor is not None:
            self.anchor.append(seq, digest, ts)
        log.info("audit_appended", seq=seq, hash=digest, action=event.action,
                 outcome=event.outcome, actor=event.actor)  # fmt: skip
        return seq

    def verify(self) -> VerifyReport:
        return verify(self.store, self._key, None if self.anchor is None else self.anchor.path)

    def _follow(
        self, state: ChainState, event: AuditEvent, ts: str, repaired: list[dict[str, Any]]
    ) -> list[Sealed]:
        (seq, prev), repair = self._vouch(state)
        repaired[:] = [] if repair is None else [repair]
        events = [AuditEvent("scrubber", "", "recover", "allowed", event.via, r) for r in repaired]
        sealed = []
        for number, item in enumerate([*events, event], start=seq + 1):
            line, prev = seal_record(number, prev, item, ts, self._key)
            sealed.append((number, line, prev))
        return sealed

    def _vouch(self, state: ChainState) -> tuple[Head, dict[str, Any] | None]:
        """The point to chain onto, and what was repaired to find it (None: nothing). Cheap when
        the head is the last record, sealed, and no anchor checkpoint is beyond it."""
        anchored = None if self.anchor is None else self.anchor.latest()
        head, end = state.head, (0, GENESIS)
        if head is not None and (anchored is None or anchored[0] < head[0] or anchored == head):
            end = head if self._last_is(state.last, head) else self._recover(state, anchored)
        elif head is not None or state.last is not None or anchored is not None:
            end = self._recover(state, anchored)
        if end == (head or (0, GENESIS)) and not state.torn:
            return end, None
        shown = "ok" if end == head else "lost" if head is None else "behind"
        return end, {"torn_bytes": state.torn, "head": shown, "chain_seq": end[0]}

    def _last_is(self, line: str | None, head: Head) -> bool:
        try:
            record = {} if line is None else _sealed(line, self._key)
        except Broken:
            return False
        return (record.get("seq"), record.get("hash")) == head

    def _recover(self, state: ChainState, anchored: Head | None) -> Head:
        """The end of the whole chain, verified, if the head and the anchor lie on it."""
        points = [] if anchored is None else [anchored]
        want = {seq for seq, _ in points} | ({state.head[0]} if state.head else set())
        walk = _walk(state.records(), self._key, want)
        if (problem := walk.broken or _off_chain(state.head, points, walk)) is not None:
            log.error("audit_chain_refused", check=problem.check, seq=problem.seq)
            raise VaultUnavailable(f"the audit chain cannot be extended at seq {problem.seq}: "
                                   f"{problem.text} (run `scrubber audit verify`)")  # fmt: skip
        return walk.count, walk.last


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _line_start(fd: int, end: int) -> int:
    """Where the line that ends at `end` starts: just after the newline before it (or 0)."""
    while end > 0:
        start = max(0, end - _BLOCK)
        found = os.pread(fd, end - start, start).rfind(b"\n")
        if found >= 0:
            return start + found + 1
        end = start
    return 0


class JsonlAuditStore:
    """The chain as one JSON line per record, the head in `<file>.head`, an flock for writers.
    Records and head are fsync'd (the head's directory too, after its rename)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.head_path = path.with_name(path.name + ".head")
        self._lock_path = path.with_name(path.name + ".lock")

    def append_audit(self, build: Callable[[ChainState], list[Sealed]]) -> list[Sealed]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._lock_path.open("a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                created = not self.path.exists()
                with self.path.open("a+b") as out:
                    sealed = self._append(out, build)
                if created:
                    _fsync_dir(self.path.parent)
                self._write_head(sealed[-1])
                return sealed
        except OSError as exc:
            raise VaultUnavailable(f"audit log {self.path} is not writable "
                                   f"({exc.strerror})") from None  # fmt: skip

    def _append(self, out: Any, build: Callable[[ChainState], list[Sealed]]) -> list[Sealed]:
        size = out.seek(0, os.SEEK_END)
        end = _line_start(out.fileno(), size)
        if end < size:  # a crash mid-write left a fragment: never a record, cut it away
            out.truncate(end)
            os.fsync(out.fileno())
        start = _line_start(out.fileno(), end - 1) if end else 0
        last = os.pread(out.fileno(), max(0, end - 1 - start), start).decode("utf-8", "replace")
        state = ChainState(self.audit_head(), last if end else None, size - end, self.audit_records)
        sealed = build(state)
        out.write("".join(line + "\n" for _, line, _ in sealed).encode())
        out.flush()
        os.fsync(out.fileno())
        return sealed

    def _write_head(self, sealed: Sealed) -> None:
        staged = self.head_path.with_name(self.head_path.name + ".tmp")
        with staged.open("w", encoding="utf-8") as out:
            out.write(json.dumps({"seq": sealed[0], "hash": sealed[2]}))
            out.flush()
            os.fsync(out.fileno())
        os.replace(staged, self.head_path)
        _fsync_dir(self.head_path.parent)

    def audit_records(self) -> Iterator[tuple[int, str]]:
        if not self.path.exists():
            return
        with self.path.open("rb") as lines:
            for number, raw in enumerate(lines, start=1):
                if raw.endswith(b"\n"):  # a last line without one is torn: not a record
                    yield number, raw[:-1].decode("utf-8", "replace")

    def audit_head(self) -> Head | None:
        try:
            head = dict(json.loads(self.head_path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError):
            return None  # unreadable: the next append re-derives it
        return checked_head(head.get("seq"), head.get("hash"))


def audit_key(config: AuditConfig, environ: Mapping[str, str] | None = None) -> bytes:
    """The audit key's bytes. Without one there is no audit log to write or verify: fail closed."""
    if config.key is None:
        raise ConfigError(str(config.refusal()))
    return read_secret("vault.audit.key", config.key, environ)


def open_audit_log(config: VaultConfig, store: AuditStore,
                   environ: Mapping[str, str] | None = None) -> AuditLog:  # fmt: skip
    """The audit log a vault config names: home (`audit_log`, else the store), key, anchor."""
    home = store if config.audit_log is None else JsonlAuditStore(config.audit_log)
    if config.audit.anchor is None:
        log.warning("audit_unanchored")  # a cut with the head rewound, or a wipe, goes unseen
    return AuditLog(home, audit_key(config.audit, environ), config.audit.anchor)
