"""`scrubber run`: one pipeline per worker process, signals, metrics endpoint, exit codes.

With `--workers N` the parent spawns N processes that join one consumer group; worker i serves
its metrics on `metrics_port + i`. SIGTERM or SIGINT asks every worker to stop polling, finish
its in-flight batch, flush, commit and exit 0 within the grace period.

Benchmarks only: with SCRUBBER_BENCH_PASSTHROUGH=unscrubbed in the environment the engine is
replaced by a pass-through, so the same pipeline measures what Kafka alone costs. Records then go
out RAW; the output's config header says `passthrough`, and the worker logs a warning.
"""

from __future__ import annotations

import faulthandler
import multiprocessing
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from scrubber import __version__
from scrubber.config import load_config
from scrubber.log import LogFormat, configure_logging, get_logger
from scrubber.models import Format, Outcome, RecordResult

log = get_logger("scrubber.run")
PASSTHROUGH_ENV = "SCRUBBER_BENCH_PASSTHROUGH"
PASSTHROUGH_VALUE = "unscrubbed"  # a deliberate word, not a truthy flag set by accident


class _Passthrough:
    """Benchmark stand-in for the engine: every record goes out as it came in."""

    config_hash = "passthrough"

    def scrub_batch(
        self,
        records: Sequence[bytes | str],
        fmt: Format = "auto",  # noqa: ARG002  # the engine's signature; format does not matter
    ) -> list[RecordResult]:
        return [
            RecordResult(r.decode("utf-8", "replace") if isinstance(r, bytes) else r, Outcome.OK)
            for r in records
        ]


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("signal_received", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def run_worker(
    config_path: Path | None, index: int, metrics_port: int, log_format: LogFormat
) -> int:
    from scrubber.pipeline.loop import BatchScrubber, Pipeline
    from scrubber.pipeline.metrics import PipelineMetrics, serve_metrics
    from scrubber.vault.recorder import scrubber_for

    configure_logging(log_format)
    # `kill -USR1 <pid>` prints every thread's stack to stderr: what a hung worker is waiting on.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    stop = threading.Event()
    _stop_on_signals(stop)
    config = load_config(config_path)
    metrics = PipelineMetrics(config.digest(), __version__)
    server = serve_metrics(metrics, metrics_port)
    engine: BatchScrubber
    if os.environ.get(PASSTHROUGH_ENV) == PASSTHROUGH_VALUE:
        log.warning("passthrough_records_not_scrubbed", env=PASSTHROUGH_ENV)
        engine = _Passthrough()
    else:
        engine = scrubber_for(config)
    pipeline = Pipeline(config, engine, metrics, worker=index)
    log.info("worker_started", worker=index, config_hash=config.digest(), metrics_port=metrics_port)
    try:
        pipeline.run(stop)
    finally:
        server.shutdown()
    log.info("worker_stopped", worker=index)
    return 0


def _child(config_path: Path | None, index: int, metrics_port: int, log_format: LogFormat) -> None:
    raise SystemExit(run_worker(config_path, index, metrics_port, log_format))


def run(config_path: Path | None, workers: int, metrics_port: int, log_format: LogFormat) -> int:
    load_config(config_path)  # fail fast, in the parent, on a bad config
    if workers <= 1:
        return run_worker(config_path, 0, metrics_port, log_format)
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(
            target=_child, args=(config_path, i, metrics_port + i, log_format), name=f"worker-{i}"
        )
        for i in range(workers)
    ]
    for child in children:
        child.start()

    def forward(signum: int, _frame: FrameType | None) -> None:
        for child in children:
            if child.pid is not None and child.is_alive():
                os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.join()
    codes = [child.exitcode or 0 for child in children]
    log.info("workers_stopped", exit_codes=codes)
    return max(codes, key=abs)
