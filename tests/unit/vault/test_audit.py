"""The keyed audit chain and its anchor, in both homes (SQLite tables and a JSONL file).

`verify` passes on an intact chain and fails after any single record is edited, deleted or
swapped; each attack an attacker with write access to the store (but not the audit key, nor the
append-only anchor) can make is caught; a crash's leftovers are repaired by the next append."""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from scrubber.config import AuditConfig, VaultConfig
from scrubber.errors import ConfigError, KeyMaterialError, VaultUnavailable
from scrubber.vault import cli as vault_cli
from scrubber.vault.audit import (
    GENESIS,
    AuditEvent,
    AuditLog,
    AuditStore,
    JsonlAuditStore,
    VerifyReport,
    audit_key,
    canonical,
    mac,
    open_audit_log,
    verify,
)
from scrubber.vault.store import SqlStore
from tests.keys import key

KEY = key("audit").encode()
WRONG_KEY = key("another audit").encode()
KINDS = ["sqlite", "jsonl"]
Tamper = Callable[[Path], None]


def event(n: int, actor: str = "") -> AuditEvent:
    return AuditEvent(actor or f"key-{n}", "support", "restore", "allowed", "http",
                      {"tokens": {f"<EMAIL_ADDRESS_V1_{n:016x}>": "revealed"}})  # fmt: skip


class Home:
    """One home of the chain, read and rewritten behind the audit log's back (the attacker)."""

    def __init__(self, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.path = tmp_path / ("vault.db" if kind == "sqlite" else "audit.jsonl")
        self.head_path = self.path.with_name(self.path.name + ".head")
        self.anchor = tmp_path / "anchor" / "audit.anchor"

    def store(self) -> AuditStore:
        return SqlStore.sqlite(self.path) if self.kind == "sqlite" else JsonlAuditStore(self.path)

    def log(self, anchor: bool = True) -> AuditLog:
        return AuditLog(self.store(), KEY, self.anchor if anchor else None,
                        clock=lambda: 1_800_000_000.0)  # fmt: skip

    def verify(self, anchor: bool = True) -> VerifyReport:
        return verify(self.store(), KEY, self.anchor if anchor else None)

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for _, line in self.store().audit_records()]

    def rewrite(self, records: list[dict[str, Any]], head: dict[str, Any] | None) -> None:
        """Replace every record and the head (None: no head)."""
        lines = [canonical(record) for record in records]
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as conn:
                conn.execute("DELETE FROM scrubber_audit")
                conn.executemany("INSERT INTO scrubber_audit (seq, record) VALUES (?, ?)",
                                 [(r["seq"], line) for r, line in zip(records, lines, strict=True)])  # fmt: skip
        else:
            self.path.write_text("".join(line + "\n" for line in lines))
        self.set_head(head)

    def set_head(self, head: dict[str, Any] | str | None) -> None:
        """A head as {seq, hash}, raw text (JSONL) or None (removed)."""
        if self.kind == "sqlite":
            with sqlite3.connect(self.path) as conn:
                conn.execute("DELETE FROM scrubber_audit_head")
                if head is not None:
                    seq, digest = (
                        (0, head) if isinstance(head, str) else (head["seq"], head["hash"])
                    )
                    conn.execute("INSERT INTO scrubber_audit_head VALUES (1, ?, ?)", (seq, digest))
        elif head is None:
            self.head_path.unlink(missing_ok=True)
        else:
            self.head_path.write_text(head if isinstance(head, str) else json.dumps(head))


def filled(kind: str, tmp_path: Path, count: int = 5, actors: list[str] | None = None) -> Home:
    home = Home(kind, tmp_path)
    log = home.log()
    for n in range(1, count + 1):
        assert log.append(event(n, actors[n - 1] if actors else "")) == n
    return home


def head_of(record: dict[str, Any]) -> dict[str, Any]:
    return {"seq": record["seq"], "hash": record["hash"]}


# ---------------------------------------------------------------- single changes, per home


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


def _head_at_4_jsonl(path: Path) -> None:
    head = path.with_name(path.name + ".head")
    head.write_text(json.dumps({**json.loads(head.read_text()), "seq": 4}))


