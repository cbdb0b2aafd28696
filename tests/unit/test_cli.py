"""`scrubber scrub` as a user runs it: a subprocess reading stdin, writing stdout."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from pathlib import Path

import pytest

from tests.keys import key

EMAIL = "planted.person@example.com"
ROOT = Path(__file__).resolve().parents[2]


def _scrubber(*args: str) -> list[str]:
    return [sys.executable, "-m", "scrubber.cli", "--log-format", "json", "scrub", *args]


def test_one_line_out_per_line_in_and_failures_closed(tmp_path: Path) -> None:
    huge = ("word " * 200 + EMAIL + " ") * 5000  # ~5 MB on one line
    lines = [
        f"login by {EMAIL} from 203.0.113.9".encode(),
        b"",
        b"\xff\xfe broken " + EMAIL.encode(),
        huge.encode(),
        json.dumps({"msg": f"mail {EMAIL}", "n": 1}).encode(),
        b'{"broken json ' + EMAIL.encode(),
        b"last line without newline " + EMAIL.encode(),
    ]
    source = tmp_path / "in.log"
    source.write_bytes(b"\n".join(lines))
    result = subprocess.run(_scrubber(str(source)), capture_output=True, check=False, cwd=ROOT)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode().split("\n")
    assert out[-1] == ""  # every output line ends with a newline
    out = out[:-1]
    assert len(out) == len(lines)
    assert out[0] == "login by <EMAIL_ADDRESS> from <IP_ADDRESS>"
    assert out[1] == ""
    assert out[2] == "[SCRUBBER QUARANTINED reason=invalid_utf8]"
    assert out[3] == "[SCRUBBER QUARANTINED reason=too_large]"
    assert json.loads(out[4]) == {"msg": "mail <EMAIL_ADDRESS>", "n": 1}
    assert EMAIL not in out[5]
    assert out[6] == "last line without newline <EMAIL_ADDRESS>"
    stderr = result.stderr.decode()
    assert EMAIL not in stderr and "broken" not in stderr
    events = [json.loads(line) for line in stderr.splitlines()]
    reasons = sorted(e["reason"] for e in events if e["event"] == "record_quarantined")
    assert reasons == ["invalid_utf8", "too_large"]


def test_output_starts_before_input_ends() -> None:
    process = subprocess.Popen(
        _scrubber(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(f"first {EMAIL}\n".encode())
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], 60)
        assert ready, "no output within 60 s while stdin stayed open"
        assert process.stdout.readline() == b"first <EMAIL_ADDRESS>\n"
        process.stdin.write(b"second line\n")
        process.stdin.close()
        assert process.stdout.read() == b"second line\n"
    finally:
        process.kill()
        process.wait()
        process.stdout.close()
        if not process.stdin.closed:
            process.stdin.close()


def test_format_json_quarantines_non_json() -> None:
    result = subprocess.run(
        _scrubber("--format", "json"), input=b"not json\n{\"a\": \"b\"}\n",
        capture_output=True, check=False, cwd=ROOT,
    )  # fmt: skip
    out = result.stdout.decode().splitlines()
    assert json.loads(out[0]) == {"scrubber_quarantined": True, "reason": "malformed_json"}
    assert json.loads(out[1]) == {"a": "b"}


def _cli(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrubber.cli", *args], input=stdin.decode(),
        capture_output=True, text=True, check=False, cwd=ROOT, timeout=300,
    )  # fmt: skip


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a command that failed with exit 2."""
    assert result.returncode == 2, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_a_missing_input_file_is_exit_2_with_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.log"
    config = tmp_path / "scrubber.yaml"
    config.write_text("version: 1\n")
    for args in (
        ["scrub", str(missing)],
        ["kanon", "--quasi", "user.age", str(missing)],
        ["vault", "restore", "--config", str(config), str(missing)],
        ["eval", "--data", str(missing)],
    ):
        result = _cli(*args)
        assert _one_line_error(result) == f"error: {missing}: No such file or directory\n", args
        assert result.stdout == ""


def test_a_directory_as_input_is_exit_2_with_one_line(tmp_path: Path) -> None:
    good = tmp_path / "good.log"
    good.write_text(f"mail {EMAIL}\n")
    result = _cli("scrub", str(good), str(tmp_path))
    assert _one_line_error(result) == f"error: {tmp_path}: Is a directory\n"
    assert result.stdout == ""  # checked before anything is scrubbed


