"""Ctrl-C on `scrubber scrub`: exit 130, no traceback, and what was scrubbed is out whole.

Each test runs the real command in a session of its own and sends SIGINT to its process group, as
a terminal does on Ctrl-C (so `--workers` processes get it too). stdin stays open throughout: the
command must stop while it still waits for input.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EMAIL = "planted.person@example.com"


def _start(workers: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "scrubber.cli", "scrub", "--workers", str(workers)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        bufsize=0, cwd=ROOT, start_new_session=True,
    )  # fmt: skip


def _read_output(process: subprocess.Popen[bytes], lines: int, timeout: float) -> bytes:
    """At least `lines` lines of stdout (read from the pipe itself: select() cannot see what a
    buffered reader holds)."""
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    out = b""
    while out.count(b"\n") < lines:
        ready, _, _ = select.select([process.stdout], [], [], deadline - time.monotonic())
        assert ready, f"fewer than {lines} lines within {timeout} s: {out[-200:]!r}"
        chunk = os.read(process.stdout.fileno(), 1 << 16)
        assert chunk, "stdout closed early"
        out += chunk
    return out


def _interrupt(process: subprocess.Popen[bytes]) -> tuple[int, bytes, str]:
    """Ctrl-C; then the exit code, the rest of stdout and all of stderr."""
    assert process.stdout is not None and process.stderr is not None
    os.killpg(process.pid, signal.SIGINT)
    try:
        rest, deadline = b"", time.monotonic() + 60
        while True:  # to EOF: all have exited (a lost Ctrl-C fails here, not at the CI limit)
            ready, _, _ = select.select([process.stdout], [], [], deadline - time.monotonic())
            assert ready, f"still running 60 s after Ctrl-C: {rest[-200:]!r}"
            if not (chunk := os.read(process.stdout.fileno(), 1 << 16)):
                break
            rest += chunk
        code = process.wait(timeout=60)
        return code, rest, process.stderr.read().decode()
    finally:
        process.kill()
        process.wait()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _no_process_left(group: int) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _assert_clean(stderr: str, written: int) -> None:
    assert "Traceback" not in stderr and "Fatal Python error" not in stderr, stderr
    events = [json.loads(line) for line in stderr.splitlines()]
    assert events[-1]["event"] == "scrub_interrupted"
    assert events[-1]["line_count"] == written


@pytest.mark.parametrize("workers", [1, 2])
def test_ctrl_c_exits_130_after_the_scrubbed_lines(workers: int) -> None:
    with _start(workers) as process:
        assert process.stdin is not None
        process.stdin.write(b"".join(f"line {i} {EMAIL}\n".encode() for i in range(20)))
        out = _read_output(process, 20, timeout=180)
        code, rest, stderr = _interrupt(process)
    assert code == 130, stderr
    assert out == b"".join(f"line {i} <EMAIL_ADDRESS>\n".encode() for i in range(20))
    assert rest == b""
    _assert_clean(stderr, 20)
    assert _no_process_left(process.pid), "a worker outlived the command"


def test_ctrl_c_while_output_is_blocked_still_writes_whole_lines() -> None:
    """The reader lags, so a batch is mid-write into a full pipe when SIGINT arrives: the batch
    is finished, never cut inside a line."""
    line = b"x" * 3000 + b" " + EMAIL.encode() + b"\n"
    with _start(1) as process:
        stdin = process.stdin
        assert stdin is not None

        def feed() -> None:
            try:
                for _ in range(2000):
                    stdin.write(line)
            except OSError:
                pass  # the command is gone: expected

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        first = _read_output(process, 1, timeout=180)
        time.sleep(1.0)  # output backs up: the pipe holds 64 KiB, a batch is ~750 KiB
        code, rest, stderr = _interrupt(process)
        feeder.join(timeout=10)
    assert code == 130, stderr
    out = first + rest
    assert out.endswith(b"\n")
    lines = out.split(b"\n")[:-1]
    assert set(lines) == {b"x" * 3000 + b" <EMAIL_ADDRESS>"}
    assert len(lines) > 1
    _assert_clean(stderr, len(lines))


@pytest.mark.parametrize("cpu_seconds", [0.3, 0.6, 0.9])
def test_ctrl_c_during_start_up_exits_130_quietly(cpu_seconds: float) -> None:
    """At any moment of start-up: raised there, KeyboardInterrupt used to be swallowed by a
    `__del__` (the command went on), turned into a pydantic SchemaError (exit 1) or left the
    interpreter to die by the signal (-2), a few times in a hundred on a loaded machine."""
    with _start(1) as process:
        # Past Python's own start-up (a signal there is the interpreter's business) and into
        # ours: the imports and the engine take more than a second of CPU.
        deadline = time.monotonic() + 60
        while _cpu_seconds(process.pid) < cpu_seconds and time.monotonic() < deadline:
            time.sleep(0.02)
        code, rest, stderr = _interrupt(process)
    assert code == 130, stderr
    assert rest == b""
    assert "Traceback" not in stderr and "Fatal Python error" not in stderr, stderr


def test_a_worker_killed_mid_stream_loses_no_line() -> None:
    """kill -9 of a worker (as the OOM killer does) while its batches are out: the parent scrubs
    them again and every later one itself, says so on stderr, and exits 0 with every line, in
    order, scrubbed. Before, the lost batch's result never came and the command hung."""
    count = 6_000
    lines = [f"seq={seq} mail {seq}.{EMAIL} done\n".encode() for seq in range(count)]
    process = _start(2)
    assert process.stdin is not None and process.stdout is not None
    writer = threading.Thread(target=lambda: (process.stdin.write(b"".join(lines)),
                                              process.stdin.close()))  # fmt: skip
    writer.start()
    try:
        out = _read_output(process, 256, timeout=120)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert children, "no worker process"
        for child in children:
            os.kill(int(child), signal.SIGKILL)
        while chunk := os.read(process.stdout.fileno(), 1 << 16):
            out += chunk
        code = process.wait(timeout=120)
        stderr = process.stderr.read().decode() if process.stderr else ""
    finally:
        process.kill()
        writer.join(10)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    assert code == 0, stderr[-2000:]
    written = out.decode().splitlines()
    assert [line.split(" ", 1)[0] for line in written] == [f"seq={seq}" for seq in range(count)]
    assert not any(EMAIL in line for line in written)
    events = [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]
    assert "scrub_worker_lost" in events
    assert EMAIL not in stderr