TAMPERING: dict[str, list[tuple[str, Tamper, int]]] = {
    "sqlite": [
        ("edited", _edit_sql, 3),
        ("deleted in the middle", lambda p: _sql(p, "DELETE FROM scrubber_audit WHERE seq=2"), 2),
        ("deleted at the end", lambda p: _sql(p, "DELETE FROM scrubber_audit WHERE seq=5"), 5),
        ("deleted at the start", lambda p: _sql(p, "DELETE FROM scrubber_audit WHERE seq=1"), 1),
        ("swapped", _swap_sql, 2),
        ("head moved", lambda p: _sql(p, "UPDATE scrubber_audit_head SET seq=4"), 4),
    ],
    "jsonl": [
        ("edited", _edit_jsonl, 3),
        ("deleted in the middle", _delete_jsonl(1), 2),
        ("deleted at the end", _delete_jsonl(4), 5),
        ("deleted at the start", _delete_jsonl(0), 1),
        ("swapped", _swap_jsonl, 2),
        ("head moved", _head_at_4_jsonl, 4),
    ],
}
CASES = [(kind, *case) for kind, cases in TAMPERING.items() for case in cases]


@pytest.mark.parametrize("kind", KINDS)
def test_an_intact_chain_verifies(kind: str, tmp_path: Path) -> None:
    home = filled(kind, tmp_path)
    report = home.verify()
    assert report.valid and report.records == 5 and report.problem is None, report
    assert report.anchor_seq == 5 and report.repair is None
    first = home.records()[0]
    assert first["prev"] == GENESIS and first["seq"] == 1
    assert len(home.anchor.read_text().splitlines()) == 5  # one signed checkpoint per append


@pytest.mark.parametrize(("kind", "what", "tamper", "first_bad"), CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])  # fmt: skip
@pytest.mark.parametrize("anchored", [True, False], ids=["anchored", "unanchored"])
def test_verify_fails_after_any_single_record_is_changed(
    kind: str, what: str, tamper: Tamper, first_bad: int, anchored: bool, tmp_path: Path
) -> None:
    home = filled(kind, tmp_path)
    tamper(home.path)
    report = home.verify(anchored)
    assert not report.valid, what
    assert report.first_bad_seq == first_bad, report
    assert report.problem and report.check


def test_an_empty_log_verifies_and_a_chain_survives_reopening(tmp_path: Path) -> None:
    assert verify(SqlStore.sqlite(tmp_path / "empty.db"), KEY, tmp_path / "none.anchor").valid
    home = filled("sqlite", tmp_path, 2)
    home.log().append(event(3))  # another process, same file
    report = home.verify()
    assert report.valid and report.records == 3 and report.anchor_seq == 3


