"""The hash-chained audit log: `verify` passes on an intact chain and fails after any single
record is edited, deleted or swapped, in both homes (SQLite tables and a JSONL file)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from scrubber.vault.audit import GENESIS, AuditEvent, AuditLog, AuditStore, JsonlAuditStore, verify
from scrubber.vault.store import SqlStore

Tamper = Callable[[Path], None]


def event(n: int) -> AuditEvent:
    return AuditEvent(f"key-{n}", "support", "restore", "allowed", "http",
                      {"tokens": {f"<EMAIL_ADDRESS_V1_{n:016x}>": "revealed"}})  # fmt: skip


def filled(kind: str, tmp_path: Path, count: int = 5) -> tuple[AuditStore, Path]:
    store: AuditStore
    if kind == "sqlite":
        path = tmp_path / "vault.db"
        store = SqlStore.sqlite(path)
    else:
        path = tmp_path / "audit.jsonl"
        store = JsonlAuditStore(path)
    log = AuditLog(store, clock=lambda: 1_800_000_000.0)
    for n in range(1, count + 1):
        assert log.append(event(n)) == n
    return store, path


# ---------------------------------------------------------------- tampering, per home


def _sql(path: Path, *statements: str) -> None:
    with sqlite3.connect(path) as conn:
        for statement in statements:
            conn.execute(statement)


def _edit_sql(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        record = json.loads(
            conn.execute("SELECT record FROM scrubber_audit WHERE seq=3").fetchone()[0]
        )
        record["outcome"] = "denied"
        conn.execute("UPDATE scrubber_audit SET record=? WHERE seq=3", (json.dumps(record),))


def _swap_sql(path: Path) -> None:
    _sql(
        path,
        "UPDATE scrubber_audit SET seq=-2 WHERE seq=2",
        "UPDATE scrubber_audit SET seq=2 WHERE seq=3",
        "UPDATE scrubber_audit SET seq=3 WHERE seq=-2",
    )


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines))


def _edit_jsonl(path: Path) -> None:
    lines = _lines(path)
    lines[2] = lines[2].replace('"actor":"key-3"', '"actor":"key-9"')
    _write(path, lines)


def _delete_jsonl(index: int) -> Tamper:
    def tamper(path: Path) -> None:
        lines = _lines(path)
        del lines[index]
        _write(path, lines)

    return tamper


def _swap_jsonl(path: Path) -> None:
    lines = _lines(path)
    lines[1], lines[2] = lines[2], lines[1]
    _write(path, lines)


TAMPERING: dict[str, list[tuple[str, Tamper, int]]] = {
    "sqlite": [
        ("edited", _edit_sql, 3),
        ("deleted in the middle", lambda p: _sql(p, "DELETE FROM scrubber_audit WHERE seq=2"), 2),
        ("deleted at the end", lambda p: _sql(p, "DELETE FROM scrubber_audit WHERE seq=5"), 5),
        ("deleted at the start", lambda p: _sql(p, "DELETE FROM scrubber_audit WHERE seq=1"), 1),
        ("swapped", _swap_sql, 2),
        ("head rewound", lambda p: _sql(p, "UPDATE scrubber_audit_head SET seq=4"), 6),
    ],
    "jsonl": [
        ("edited", _edit_jsonl, 3),
        ("deleted in the middle", _delete_jsonl(1), 2),
        ("deleted at the end", _delete_jsonl(4), 5),
        ("deleted at the start", _delete_jsonl(0), 1),
        ("swapped", _swap_jsonl, 2),
        ("head removed", lambda p: p.with_name(p.name + ".head").unlink(), 6),
    ],
}
CASES = [(kind, *case) for kind, cases in TAMPERING.items() for case in cases]


@pytest.mark.parametrize("kind", ["sqlite", "jsonl"])
def test_an_intact_chain_verifies(kind: str, tmp_path: Path) -> None:
    store, _ = filled(kind, tmp_path)
    report = verify(store)
    assert report.valid and report.records == 5 and report.problem is None
    first = json.loads(next(iter(store.audit_records()))[1])
    assert first["prev"] == GENESIS and first["seq"] == 1


@pytest.mark.parametrize(("kind", "what", "tamper", "first_bad"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])  # fmt: skip
def test_verify_fails_after_any_single_record_is_changed(
    kind: str, what: str, tamper: Tamper, first_bad: int, tmp_path: Path
) -> None:
    store, path = filled(kind, tmp_path)
    tamper(path)
    report = verify(store)
    assert not report.valid, what
    assert report.first_bad_seq == first_bad, report
    assert report.problem


def test_an_empty_log_verifies_and_a_chain_survives_reopening(tmp_path: Path) -> None:
    assert verify(SqlStore.sqlite(tmp_path / "empty.db")).valid
    store, path = filled("sqlite", tmp_path, 2)
    AuditLog(SqlStore.sqlite(path)).append(event(3))  # another process, same file
    report = verify(store)
    assert report.valid and report.records == 3


@pytest.mark.parametrize("kind", ["sqlite", "jsonl"])
def test_concurrent_writers_keep_one_chain(kind: str, tmp_path: Path) -> None:
    """Writers on separate connections (as separate processes would be) queue on the lock."""
    path = tmp_path / ("vault.db" if kind == "sqlite" else "audit.jsonl")

    def writer(start: int) -> None:
        store = SqlStore.sqlite(path) if kind == "sqlite" else JsonlAuditStore(path)
        log = AuditLog(store)
        for n in range(start, start + 25):
            log.append(event(n))

    threads = [threading.Thread(target=writer, args=(i * 100,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store = SqlStore.sqlite(path) if kind == "sqlite" else JsonlAuditStore(path)
    report = verify(store)
    assert report.valid and report.records == 100, report


def test_records_have_a_fixed_shape(tmp_path: Path) -> None:
    _, path = filled("jsonl", tmp_path, 1)
    record = json.loads(_lines(path)[0])
    assert set(record) == {"seq", "ts", "actor", "role", "action", "outcome", "via", "detail",
                           "prev", "hash"}  # fmt: skip
    assert record["ts"] == "2027-01-15T08:00:00.000+00:00"
