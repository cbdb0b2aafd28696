"""Line-oriented byte streams (files, stdin, stdout) in bounded memory, batched for the engine.

Guarantees: every input line gives exactly one output line, in order; a line longer than the
limit is never held whole in memory (it is read past and reported as too large); a batch is
handed on as soon as input pauses, so output starts before input ends.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

_CHUNK = 1 << 16


@dataclass(frozen=True, slots=True)
class OversizedLine:
    """Stands in for a line longer than the limit; its content was read past, never stored."""

    size: int


Line = bytes | OversizedLine


def read_lines(stream: BinaryIO, max_line_bytes: int) -> Iterator[Line]:
    """Lines without their `\\n`; a last line without one counts too."""
    while True:
        line = stream.readline(max_line_bytes + 1)
        if not line:
            return
        if line.endswith(b"\n"):
            yield line[:-1]
            continue
        if len(line) <= max_line_bytes:
            yield line  # last line, no newline at the end of the stream
            return
        size = len(line)
        while True:  # read past the rest of an oversized line without keeping it
            rest = stream.readline(_CHUNK)
            size += len(rest)
            if not rest or rest.endswith(b"\n"):
                break
        yield OversizedLine(size)


_END = object()
# While no line comes, `while_idle` runs this often: the caller may stop the wait from it.
IDLE_CHECK_SECONDS = 0.1


def batched(
    lines: Iterable[Line],
    max_batch: int,
    max_wait_seconds: float,
    while_idle: Callable[[], None] = lambda: None,
) -> Iterator[list[Line]]:
    """Group lines into batches: full ones while input flows, short ones when it pauses.

    A reader thread keeps pulling lines so a slow producer never blocks a ready batch. While
    input pauses, `while_idle` is called every `IDLE_CHECK_SECONDS` in the iterating thread; an
    exception it raises (a Ctrl-C noted by the caller's signal handler) ends the iteration.
    """
    buffer: queue.Queue[object] = queue.Queue(maxsize=max_batch * 4)

    def pump() -> None:
        try:
            for line in lines:
                buffer.put(line)
        finally:
            buffer.put(_END)

    threading.Thread(target=pump, name="stdin-reader", daemon=True).start()
    finished = False
    while not finished:
        first = _first(buffer, while_idle)
        if first is _END:
            return
        batch: list[Line] = [first]  # type: ignore[list-item]
        deadline = time.monotonic() + max_wait_seconds
        while len(batch) < max_batch:
            try:
                item = buffer.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is _END:
                finished = True
                break
            batch.append(item)  # type: ignore[arg-type]
        yield batch


def _first(buffer: queue.Queue[object], while_idle: Callable[[], None]) -> object:
    while True:
        try:
            return buffer.get(timeout=IDLE_CHECK_SECONDS)
        except queue.Empty:
            while_idle()