@pytest.mark.parametrize("kind", KINDS)
def test_concurrent_writers_keep_one_chain(kind: str, tmp_path: Path) -> None:
    """Writers on separate connections (as separate processes would be) queue on the lock; their
    checkpoints may land out of order in the anchor, and still all verify. (SQLite's busy wait
    is not fair: one writer may wait while the others append all of theirs, each commit synced
    to disk; 25 each once took that writer past its 10 s timeout on a loaded CI host.)"""
    home = Home(kind, tmp_path)

    def writer(start: int) -> None:
        log = home.log()
        for n in range(start, start + 10):
            log.append(event(n))

    threads = [threading.Thread(target=writer, args=(i * 100,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    report = home.verify()
    assert report.valid and report.records == 40 and report.anchor_seq == 40, report


def test_records_have_a_fixed_shape_with_client_and_request_id(tmp_path: Path) -> None:
    home = Home("jsonl", tmp_path)
    log = home.log()
    log.append(event(1))
    log.append(AuditEvent("ops", "admin", "restore", "allowed", "http",
                          client="10.1.2.3", request_id="req-42"))  # fmt: skip
    # A caller-chosen id that is not a short plain label is not kept: it could carry a value.
    log.append(AuditEvent("ops", "admin", "restore", "allowed", "http",
                          client="[::1]:8080", request_id="maria@example.org"))  # fmt: skip
    first, second, third = home.records()
    assert set(first) == {"seq", "ts", "actor", "role", "action", "outcome", "via", "client",
                          "request_id", "detail", "prev", "hash"}  # fmt: skip
    assert first["ts"] == "2027-01-15T08:00:00.000+00:00"
    assert (first["client"], first["request_id"]) == ("", "")
    assert (second["client"], second["request_id"]) == ("10.1.2.3", "req-42")
    assert (third["client"], third["request_id"]) == ("[::1]:8080", "(invalid)")
    assert "maria" not in home.path.read_text()
    assert home.verify().valid


# ---------------------------------------------------------------- attacks on the store


@pytest.mark.parametrize("kind", KINDS)
def test_tail_truncation_with_head_rewind_is_caught_by_the_anchor(
    kind: str, tmp_path: Path
) -> None:
    home = filled(kind, tmp_path)
    kept = home.records()[:3]
    home.rewrite(kept, head_of(kept[-1]))
    assert home.verify(anchor=False).valid  # the chain alone cannot tell: the anchor can
    report = home.verify()
    assert not report.valid and report.check == "anchor_checkpoint", report
    assert report.first_bad_seq == 4 and report.records == 3
    with pytest.raises(VaultUnavailable, match="anchor checkpoint is at seq 5"):
        home.log().append(event(6))  # nothing is revealed after a cut chain


def _rehash_without_key(record: dict[str, Any]) -> str:
    body = {k: v for k, v in record.items() if k != "hash"}
    return hashlib.sha256(canonical(body).encode()).hexdigest()


def _rehash_with_wrong_key(record: dict[str, Any]) -> str:
    return mac(WRONG_KEY, "chain", {k: v for k, v in record.items() if k != "hash"})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("rehash", [_rehash_without_key, _rehash_with_wrong_key],
                         ids=["plain-sha256", "wrong-key"])  # fmt: skip
def test_selective_deletion_with_recomputed_hashes_is_caught(
    kind: str, rehash: Callable[[dict[str, Any]], str], tmp_path: Path
) -> None:
    """Every restore by `helpdesk` removed, the rest renumbered, relinked and rehashed, and the
    head rewritten: a consistent chain, but not under the audit key."""
    actors = ["ops", "helpdesk", "ops", "helpdesk", "ops"]
    home = filled(kind, tmp_path, actors=actors)
    forged, prev = [], GENESIS
    for record in home.records():
        if record["actor"] == "helpdesk":
            continue
        moved = {**record, "seq": len(forged) + 1, "prev": prev}
        moved["hash"] = prev = rehash(moved)
        forged.append(moved)
    home.rewrite(forged, head_of(forged[-1]))
    for anchored in (False, True):
        report = home.verify(anchored)
        assert not report.valid and report.check == "hmac", report
        assert report.first_bad_seq == 1, report
        assert "helpdesk" not in str(report.problem)


@pytest.mark.parametrize("kind", KINDS)
def test_wiping_records_and_head_is_caught(kind: str, tmp_path: Path) -> None:
    home = filled(kind, tmp_path)
    home.rewrite([], None)
    report = home.verify()
    assert not report.valid and report.records == 0, report
    assert report.check == "anchor_checkpoint" and report.first_bad_seq == 1
    with pytest.raises(VaultUnavailable, match="log wiped"):
        home.log().append(event(6))


def test_a_missing_or_emptied_anchor_is_caught(tmp_path: Path) -> None:
    home = filled("jsonl", tmp_path)
    home.anchor.write_text("")
    assert home.verify().check == "anchor_checkpoint"
    home.anchor.unlink()
    assert home.verify().check == "anchor_checkpoint"


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda lines, p: [*lines, canonical({**p, "seq": 9, "sig": "0" * 64})],
                     id="appended-with-a-made-up-signature"),
        pytest.param(lambda lines, p: [*lines[:2], canonical({**p, "hash": "f" * 64}), *lines[3:]],
                     id="a-line-edited"),
        pytest.param(lambda lines, p: [*lines, canonical(
            {**p, "seq": 9, "sig": mac(WRONG_KEY, "anchor",
                {"seq": 9, "hash": p["hash"], "ts": p["ts"]})})], id="signed-with-another-key"),
    ],
)  # fmt: skip
def test_a_forged_anchor_line_is_caught(
    forge: Callable[[list[str], dict[str, Any]], list[str]], tmp_path: Path
) -> None:
    home = filled("jsonl", tmp_path)
    lines = _lines(home.anchor)
    _write(home.anchor, forge(lines, json.loads(lines[2])))
    report = home.verify()
    assert not report.valid and report.check == "anchor_signature", report
    assert report.first_bad_seq is None and "anchor line" in str(report.problem)
    assert "f" * 64 not in str(report.problem)
    home.log().append(event(6))  # a forged line vouches for nothing: appends go on


