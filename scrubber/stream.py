"""The `scrub` filter's core: batches of lines through the engine, in order, on N processes.

With one worker the engine runs in this process. With more, each worker process builds its own
engine from the same config (spawned, so no thread or BLAS state is inherited across a fork) and
`Pool.imap` hands batches out and gives results back in input order.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from connectors.stdio import Line, OversizedLine
from scrubber.config import load_config
from scrubber.engine import Scrubber
from scrubber.engine.formats import placeholder
from scrubber.models import Format, Outcome, Reason
from scrubber.vault.recorder import scrubber_for


@dataclass(slots=True)
class BatchOutput:
    """Scrubbed lines of one batch, and (reason, size) for each line that failed closed."""

    lines: list[str]
    quarantined: list[tuple[str, int]] = field(default_factory=list)


def scrub_lines(engine: Scrubber, batch: list[Line], fmt: Format) -> BatchOutput:
    records = [line for line in batch if not isinstance(line, OversizedLine)]
    results = iter(engine.scrub_batch(records, fmt))
    output = BatchOutput([])
    for line in batch:
        if isinstance(line, OversizedLine):
            output.lines.append(placeholder(Reason.TOO_LARGE, fmt == "json"))
            output.quarantined.append((Reason.TOO_LARGE.value, line.size))
            continue
        result = next(results)
        if result.outcome is Outcome.QUARANTINED and result.reason is not None:
            output.quarantined.append((result.reason.value, len(line)))
        output.lines.append(result.output)
    return output


_worker_engine: Scrubber | None = None


def _start_worker(config_path: Path | None) -> None:
    global _worker_engine  # noqa: PLW0603  # one engine per worker process, built once
    _worker_engine = scrubber_for(load_config(config_path))


def _work(job: tuple[list[Line], Format]) -> BatchOutput:
    assert _worker_engine is not None
    return scrub_lines(_worker_engine, *job)


def scrub_stream(
    batches: Iterable[list[Line]],
    fmt: Format,
    config_path: Path | None,
    workers: int,
    engine: Scrubber | None = None,
) -> Iterator[BatchOutput]:
    """Scrubbed batches in input order."""
    if workers <= 1:
        local = engine or scrubber_for(load_config(config_path))
        for batch in batches:
            yield scrub_lines(local, batch, fmt)
        return
    # N processes on N cores: one BLAS thread each, or they fight over the cores.
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(name, "1")
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_start_worker, initargs=(config_path,)) as pool:
        yield from pool.imap(_work, ((batch, fmt) for batch in batches), chunksize=1)