def test_no_worker_outlives_a_killed_command() -> None:
    """kill -9 of `scrub --workers 2` itself: its worker, blocked waiting for work, used to stay
    for ever (reparented to init, the model's memory with it); now the kernel stops it."""
    process = _start(2)
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(f"mail {EMAIL}\n".encode())
        _read_output(process, 1, timeout=120)
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        assert children, "no worker process"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{child}").exists() for child in children):
            assert time.monotonic() < deadline, f"worker {children} outlived its command"
            time.sleep(0.1)
    finally:
        process.kill()
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


class _RaisesCtrlCWhenCollected:
    def __del__(self) -> None:
        signal.raise_signal(signal.SIGINT)  # the handler runs here, inside the finalizer


def test_a_ctrl_c_that_arrives_inside_a_finalizer_still_stops_the_wait_for_input(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A Ctrl-C handled while the garbage collector ran a `__del__` (regex's did, in CI): raised
    there, it was printed as "Exception ignored" and lost, and `scrub` waited for input for
    ever. Noted instead, it is raised at the next checkpoint of the wait."""
    from connectors.stdio import batched, read_lines
    from scrubber import cli

    interrupts = cli._Interrupts()
    read_end, write_end = os.pipe()  # input that does not come until the test ends
    stdin = os.fdopen(read_end, "rb")
    try:
        interrupts.install()
        with interrupts.polled():
            batches = batched(read_lines(stdin, 100), 10, 0.05, interrupts.checkpoint)
            _RaisesCtrlCWhenCollected()  # dropped at once: collected, its __del__ runs
            started = time.monotonic()
            with pytest.raises(KeyboardInterrupt):
                next(batches)
            assert time.monotonic() - started < 5
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.close(write_end)  # end of input: the reader thread leaves, then its file closes
        stdin.close()
    assert "Exception ignored" not in capfd.readouterr().err