def test_the_parser_imports_neither_the_engine_nor_the_web_stack() -> None:
    """`--version` and `--help` answer at once (they took 2-3 s: the parser imported spaCy,
    Presidio and FastAPI through the serve and gateway modules)."""
    probe = ("import sys; from scrubber.cli import _build_parser; _build_parser(); "
             "print(sorted(m for m in ('spacy', 'presidio_analyzer', 'fastapi', 'starlette', "
             "'uvicorn', 'confluent_kafka') if m in sys.modules))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True, cwd=ROOT)  # fmt: skip
    assert done.stdout.strip() == "[]"


def test_version_prints_the_package_version() -> None:
    from scrubber import __version__

    result = _cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"scrubber {__version__}\n"


def test_a_bad_log_level_is_a_usage_error_on_one_line() -> None:
    stderr = _one_line_error(_cli("--log-level", "bogus", "scrub"))
    assert "argument --log-level: invalid choice: 'bogus'" in stderr
    assert "'debug', 'info', 'warning', 'error'" in stderr


def test_the_log_level_is_honoured_in_any_case() -> None:
    def events(*level: str) -> list[str]:
        result = _cli(*level, "scrub", stdin=f"mail {EMAIL}\n".encode())
        assert result.returncode == 0, result.stderr
        assert result.stdout == "mail <EMAIL_ADDRESS>\n"
        return [json.loads(line)["event"] for line in result.stderr.splitlines()]

    assert events() == ["engine_ready", "scrub_done"]  # info by default
    assert events("--log-level", "WARNING") == []


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VAULT_V1": key("v1"), "AUDIT": key("audit")}, "TOKEN"),  # the token key is missing
        ({"TOKEN": key("t"), "AUDIT": key("audit")}, "VAULT_V1"),  # an encryption key
        ({"TOKEN": key("t"), "VAULT_V1": key("v1")}, "AUDIT"),  # the audit key
        ({"TOKEN": key("t"), "VAULT_V1": "v" * 32, "AUDIT": key("audit")}, "placeholder"),
        (
            {"TOKEN": key("t"), "VAULT_V1": key("v1"), "AUDIT": key("audit"), "API": "short"},
            "bytes",
        ),
    ],
)
def test_validate_refuses_what_serve_refuses(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    """`config validate` used to pass configs that `serve` then refused to start with."""
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({
        "policy": {"default": {"type": "vault"}},
        "keys": {"default": {"env": "TOKEN"}},
        "vault": {"sqlite_path": str(tmp_path / "v.db"), "encryption_keys": {1: {"env": "VAULT_V1"}},
                  "active_key": 1, "audit": {"key": {"env": "AUDIT"}}},
        "access": {"roles": {"r": {"reveal": ["*"]}}, "api_keys": {"k": {"role": "r", "env": "API"}}},
    }))  # fmt: skip
    full = {"TOKEN": key("t"), "VAULT_V1": key("v1"), "AUDIT": key("audit"), "API": key("api")}
    base = {k: v for k, v in os.environ.items() if k not in full}
    done = subprocess.run(
        [sys.executable, "-m", "scrubber.cli", "config", "validate", str(config)],
        env={**base, "API": key("api"), **env},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout
    assert message in done.stderr and "Traceback" not in done.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "scrubber.cli", "config", "validate", str(config)],
        env={**base, **full},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_key_logged_line_by_line_leaves_no_body_line_across_batches(
    tmp_path: Path, workers: str
) -> None:
    import base64
    import random

    body = base64.b64encode(random.Random(3).randbytes(1000)).decode()
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]  # the last one short, unpadded
    prefix = "2024-05-01 12:00:00 ERROR "
    logged = [f"{prefix}-----BEGIN PRIVATE KEY-----", *(prefix + x for x in lines),
              f"{prefix}-----END PRIVATE KEY-----", f"{prefix}after the key"]  # fmt: skip
    source = tmp_path / "key.log"
    source.write_text("\n".join(logged) + "\n")
    result = subprocess.run(
        _scrubber("--workers", workers, "--batch-size", "3", str(source)),
        capture_output=True, check=False, cwd=ROOT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert [x for x in lines if x in out or x in result.stderr.decode()] == []
    assert out.splitlines()[-1] == f"{prefix}after the key"


def test_workers_storing_in_the_vault_each_use_their_own_connection(tmp_path: Path) -> None:
    """Workers are forked from a parent that built an engine without a vault (to share its
    model): with the vault operator each builds its own, and every value reaches the vault."""
    import sqlite3

    vault = tmp_path / "v.db"
    config = tmp_path / "c.yaml"
    config.write_text(json.dumps({
        "policy": {"default": {"type": "vault"}},
        "keys": {"default": {"env": "TOKEN"}},
        "vault": {"sqlite_path": str(vault), "encryption_keys": {1: {"env": "VAULT_V1"}},
                  "active_key": 1, "audit": {"key": {"env": "AUDIT"}}},
    }))  # fmt: skip
    emails = [f"person{i}@example.org" for i in range(40)]
    source = tmp_path / "in.log"
    source.write_text("".join(f"login by {email}\n" for email in emails))
    env = {**os.environ, "TOKEN": key("t"), "VAULT_V1": key("v1"), "AUDIT": key("audit")}
    result = subprocess.run(
        [*_scrubber("--config", str(config), "--workers", "2", "--batch-size", "4", str(source))],
        capture_output=True, check=False, cwd=ROOT, env=env, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert len(out.splitlines()) == len(emails)
    assert [email for email in emails if email in out] == []
    with sqlite3.connect(vault) as db:
        (stored,) = db.execute("SELECT count(*) FROM scrubber_vault").fetchone()
    assert stored == len(emails)
