"""`scrubber run`: one pipeline per worker process, signals, the metrics endpoint, exit codes.

With `--workers N` the parent forks a supervisor, which forks N workers that join one consumer
group and forks again at once any worker killed by a signal (`supervisor`). Each worker
serves its endpoint on a loopback port of its own and reports it to the parent, which serves the
one endpoint of the process on `metrics_port`: /metrics summed over the workers (process
metrics kept per process, labelled by worker), /healthz and /readyz over all of them
(`aggregate`). With one worker, that worker serves `metrics_port` itself. Every worker logs at
`log_level`. SIGTERM or SIGINT asks every worker to stop polling, finish its in-flight batch,
flush, commit and exit 0 within the grace period. SIGHUP (passed on by the parent and the
supervisor to every worker) reloads the policy, as a change of the config file does (`reload`):
each worker swaps at its own next batch.

Benchmarks only: with SCRUBBER_BENCH_PASSTHROUGH=unscrubbed in the environment the engine is
replaced by a pass-through, so the same pipeline measures what Kafka alone costs. Records then go
out RAW; the output's config header says `passthrough`, and the worker logs a warning.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from scrubber import __version__
from scrubber.config import Config, load_config
from scrubber.errors import ConfigError
from scrubber.log import LogFormat, configure_logging, get_logger
from scrubber.models import Format, Outcome, RecordResult
from scrubber.pipeline.supervisor import Events, Supervisor
from scrubber.processes import (
    FORWARDED_SIGNALS,
    forwarded_signals_held,
    stop_when_parent_dies,
    worker_context,
)
from scrubber.vault.recorder import shared_engine

if TYPE_CHECKING:
    from scrubber.engine.key_blocks import Window
    from scrubber.engine.scrub import Scrubber
    from scrubber.pipeline.aggregate import WorkerBoard

log = get_logger("scrubber.run")
PASSTHROUGH_ENV = "SCRUBBER_BENCH_PASSTHROUGH"
PASSTHROUGH_VALUE = "unscrubbed"  # a deliberate word, not a truthy flag set by accident


def _passthrough(_config: Config, _shadow: bool, /, *, lends: bool = False) -> _Passthrough:  # noqa: ARG001
    return _Passthrough()


class _Passthrough:
    """Benchmark stand-in for the engine: every record goes out as it came in."""

    config_hash = "passthrough"

    def scrub_batch(
        self,
        records: Sequence[bytes | str],
        fmt: Format = "auto",  # noqa: ARG002  # the engine's signature; format does not matter
        *,
        key_blocks: Sequence[Window | None] | None = None,  # noqa: ARG002  # nor key blocks
    ) -> list[RecordResult]:
        return [
            RecordResult(r.decode("utf-8", "replace") if isinstance(r, bytes) else r, Outcome.OK)
            for r in records
        ]


# The engine `run` builds before forking its workers (they borrow its detector), None in a worker
# spawned or run alone.
_shared: Scrubber | None = None
_shared_by = 1  # how many workers are forked from `_shared`: each caches its share


def _stop_on_signals(stop: threading.Event) -> None:
    def handle(signum: int, _frame: FrameType | None) -> None:
        log.info("signal_received", signal=signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def run_worker(
    config_path: Path | None,
    index: int,
    metrics_port: int,
    log_format: LogFormat,
    *,
    log_level: str = "info",
    report: Events | None = None,
) -> int:
    """One worker. `report` given (a child of `run`): serve on a loopback port the OS picks and
    put `(index, port)` on it; else serve `metrics_port` on every interface."""
    from scrubber.pipeline import policies, privacy
    from scrubber.pipeline.loop import Pipeline
    from scrubber.pipeline.metrics import PipelineMetrics, serve_metrics
    from scrubber.pipeline.reload import Reloader

    configure_logging(log_format, log_level)
    # `kill -USR1 <pid>` prints every thread's stack to stderr: what a hung worker is waiting on.
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    stop = threading.Event()
    _stop_on_signals(stop)
    if report is not None:  # a child of the supervisor: stop if it dies
        stop_when_parent_dies()
    hangups: list[int] = []  # a SIGHUP while the engines load is a reload once they are built
    signal.signal(signal.SIGHUP, lambda signum, _frame: hangups.append(signum))
    config = load_config(config_path)
    metrics = PipelineMetrics(config.digest(), __version__, [route.name for route in config.routes])
    if report is None:
        server = serve_metrics(metrics, metrics_port)
    else:
        server = serve_metrics(metrics, 0, host="127.0.0.1")
        metrics_port = server.server_address[1]
        report.put(("port", index, metrics_port))
    engines = None
    if os.environ.get(PASSTHROUGH_ENV) == PASSTHROUGH_VALUE:
        log.warning("passthrough_records_not_scrubbed", env=PASSTHROUGH_ENV)
    else:
        if _shared is not None:
            _shared.detector.share_cache(_shared_by)  # a cache of its own: not the parent's pages
        engines = policies.Engines(lender=_shared)
    make: policies.MakeEngine = engines or _passthrough
    private = privacy.private_counts(config)
    reloader = Reloader(config_path, policies.build(config, make, private=private), make, metrics)
    if engines is not None:
        engines.built()  # the engines of a reload are not frozen (Scrubber.warm_up)
    signal.signal(signal.SIGHUP, lambda _signum, _frame: reloader.request())
    if hangups:
        reloader.request()
    metrics.plugin_costs(lambda: reloader.in_force.plugin_costs())  # noqa: PLW0108  # at each scrape
    pipeline = Pipeline(config, reloader, metrics, worker=index)
    log.info("worker_started", worker=index, config_hash=config.digest(), metrics_port=metrics_port)
    reloader.start()
    stop_privacy = privacy.start(config, metrics, lambda: reloader.in_force)
    try:
        pipeline.run(stop)
    finally:
        reloader.stop()
        stop_privacy()
        server.shutdown()
        server.server_close()
    log.info("worker_stopped", worker=index)
    return 0


def _child(
    index: int, events: Events, config_path: Path | None, log_format: LogFormat, log_level: str
) -> None:
    raise SystemExit(
        run_worker(config_path, index, 0, log_format, log_level=log_level, report=events)
    )


def run(
    config_path: Path | None,
    workers: int,
    metrics_port: int,
    log_format: LogFormat,
    log_level: str = "info",
) -> int:
    config = load_config(config_path)  # fail fast, in the parent, on a bad config
    if workers > 1 and config.privacy_metrics.enabled:
        raise ConfigError(
            "privacy_metrics: one private view per process; with --workers N each worker would "
            "publish its own noisy counts (run --workers 1, or more pods)"
        )
    if workers <= 1:
        return run_worker(config_path, 0, metrics_port, log_format, log_level=log_level)
    from scrubber.pipeline.aggregate import WorkerBoard, parent_registry, serve_workers

    # The model and word lists loaded here are shared by the workers forked below (no thread
    # may run yet: the metrics server starts after them). Each builds its own engines on them.
    global _shared, _shared_by  # inherited by the workers forked below
    if os.environ.get(PASSTHROUGH_ENV) != PASSTHROUGH_VALUE:
        _shared, _shared_by = shared_engine(config), workers
    context = worker_context()
    events: Events = context.SimpleQueue()
    supervisor = context.Process(
        target=_supervise,
        args=(workers, events, config_path, log_format, log_level),
        name="supervisor",
    )
    parent = os.getpid()
    early: list[int] = []  # handled while the supervisor was being forked: sent once it is

    def forward(signum: int, _frame: FrameType | None) -> None:
        if os.getpid() != parent:
            return
        if supervisor.pid is None:
            early.append(signum)
        elif supervisor.is_alive():
            os.kill(supervisor.pid, signum)  # it passes the signal on to every worker

    for signum in FORWARDED_SIGNALS:  # SIGHUP: each worker reloads
        signal.signal(signum, forward)
    with forwarded_signals_held():  # the supervisor releases them once its handlers are set
        supervisor.start()
    assert supervisor.pid is not None  # started
    for early_signal in early:
        os.kill(supervisor.pid, early_signal)
    board = WorkerBoard(workers)
    server = serve_workers(
        metrics_port, board, lambda: supervisor.is_alive() and board.all_alive(),
        own=parent_registry(__version__, config.digest()),
    )  # fmt: skip
    threading.Thread(
        target=_follow, args=(events, board), name="worker-events", daemon=True
    ).start()
    supervisor.join()
    server.shutdown()
    server.server_close()
    code = supervisor.exitcode or 0
    log.info("workers_stopped", exit_code=code)
    return code


def _supervise(
    workers: int, events: Events, config_path: Path | None, log_format: LogFormat, log_level: str
) -> None:
    args = (config_path, log_format, log_level)
    raise SystemExit(Supervisor(workers, _child, args, events).run())


def _follow(events: Events, board: WorkerBoard) -> None:
    """What the workers and their supervisor report: ports as workers start, exits, restarts
    (a daemon thread: it blocks on the queue until the process ends)."""
    while True:
        what, index, value = events.get()
        board.heard(what, index, value)