# ---------------------------------------------------------------- crashes, repaired


def test_a_torn_tail_line_is_cut_away_and_the_repair_recorded(tmp_path: Path) -> None:
    home = filled("jsonl", tmp_path, 3)
    torn = _lines(home.path)[2][:40].replace("key-3", "key-7")  # a crash mid-write
    with home.path.open("a") as chain:
        chain.write(torn)
    report = home.verify()  # a torn line is not a record: the chain is intact
    assert report.valid and report.records == 3 and report.repair is None, report
    with capture_logs() as logs:
        assert home.log().append(event(4)) == 5  # seq 4 records the repair
    recover, appended = home.records()[3:]
    assert (recover["actor"], recover["action"], recover["outcome"]) == (
        "scrubber", "recover", "allowed")  # fmt: skip
    assert recover["detail"] == {"torn_bytes": len(torn), "head": "ok", "chain_seq": 3}
    assert appended["seq"] == 5 and appended["actor"] == "key-4"
    repaired = [entry for entry in logs if entry["event"] == "audit_recovered"]
    assert repaired == [{"event": "audit_recovered", "log_level": "warning",
                         "torn_bytes": len(torn), "head": "ok", "chain_seq": 3}]  # fmt: skip
    report = home.verify()
    assert report.valid and report.records == 5 and report.repair is None, report
    assert "key-7" not in home.path.read_text()


@pytest.mark.parametrize("kind", KINDS)
def test_a_crash_between_record_and_head_is_repaired(kind: str, tmp_path: Path) -> None:
    """The record of seq 4 reached the store, its head and checkpoint did not."""
    home = filled(kind, tmp_path, 3)
    before_head = home.records()[-1]
    anchor_before = home.anchor.read_bytes()
    home.log().append(event(4))
    home.set_head(head_of(before_head))
    home.anchor.write_bytes(anchor_before)
    report = home.verify()
    assert report.valid and report.records == 4 and report.anchor_seq == 3, report
    assert "1 records behind" in str(report.repair)
    assert home.log().append(event(5)) == 6
    recover = home.records()[4]
    assert recover["action"] == "recover"
    assert recover["detail"] == {"torn_bytes": 0, "head": "behind", "chain_seq": 4}
    report = home.verify()
    assert report.valid and report.records == 6 and report.repair is None, report


HEADS = [("jsonl", ""), ("jsonl", "{not json"), ("jsonl", None), ("sqlite", ""), ("sqlite", None)]


@pytest.mark.parametrize(("kind", "head"), HEADS)
def test_an_empty_or_unreadable_head_is_rederived_from_the_chain(
    kind: str, head: str | None, tmp_path: Path
) -> None:
    """Before: every restore answered 503 for ever. Now the verified chain gives the head back."""
    home = filled(kind, tmp_path, 3)
    home.set_head(head)
    report = home.verify()
    assert report.valid and report.repair, report
    assert home.log().append(event(4)) == 5
    assert home.records()[3]["detail"] == {"torn_bytes": 0, "head": "lost", "chain_seq": 3}
    report = home.verify()
    assert report.valid and report.records == 5 and report.repair is None, report


@pytest.mark.parametrize("kind", KINDS)
def test_a_recovery_never_accepts_a_cut_or_edited_chain(kind: str, tmp_path: Path) -> None:
    """A lost head is re-derived only from a chain that verifies and reaches the anchor."""
    home = filled(kind, tmp_path)
    records = home.records()
    home.rewrite(records[:4], None)  # the newest record cut, the head removed
    with pytest.raises(VaultUnavailable, match="anchor checkpoint is at seq 5"):
        home.log().append(event(6))
    home.rewrite([*records[:2], {**records[2], "actor": "x"}, *records[3:]], None)
    with pytest.raises(VaultUnavailable, match="HMAC"):
        home.log().append(event(6))


