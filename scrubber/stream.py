"""The `scrub` filter's core: batches of lines through the engine, in order, on N processes.

With one worker the engine runs in this process. With N, the parent first loads what every
engine only reads (`preload`: the spaCy model, word lists, phone metadata), freezes it out of the
garbage collector's reach, gives the heap's free pages back, and forks N - 1 workers from that
state: they share those pages copy-on-write instead of each loading ~200 MB of its own. The parent
is the N-th engine: it reads, batches, advances the key-block state, writes, and scrubs the
batches its workers have no room for (an idle parent would keep the original of every page the
workers copy, one more copy of the pages they all write). A worker uses the parent's engine as it
is unless the policy stores tokens in the vault: then it builds its own around its own vault
connection (cheap: the model is loaded already); each holds an N-th of the detection cache. A
worker sends back its batch's output already joined and encoded (one bytes object), so the parent
writes bytes as they are, in input order. At most `IN_FLIGHT_PER_WORKER` batches per engine are
read ahead of what was written, so the parent's memory stays bounded whatever the input's size
and however slow stdout is. A worker that dies takes no batch with it: the parent scrubs what
it held and the rest. Workers ignore SIGINT (Ctrl-C reaches the whole process group): the
parent decides how to stop, and stopping the stream ends the pool even while input is still
awaited.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from connectors.stdio import Line, OversizedLine
from scrubber.config import Config, load_config
from scrubber.engine import Scrubber
from scrubber.engine.formats import placeholder
from scrubber.engine.key_blocks import KeyBlocks, Window
from scrubber.log import LogFormat, configure_logging, get_logger
from scrubber.models import Format, Outcome, Reason
from scrubber.processes import stop_when_parent_dies, worker_context
from scrubber.vault.recorder import scrubber_for, shared_engine

# Batches read ahead of the output written, per worker: enough to keep every worker busy (one
# being scrubbed, one waiting in the pipe, one result on its way back), small enough to bound
# the parent's memory (a few MB at the default batch size).
IN_FLIGHT_PER_WORKER = 4

log_event = get_logger("scrubber.scrub")

Job = tuple[list[Line], Format, list[Window | None]]
_Ready = queue.Queue[list[Line] | Exception | None]


class _NothingYet:
    """No batch ready yet (the input paused), or the stream is stopping."""


_NOTHING_YET = _NothingYet()


@dataclass(slots=True)
class BatchOutput:
    """One batch scrubbed: its output lines, each ended by a newline, encoded as UTF-8 (what is
    written out as it is), how many lines that is, and (reason, size) per line that failed
    closed."""

    data: bytes
    count: int
    quarantined: list[tuple[str, int]] = field(default_factory=list)


def scrub_lines(
    engine: Scrubber, batch: list[Line], fmt: Format, key_blocks: list[Window | None] | None = None
) -> BatchOutput:
    records = [line for line in batch if not isinstance(line, OversizedLine)]
    results = iter(engine.scrub_batch(records, fmt, key_blocks=key_blocks))
    lines: list[str] = []
    quarantined: list[tuple[str, int]] = []
    for line in batch:
        if isinstance(line, OversizedLine):
            lines.append(placeholder(Reason.TOO_LARGE, fmt == "json"))
            quarantined.append((Reason.TOO_LARGE.value, line.size))
            continue
        result = next(results)
        if result.outcome is Outcome.QUARANTINED and result.reason is not None:
            quarantined.append((result.reason.value, len(line)))
        lines.append(result.output)
    lines.append("")  # the last line's newline
    return BatchOutput("\n".join(lines).encode(), len(batch), quarantined)


_worker_engine: Scrubber | None = None
_preloaded: Scrubber | None = None  # built in the parent, inherited by forked workers


def preload(config: Config) -> None:
    """Build, in the parent, what the forked workers will share (`shared_engine`)."""
    global _preloaded  # noqa: PLW0603  # read by the workers forked from this process
    _preloaded = shared_engine(config)


def _start_worker(
    config_path: Path | None, log_format: LogFormat, log_level: str, workers: int
) -> None:
    global _worker_engine  # noqa: PLW0603  # one engine per worker process, built once
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stop_when_parent_dies()  # kill -9 of the command: no worker left waiting for work for ever
    # A spawned process starts with structlog's defaults, which print to stdout: the scrubbed
    # data's stream. Its events go to stderr like the parent's.
    configure_logging(log_format, log_level)
    _worker_engine = _engine_here(config_path, workers)


def _engine_here(config_path: Path | None, workers: int) -> Scrubber:
    """This process's engine, one of `workers`: the parent's as it is, unless it was built for
    its detector only (the policy stores tokens in the vault: this process opens its own
    connection) or the file changed. Its cache holds a `workers`-th of the configured size."""
    config = load_config(config_path)
    if _preloaded is not None and _preloaded.config_hash == config.digest():
        engine = _preloaded
    else:
        engine = scrubber_for(config, detection_of=_preloaded)
    engine.detector.share_cache(workers)
    return engine


def _work(job: Job) -> BatchOutput:
    assert _worker_engine is not None
    return scrub_lines(_worker_engine, *job)


def _in_key_blocks(blocks: KeyBlocks, batch: list[Line]) -> list[Window | None]:
    """The stream's key-block state, advanced here in input order: batches go to any worker."""
    return blocks.windows([line for line in batch if not isinstance(line, OversizedLine)])


