"""The workers' supervisor of `scrubber run --workers N`: forks them, and forks again the one
that was killed.

`run` builds the shared engine (model, word lists, patterns) and then forks this one process
before any thread starts. The supervisor stays single-threaded, so it can fork at any time
without a child inheriting a lock another thread held: it forks the N workers, which share the
engine's pages copy-on-write, and when one is killed by a signal (kill -9, the OOM killer) it
forks it again at once under the same index. Same index, same `group.instance.id`: the broker
hands the new consumer the dead one's partitions as soon as it joins (static membership), and a
forked worker joins in well under a second, where a spawned one would load the model again
(seconds). A worker that exits on its own (exit code >= 0: asked to stop, fenced by another live
instance, a fatal error) is not started again; nor is one that was killed more than
`RESTARTS_ALLOWED` times within `RESTART_WINDOW_SECONDS` (a crash loop is the orchestrator's to
back off): the others are then stopped too.

The parent hears of every exit and restart on the `events` queue, as it hears each worker's
metrics port.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import wait
from multiprocessing.context import ForkProcess
from multiprocessing.queues import SimpleQueue
from types import FrameType

from scrubber.log import get_logger
from scrubber.processes import (
    FORWARDED_SIGNALS,
    forwarded_signals_held,
    release_forwarded_signals,
    stop_when_parent_dies,
)

log = get_logger("scrubber.run")
RESTARTS_ALLOWED = 5
RESTART_WINDOW_SECONDS = 60.0
# (what, worker index, value): ("port", i, port) from a worker once it serves; ("exited", i,
# exit code) and ("restarted", i, pid) from the supervisor. A SimpleQueue writes in the caller's
# thread: a Queue would start a feeder thread here, and this process must stay single-threaded.
Event = tuple[str, int, int]
Events = SimpleQueue[Event]
# A worker's body, top-level (so it pickles by name): called as target(index, events, *args).
WorkerTarget = Callable[..., None]


class Supervisor:
    """The `count` workers of one `run`, each a forked `target(index, events, *args)`."""

    def __init__(
        self, count: int, target: WorkerTarget, args: tuple[object, ...], events: Events
    ) -> None:
        self._count = count
        self._target = target
        self._args = args
        self._events = events
        self._workers: dict[int, ForkProcess] = {}
        self._codes: dict[int, int] = {}
        self._restarts: list[float] = []
        self._stopping = False
        self._pid = os.getpid()

    def run(self) -> int:
        """Start the workers and watch them until every one has exited; the exit code that
        matters most (furthest from 0; a worker killed by signal N gives 128 + N)."""
        for signum in FORWARDED_SIGNALS:
            signal.signal(signum, self._forward)
        release_forwarded_signals()  # held since `run` forked this process: now they are ours
        stop_when_parent_dies()
        for index in range(self._count):
            self._fork(index)
        while self._workers:
            sentinels = {worker.sentinel: index for index, worker in self._workers.items()}
            for ready in wait(list(sentinels), timeout=1.0):
                self._exited(sentinels[ready])  # type: ignore[index]  # sentinels are ints
        code = max(self._codes.values(), key=abs, default=0)
        return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell says

    def _fork(self, index: int) -> None:
        if self._stopping:  # a stop came before this worker's turn: it is not started
            return
        worker = multiprocessing.get_context("fork").Process(
            target=_worker_main,
            args=(self._target, index, self._events, *self._args),
            name=f"worker-{index}",
        )
        with forwarded_signals_held():  # the worker starts with them held: none sent is lost
            worker.start()
            self._workers[index] = worker
        if self._stopping and worker.pid is not None:  # a stop handled before it was noted went
            os.kill(worker.pid, signal.SIGTERM)  # only to the workers known then

    def _exited(self, index: int) -> None:
        worker = self._workers.pop(index)
        worker.join()
        code = worker.exitcode if worker.exitcode is not None else 1
        self._events.put(("exited", index, code))
        if code >= 0 or self._stopping:
            self._codes[index] = code
            return
        now = time.monotonic()
        self._restarts = [t for t in self._restarts if now - t < RESTART_WINDOW_SECONDS]
        if len(self._restarts) >= RESTARTS_ALLOWED:
            log.error(
                "worker_restarts_exhausted", worker=index, signal=-code,
                restarts=len(self._restarts), window_seconds=RESTART_WINDOW_SECONDS,
            )  # fmt: skip
            self._codes[index] = code
            self._signal_all(signal.SIGTERM)
            return
        self._restarts.append(now)
        log.warning("worker_killed_restarting", worker=index, signal=-code)
        self._fork(index)
        if index in self._workers:  # not if a stop came in meanwhile
            self._events.put(("restarted", index, self._workers[index].pid or 0))

    def _forward(self, signum: int, _frame: FrameType | None) -> None:
        if os.getpid() != self._pid:  # a worker just forked, before it set its own handlers:
            if signum != signal.SIGHUP:  # a stop: die of it (a reload can wait for its engines)
                signal.signal(signum, signal.SIG_DFL)
                os.kill(os.getpid(), signum)
            return
        self._signal_all(signum)

    def _signal_all(self, signum: int) -> None:
        """Pass `signum` to every live worker; any but SIGHUP (reload) means no more restarts."""
        if signum != signal.SIGHUP:
            self._stopping = True
        for worker in self._workers.values():
            if worker.pid is not None and worker.is_alive():
                os.kill(worker.pid, signum)


def _worker_main(target: WorkerTarget, index: int, events: Events, *args: object) -> None:
    """A forked worker: the signals held over its fork are delivered to the supervisor's
    handler it inherited (a stop ends it before it starts), then its own body runs."""
    release_forwarded_signals()
    target(index, events, *args)