# ---------------------------------------------------------------- the key, the CLI


def test_the_audit_key_is_required_and_read_from_env_or_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"vault\.audit\.key is not set.*audit: \{key: \{env"):
        audit_key(AuditConfig())
    source = AuditConfig.model_validate({"key": {"env": "AK"}})
    assert audit_key(source, {"AK": KEY.decode()}) == KEY
    (tmp_path / "key").write_text(key("file", 40) + "\n")  # a mounted Secret ends with a newline
    source = AuditConfig.model_validate({"key": {"file": str(tmp_path / "key")}})
    assert audit_key(source) == key("file", 40).encode()


def test_open_audit_log_takes_home_key_and_anchor_from_the_config(tmp_path: Path) -> None:
    vault = {"sqlite_path": str(tmp_path / "v.db"), "encryption_keys": {1: {"env": "V1"}},
             "active_key": 1, "audit_log": str(tmp_path / "audit.jsonl")}  # fmt: skip
    audit = {"key": {"env": "AK"}, "anchor": str(tmp_path / "audit.anchor")}
    config = VaultConfig.model_validate({**vault, "audit": audit})
    log = open_audit_log(config, SqlStore.sqlite(tmp_path / "v.db"), {"AK": KEY.decode()})
    log.append(event(1))
    assert log.verify() == VerifyReport(True, 1, anchor_seq=1)
    assert verify(JsonlAuditStore(tmp_path / "audit.jsonl"), KEY).valid
    keyless = config.model_copy(update={"audit": AuditConfig()})  # refused at open, too
    with pytest.raises(ConfigError, match=r"vault\.audit\.key is not set"):
        open_audit_log(keyless, SqlStore.sqlite(tmp_path / "v.db"))


def _verify_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """`scrubber audit verify ARGS`, in this process (main() would reconfigure logging)."""
    parser = argparse.ArgumentParser()
    vault_cli.register(parser.add_subparsers(dest="command"))
    capsys.readouterr()
    code = vault_cli.HANDLERS["audit"](parser.parse_args(["audit", "verify", *args]))
    return code, json.loads(capsys.readouterr().out)


def test_cli_verify_reads_the_key_and_anchor(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = filled("jsonl", tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"vault": {
        "sqlite_path": str(tmp_path / "v.db"), "encryption_keys": {1: {"env": "V1"}},
        "active_key": 1, "audit_log": str(home.path),
        "audit": {"key": {"env": "AUDIT_KEY"}, "anchor": str(home.anchor)},
    }}))  # fmt: skip
    jsonl = ("--jsonl", str(home.path), "--key-env", "AUDIT_KEY", "--anchor", str(home.anchor))
    monkeypatch.setenv("AUDIT_KEY", KEY.decode())
    assert _verify_cli(capsys, "--config", str(config)) == (0, {
        "valid": True, "records": 5, "first_bad_seq": None, "problem": None, "check": None,
        "anchor_seq": 5, "repair": None,
    })  # fmt: skip
    assert _verify_cli(capsys, *jsonl)[0] == 0

    kept = home.records()[:3]
    home.rewrite(kept, head_of(kept[-1]))
    for args in (("--config", str(config)), jsonl):
        code, report = _verify_cli(capsys, *args)
        assert code == 1 and report["check"] == "anchor_checkpoint", report

    monkeypatch.setenv("AUDIT_KEY", WRONG_KEY.decode())
    code, report = _verify_cli(capsys, "--jsonl", str(home.path), "--key-env", "AUDIT_KEY")
    assert code == 1 and report["check"] == "hmac"
    monkeypatch.delenv("AUDIT_KEY")
    with pytest.raises(KeyMaterialError, match="AUDIT_KEY is not set"):
        _verify_cli(capsys, *jsonl)  # no key, no verdict (the CLI exits 2)