def scrub_stream(
    batches: Iterable[list[Line]],
    fmt: Format,
    config_path: Path | None,
    workers: int,
    engine: Scrubber | None = None,
    *,
    log: tuple[LogFormat, str] = ("json", "info"),
    while_waiting: Callable[[], None] = lambda: None,
) -> Generator[BatchOutput, None, None]:
    """Scrubbed batches in input order; closing the generator stops the workers. With workers,
    `while_waiting` is called at least every 0.1 s while this waits for them or for input: an
    exception it raises (a Ctrl-C its caller noted) stops the stream (one worker: `batched`
    takes such a hook for the waits on input)."""
    if workers <= 1:
        local = engine or scrubber_for(load_config(config_path))
        blocks = KeyBlocks()
        for batch in batches:
            yield scrub_lines(local, batch, fmt, _in_key_blocks(blocks, batch))
        return
    yield from _scrub_in_parallel(
        batches, fmt, config_path, workers, log, while_waiting=while_waiting
    )


class _Here:
    """A batch this process scrubs itself: its turn, a worker's that was lost, or any later one
    of its own it runs ahead on while a worker's result is late."""

    __slots__ = ("job", "output")

    def __init__(self, job: Job) -> None:
        self.job = job
        self.output: BatchOutput | None = None

    def run(self, engine: Scrubber) -> BatchOutput:
        if self.output is None:
            self.output = scrub_lines(engine, *self.job)
        return self.output


class _There:
    """A batch sent to a worker, kept until its result is back: if the worker dies with it,
    this process scrubs it again."""

    __slots__ = ("future", "job")

    def __init__(self, job: Job, future: Future[BatchOutput]) -> None:
        self.job = job
        self.future = future


def _scrub_in_parallel(
    batches: Iterable[list[Line]],
    fmt: Format,
    config_path: Path | None,
    workers: int,
    log: tuple[LogFormat, str],
    *,
    while_waiting: Callable[[], None],
) -> Generator[BatchOutput, None, None]:
    """`workers` engines: this process's and `workers - 1` forked ones. This process scrubs
    the batches its workers have no room for (and runs ahead on them while a worker's result
    is late) instead of only moving bytes: an idle parent would hold the original of every page
    the workers copy-on-write, one more copy of them all (measured: ~22 MB with two workers,
    the second worker then added 58-68 MB to the tree).

    A worker that dies (the OOM killer, `kill -9`) breaks the pool: its batch, every batch
    still out and every later one are scrubbed here, an error says so, nothing is lost. (With
    `multiprocessing.Pool` the lost batch's result never came and the command hung.)"""
    # N processes on N cores: one BLAS thread each, or they fight over the cores.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    context = worker_context()
    with _sigint_ignored():  # the children keep it ignored from their first instruction on
        pool = ProcessPoolExecutor(
            workers - 1, context, initializer=_start_worker, initargs=(config_path, *log, workers)
        )
        started = pool.submit(int)  # forks every worker now, while this process has one thread
    stop = threading.Event()
    try:
        while not wait([started], timeout=0.1).done:
            while_waiting()
        started.result()  # a worker that could not start breaks the pool: raised here
        # After the fork: a vault connection opened here stays here.
        stream = _Dispatch(pool, _engine_here(config_path, workers), workers, fmt)
        ready = _feed(batches, stop)
        reading = True
        while True:
            while_waiting()
            while reading and stream.has_room():
                item = _next_ready(ready, stop, while_waiting, wait=not stream.pending)
                if isinstance(item, _NothingYet):
                    break
                if item is None:
                    reading = False
                    break
                if isinstance(item, Exception):
                    raise item
                stream.add(item)
            if not stream.pending:
                return
            output = stream.next_output()
            if output is not None:
                yield output
    finally:
        stop.set()  # the feeder leaves
        pool.shutdown(wait=True, cancel_futures=True)  # a batch being scrubbed, at most


