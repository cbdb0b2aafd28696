"""The supervisor of `run --workers N`: a worker killed by a signal is forked again under its
index at once; one that exits on its own is not; a crash loop stops everyone."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scrubber.pipeline import supervisor as supervisor_module
from scrubber.pipeline.supervisor import Events, Supervisor
from scrubber.processes import forwarded_signals_held


def _sleeper(index: int, events: Events, marks: str) -> None:
    """A worker: says it started, then waits for SIGTERM (exit 0); index 1 of the 'fatal' kind
    exits 3 at once, as a fenced worker does."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    (Path(marks) / f"{index}-{os.getpid()}").touch()
    events.put(("port", index, os.getpid()))
    if Path(marks, "fatal").exists() and index == 1:
        sys.exit(3)
    while True:
        time.sleep(0.05)


def _supervise(count: int, events: Events, marks: str) -> None:
    raise SystemExit(Supervisor(count, _sleeper, (marks,), events).run())


def _start(count: int, marks: Path) -> tuple[multiprocessing.process.BaseProcess, Events]:
    context = multiprocessing.get_context("fork")
    events: Events = context.SimpleQueue()
    process = context.Process(target=_supervise, args=(count, events, str(marks)))
    with forwarded_signals_held():  # as `run` forks it: a stop sent at once is not lost
        process.start()
    return process, events


_unclaimed: list[tuple[str, int, int]] = []  # events read while waiting for another kind


def _next(events: Events, what: str, timeout: float = 10.0) -> tuple[str, int, int]:
    """The first event of kind `what` not yet claimed. A restarted worker's "port" may come
    before the supervisor's "restarted" (it runs on while the supervisor is descheduled): each
    is kept until asked for, not dropped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event in _unclaimed:
            if event[0] == what:
                _unclaimed.remove(event)
                return event
        if events.empty():
            time.sleep(0.01)
            continue
        _unclaimed.append(events.get())
    pytest.fail(f"no {what} event")


@pytest.fixture(autouse=True)
def _no_worker_outlives_the_test(tmp_path: Path) -> Iterator[None]:
    _unclaimed.clear()
    yield
    for mark in tmp_path.glob("*-*"):
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(mark.name.split("-")[1]), signal.SIGKILL)


def test_a_killed_worker_is_forked_again_under_its_index_and_sigterm_stops_all(
    tmp_path: Path,
) -> None:
    process, events = _start(2, tmp_path)
    pids = {_next(events, "port")[1]: 0 for _ in range(2)}
    assert set(pids) == {0, 1}
    first = {int(p.name.split("-")[1]) for p in tmp_path.iterdir() if p.name.startswith("1-")}
    os.kill(first.pop(), signal.SIGKILL)
    killed_at = time.monotonic()
    assert _next(events, "exited") == ("exited", 1, -signal.SIGKILL)
    what, index, pid = _next(events, "restarted")
    assert (what, index) == ("restarted", 1)
    assert _next(events, "port")[1] == 1
    assert time.monotonic() - killed_at < 2.0  # forked, not spawned: no model to load again
    assert (tmp_path / f"1-{pid}").exists()
    os.kill(process.pid or 0, signal.SIGTERM)
    process.join(10)
    assert process.exitcode == 0  # both stopped on request: not restarted


def test_a_stop_that_reaches_a_worker_before_its_own_handlers_still_stops_it(
    tmp_path: Path,
) -> None:
    """Just forked, a worker still has the supervisor's handler: SIGTERM must not be lost."""
    process, _events = _start(1, tmp_path)
    os.kill(process.pid or 0, signal.SIGTERM)  # at once: the worker may not have started
    process.join(10)
    assert process.exitcode in (0, -signal.SIGTERM, 128 + signal.SIGTERM)


def test_a_stop_that_arrives_while_a_worker_is_being_forked_reaches_that_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGTERM handled between the fork and the supervisor noting the new worker: it was passed
    to the workers known then, so this one ran on and the supervisor waited for it for ever."""
    from multiprocessing.context import ForkProcess

    start, test_process = ForkProcess.start, os.getpid()

    def start_then_stop(worker: ForkProcess) -> None:
        start(worker)
        if os.getpid() != test_process:  # in the supervisor: handled before _fork notes it
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(ForkProcess, "start", start_then_stop)
    process, _events = _start(1, tmp_path)
    process.join(10)
    assert process.exitcode in (0, 128 + signal.SIGTERM)  # it may die before its own handler


def test_a_worker_that_exits_on_its_own_is_not_restarted_and_its_code_is_the_processs(
    tmp_path: Path,
) -> None:
    (tmp_path / "fatal").touch()
    process, events = _start(2, tmp_path)
    assert _next(events, "exited")[1:] == (1, 3)
    time.sleep(0.5)
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("1-")]) == 1
    os.kill(process.pid or 0, signal.SIGTERM)
    process.join(10)
    assert process.exitcode == 3


def test_a_crash_loop_stops_every_worker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(supervisor_module, "RESTARTS_ALLOWED", 2)
    process, events = _start(2, tmp_path)
    for _ in range(3):
        _, index, pid = _next(events, "port")
        while index != 0:
            _, index, pid = _next(events, "port")
        os.kill(pid, signal.SIGKILL)
    process.join(10)
    assert process.exitcode == 128 + signal.SIGKILL
    started = [p for p in tmp_path.iterdir() if p.name.startswith("0-")]
    assert len(started) == 3  # the first and two restarts
