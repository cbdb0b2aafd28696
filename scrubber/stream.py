"""The `scrub` filter's core: batches of lines through the engine, in order, on N processes.

With one worker the engine runs in this process. With more, the parent first loads what every
engine only reads (`preload`: the spaCy model, word lists, phone metadata), freezes it out of the
garbage collector's reach, and forks the workers from that state: they share those pages
copy-on-write instead of each loading ~200 MB of its own. A worker uses the parent's engine as it
is unless the policy stores tokens in the vault: then it builds its own around its own vault
connection (cheap: the model is loaded already). `Pool.imap` hands batches out and gives results
back in input order. A worker sends back its batch's output already joined and encoded (one bytes
object), so the parent only moves bytes: it reads, batches, advances the key-block state and
writes. At most `IN_FLIGHT_PER_WORKER` batches per worker are read ahead of what was written, so
the parent's memory stays bounded whatever the input's size and however slow stdout is. Workers
ignore SIGINT (Ctrl-C reaches the whole process group): the parent decides how to stop, and
stopping the stream ends the pool even while input is still awaited.
"""

from __future__ import annotations

import os
import queue
import signal
import threading
from collections.abc import Generator, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from connectors.stdio import Line, OversizedLine
from scrubber.config import Config, load_config
from scrubber.engine import Scrubber
from scrubber.engine.formats import placeholder
from scrubber.engine.key_blocks import KeyBlocks, Window
from scrubber.log import LogFormat, configure_logging
from scrubber.models import Format, Outcome, Reason
from scrubber.vault.recorder import scrubber_for, shared_engine, worker_context

# Batches read ahead of the output written, per worker: enough to keep every worker busy (one
# being scrubbed, one waiting in the pipe, one result on its way back), small enough to bound
# the parent's memory (a few MB at the default batch size).
IN_FLIGHT_PER_WORKER = 4


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


def _start_worker(config_path: Path | None, log_format: LogFormat, log_level: str) -> None:
    global _worker_engine  # noqa: PLW0603  # one engine per worker process, built once
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A spawned process starts with structlog's defaults, which print to stdout: the scrubbed
    # data's stream. Its events go to stderr like the parent's.
    configure_logging(log_format, log_level)
    config = load_config(config_path)
    # The parent's engine as it is, unless it was built for its detector only (the policy
    # stores tokens in the vault: this worker opens its own connection) or the file changed.
    if _preloaded is not None and _preloaded.config_hash == config.digest():
        _worker_engine = _preloaded
    else:
        _worker_engine = scrubber_for(config, detection_of=_preloaded)


def _work(job: tuple[list[Line], Format, list[Window | None]]) -> BatchOutput:
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
) -> Generator[BatchOutput, None, None]:
    """Scrubbed batches in input order; closing the generator stops the workers."""
    if workers <= 1:
        local = engine or scrubber_for(load_config(config_path))
        blocks = KeyBlocks()
        for batch in batches:
            yield scrub_lines(local, batch, fmt, _in_key_blocks(blocks, batch))
        return
    # N processes on N cores: one BLAS thread each, or they fight over the cores.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    context = worker_context()
    with _sigint_ignored():  # the children keep it ignored from their first instruction on
        pool = context.Pool(workers, initializer=_start_worker, initargs=(config_path, *log))
    stop = threading.Event()
    window = threading.Semaphore(IN_FLIGHT_PER_WORKER * workers)  # batches read, not yet written
    with pool:
        try:
            for output in pool.imap(_work, _jobs(batches, fmt, stop, window), chunksize=1):
                window.release()  # this batch is the caller's now: one more may be read
                yield output
        finally:
            stop.set()  # the pool's task thread leaves `_jobs`, so terminating the pool can end


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


def _jobs(
    batches: Iterable[list[Line]], fmt: Format, stop: threading.Event, window: threading.Semaphore
) -> Iterator[tuple[list[Line], Format, list[Window | None]]]:
    """The batches as jobs, for the pool's task thread, each once `window` lets one more be in
    flight: it ends on `stop` even while waiting for input or for the window (Pool.terminate
    joins that thread). A failure to read input is raised here, so the pool hands it to the
    parent as the failure of the next result."""
    # None: no more input. Bounded: the feeder reads no further ahead than a batch or two.
    ready: queue.Queue[list[Line] | Exception | None] = queue.Queue(maxsize=2)
    blocks = KeyBlocks()

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
        except Exception as exc:  # raised again in the task thread, below
            put(exc)

    threading.Thread(target=feed, name="batch-feeder", daemon=True).start()
    while not stop.is_set():
        if not window.acquire(timeout=0.1):
            continue
        item = _next_ready(ready, stop)
        if item is None:
            return
        if isinstance(item, Exception):
            raise item
        yield item, fmt, _in_key_blocks(blocks, item)


def _next_ready(
    ready: queue.Queue[list[Line] | Exception | None], stop: threading.Event
) -> list[Line] | Exception | None:
    while not stop.is_set():
        try:
            return ready.get(timeout=0.1)
        except queue.Empty:
            continue
    return None