class _Dispatch:
    """The batches read and not yet written, in input order, each here or at a worker."""

    def __init__(self, pool: ProcessPoolExecutor, engine: Scrubber, workers: int, fmt: Format):
        self.pending: deque[_Here | _There] = deque()
        self._pool, self._engine, self._workers, self._fmt = pool, engine, workers, fmt
        self._blocks = KeyBlocks()
        self._lost = False

    def has_room(self) -> bool:
        return len(self.pending) < IN_FLIGHT_PER_WORKER * self._workers

    def add(self, batch: list[Line]) -> None:
        job = (batch, self._fmt, _in_key_blocks(self._blocks, batch))
        # Here once every worker has two batches it has not finished (one being scrubbed, one
        # waiting): the workers never wait for this process, and it takes as large a share as
        # its speed allows.
        busy = sum(1 for p in self.pending if isinstance(p, _There) and not p.future.done())
        if not self._lost and busy < 2 * (self._workers - 1):
            try:
                self.pending.append(_There(job, self._pool.submit(_work, job)))
                return
            except BrokenProcessPool:  # a worker died since the last result came back
                self._lose_workers()
        self.pending.append(_Here(job))

    def _lose_workers(self) -> None:
        """The pool is broken: every batch out at a worker is scrubbed here, and every later one."""
        if not self._lost:
            log_event.error("scrub_worker_lost", scrubbing_here=len(self.pending))
        self._lost = True
        self.pending = deque(p if isinstance(p, _Here) else _Here(p.job) for p in self.pending)

    def next_output(self) -> BatchOutput | None:
        """The first batch's output if it is ready or can be made here; None after a step
        that only moved things on (a lost worker, a batch run ahead, a short wait)."""
        head = self.pending[0]
        if isinstance(head, _Here):
            self.pending.popleft()
            return head.run(self._engine)
        if head.future.done():
            if not isinstance(head.future.exception(), BrokenProcessPool):
                self.pending.popleft()
                return head.future.result()  # a worker's own error is raised here
            self._lose_workers()
            return None
        ahead = next((p for p in self.pending if isinstance(p, _Here) and p.output is None), None)
        if ahead is not None:
            ahead.run(self._engine)  # rather than wait idle for the worker's result
        else:
            wait([head.future], timeout=0.05)
        return None


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread handles signals
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _feed(batches: Iterable[list[Line]], stop: threading.Event) -> _Ready:
    """The batches on a queue filled by a thread of their own (input may pause; the stream's
    output must not wait for it): it stops on `stop`, even while waiting for input. A failure to
    read input is put on the queue, to be raised in the stream's thread."""
    # None: no more input. Bounded: the feeder reads no further ahead than a batch or two.
    ready: _Ready = queue.Queue(maxsize=2)

    def put(item: list[Line] | Exception | None) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def feed() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(None)
        except Exception as exc:  # raised again in the stream's thread
            put(exc)

    threading.Thread(target=feed, name="batch-feeder", daemon=True).start()
    return ready


def _next_ready(
    ready: _Ready, stop: threading.Event, while_waiting: Callable[[], None], *, wait: bool
) -> list[Line] | Exception | _NothingYet | None:
    """The next batch (None at the end of input); `_NOTHING_YET` if none is ready and `wait` is
    False, or once `stop` is set."""
    while not stop.is_set():
        try:
            return ready.get(timeout=0.1) if wait else ready.get_nowait()
        except queue.Empty:
            if not wait:
                break
            while_waiting()
    return _NOTHING_YET
