"""`scrub_stream` in process: order and count kept with workers, bytes out, bounded read-ahead."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from connectors.stdio import Line, OversizedLine
from scrubber import stream
from scrubber.engine import Scrubber
from scrubber.engine.formats import placeholder
from scrubber.models import Reason


def _line(seq: int) -> bytes:
    return f"seq={seq} login by person{seq}@example.org from 203.0.113.{seq % 250 + 1}".encode()


def _batches(count: int, size: int, pulled: list[int] | None = None) -> Iterator[list[Line]]:
    for start in range(0, count, size):
        if pulled is not None:
            pulled.append(start // size)
        yield [_line(seq) for seq in range(start, min(start + size, count))]


@pytest.fixture
def preloaded(engine: Scrubber, monkeypatch: pytest.MonkeyPatch) -> None:
    """Forked workers inherit the session's engine instead of each loading the model."""
    monkeypatch.setattr(stream, "_preloaded", engine)


def test_scrub_lines_gives_encoded_lines_each_with_its_newline(engine: Scrubber) -> None:
    batch: list[Line] = [_line(1), OversizedLine(5_000_000), "naïve é ".encode() + _line(2)]
    output = stream.scrub_lines(engine, batch, "auto")
    assert output.count == 3
    lines = output.data.decode().split("\n")
    assert lines[-1] == ""  # every line ends with a newline, none more
    assert len(lines) == 4
    assert lines[0].startswith("seq=1 login by <EMAIL_ADDRESS>")
    assert lines[1] == placeholder(Reason.TOO_LARGE, False)
    assert lines[2].startswith("naïve é seq=2 login by <EMAIL_ADDRESS>")
    assert output.quarantined == [(Reason.TOO_LARGE.value, 5_000_000)]


@pytest.mark.usefixtures("preloaded")
def test_two_workers_keep_every_line_in_input_order() -> None:
    count = 3_001  # small, uneven batches: many results come back out of order
    outputs = list(stream.scrub_stream(_batches(count, 7), "auto", None, 2))
    data = b"".join(output.data for output in outputs)
    lines = data.decode().split("\n")
    assert lines.pop() == ""
    assert sum(output.count for output in outputs) == len(lines) == count
    assert [line.split(" ", 1)[0] for line in lines] == [f"seq={seq}" for seq in range(count)]
    assert [line for line in lines if "@example.org" in line] == []


@pytest.mark.usefixtures("preloaded")
def test_workers_read_no_further_ahead_than_the_window() -> None:
    """A consumer that stops taking output (a blocked stdout) stops the reading: the parent does
    not pull the whole input into memory while the workers or the writer lag."""
    pulled: list[int] = []
    batches = 400
    outputs = stream.scrub_stream(_batches(batches * 4, 4, pulled), "auto", None, 2)
    try:
        first = next(outputs)
        assert first.count == 4
        time.sleep(2.0)  # the workers finish what they hold; reading could run on meanwhile
        read_ahead = len(pulled)
    finally:
        outputs.close()
    # The window (workers x IN_FLIGHT_PER_WORKER), the feeder's queue (2) and the batch it holds.
    limit = 2 * stream.IN_FLIGHT_PER_WORKER + 2 + 2
    assert read_ahead <= limit < batches


@pytest.mark.usefixtures("preloaded")
def test_closing_the_stream_ends_its_threads_while_input_is_awaited() -> None:
    release = threading.Event()

    def slow() -> Iterator[list[Line]]:
        yield [_line(0)]
        release.wait(30)  # input that pauses: the stream must still stop when closed

    before = threading.active_count()
    outputs = stream.scrub_stream(slow(), "auto", None, 2)
    assert next(outputs).count == 1
    started = time.monotonic()
    outputs.close()
    assert time.monotonic() - started < 10
    release.set()
    deadline = time.monotonic() + 5
    while threading.active_count() > before and time.monotonic() < deadline:
        time.sleep(0.05)  # the feeder (a daemon) leaves once its input gives up
    assert threading.active_count() <= before


@pytest.mark.usefixtures("preloaded")
def test_with_two_workers_the_parent_scrubs_a_share_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The parent is one of the N engines (N - 1 are forked): an idle parent would keep the
    original of every page its workers copy. Counted in the parent: the forked worker counts
    into its own copy of the list."""
    in_parent: list[int] = []
    scrub = stream.scrub_lines

    def counted(*args: object, **kwargs: object) -> stream.BatchOutput:
        in_parent.append(1)
        return scrub(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(stream, "scrub_lines", counted)
    outputs = list(stream.scrub_stream(_batches(2_000, 10), "auto", None, 2))
    assert sum(output.count for output in outputs) == 2_000
    assert 0 < len(in_parent) < len(outputs) == 200


@pytest.mark.usefixtures("preloaded")
def test_a_killed_worker_s_batches_are_scrubbed_by_the_parent() -> None:
    import multiprocessing
    import os
    import signal

    count = 2_000
    outputs = stream.scrub_stream(_batches(count, 10), "auto", None, 2)
    data = [next(outputs).data]
    workers = multiprocessing.active_children()
    assert workers  # the forked worker, killed below as the OOM killer would
    for worker in workers:
        os.kill(worker.pid or 0, signal.SIGKILL)
    data += [output.data for output in outputs]
    lines = b"".join(data).decode().split("\n")
    assert lines.pop() == ""
    assert [line.split(" ", 1)[0] for line in lines] == [f"seq={seq}" for seq in range(count)]
    assert [line for line in lines if "@example.org" in line] == []
