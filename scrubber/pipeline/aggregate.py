"""One /metrics, /healthz and /readyz for all workers of `scrubber run --workers N`.

Each worker serves its own endpoint on a loopback port the OS chose and tells the parent which;
the parent serves `--metrics-port` and, on every request, asks every worker in turn:

- /metrics: the workers' samples summed by name and labels (counters, histograms, gauges such
  as lag and assigned partitions), the build info and `_created` timestamps not summed (max and
  min); plus `scrubber_workers{state}` (reporting / expected). Labels stay those of the workers.
  Process metrics (`process_*`, `python_*`) are not summed but kept per process: each worker's
  with a `worker="<index>"` label, the parent's own without one (see `PER_PROCESS`). The build
  info is the workers' (a reload changes their config hash), the parent's only before any
  worker reports.
  A worker that died (and was forked again by the supervisor) leaves its counters as last
  scraped in the sums, so a total never goes backwards (Prometheus would read a drop as a
  reset and count the survivors' whole totals again); what it counted after its last scrape is
  not there.
- /healthz: 200 while every worker process lives and every worker's loop is turning.
- /readyz: 200 once every worker is ready (engine loaded, partitions assigned, broker reachable).
"""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from http.server import ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from scrubber.metrics_common import add_build_info, add_process_metrics
from scrubber.pipeline.metrics import Answer, serve, status_answer

ASK_TIMEOUT_SECONDS = 2.0
# Families that describe one OS process. Summed they would lie: N workers' process_max_fds is
# not N times the limit, nor is a sum of start times a time, and a sum hides the one worker
# that leaks. So every process keeps its own series: a worker's labelled `worker="<index>"`,
# the parent's own unlabelled, as with one worker (the unlabelled series are always those of
# the process that answered the scrape). The pod's CPU, RSS or fds are then `sum` over all of
# them, and `max by (worker)` finds the one that grows. Each worker's k-anonymity windows are
# its own too: a sum of smallest classes is no class (alerts take the `min`).
PER_PROCESS = ("process_", "python_", "scrubber_kanon_")
WORKER_LABEL = "worker"
Exposition = tuple[str | None, str]  # (the worker's index, or None for this process; its text)


def ask(port: int, path: str) -> tuple[int, bytes] | None:
    """GET a worker's endpoint on loopback; None if it does not answer."""
    try:
        url = f"http://127.0.0.1:{port}{path}"
        with urllib.request.urlopen(url, timeout=ASK_TIMEOUT_SECONDS) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        with exc:  # an HTTPError holds the connection open until closed
            return exc.code, exc.read()
    except OSError:
        return None


def _combine(name: str, values: list[float]) -> float:
    if name.endswith("_created"):
        return min(values)
    if name.endswith("_info"):
        return max(values)
    return sum(values)


def merge(expositions: Iterable[Exposition]) -> list[Metric]:
    """The families of several expositions, samples of the same name and labels combined;
    a worker's process metrics labelled with its index instead (`PER_PROCESS`)."""
    families: dict[str, Metric] = {}
    values: dict[tuple[str, str, tuple[tuple[str, str], ...]], list[float]] = {}
    for worker, text in expositions:
        for family in text_string_to_metric_families(text):
            families.setdefault(family.name, family)
            label = worker if family.name.startswith(PER_PROCESS) else None
            for sample in family.samples:
                labelled = (
                    sample.labels if label is None else {**sample.labels, WORKER_LABEL: label}
                )
                key = (family.name, sample.name, tuple(sorted(labelled.items())))
                values.setdefault(key, []).append(sample.value)
    merged = {name: Metric(name, f.documentation, f.type, f.unit) for name, f in families.items()}
    for (family_name, name, labels), found in values.items():
        merged[family_name].samples.append(Sample(name, dict(labels), _combine(family_name, found)))
    return list(merged.values())


MONOTONIC = ("counter", "histogram", "summary")


class WorkerBoard:
    """What the parent knows of its workers: each one's loopback port while it lives, its last
    scraped metrics, and the counters of the workers that died (`retired`)."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self._ports: dict[int, int] = {}
        self._alive: set[int] = set()
        self._last: dict[int, str] = {}
        self._retired: list[Exposition] = []
        self._lock = threading.Lock()

    def heard(self, what: str, index: int, value: int) -> None:
        """An event of `supervisor.Event`: ("port", i, port), ("exited", i, code),
        ("restarted", i, pid)."""
        with self._lock:
            if what == "port":
                self._ports[index] = value
                self._alive.add(index)
            elif what == "restarted":
                self._alive.add(index)
            elif what == "exited":
                self._alive.discard(index)
                self._ports.pop(index, None)
                if (last := self._last.pop(index, None)) is not None:
                    self._retired = [(None, _monotonic_part(last, *self._retired))]

    def ports(self) -> dict[int, int]:
        with self._lock:
            return dict(self._ports)

    def all_alive(self) -> bool:
        with self._lock:
            return len(self._alive) == self.expected

    def scraped(self, index: int, text: str) -> None:
        with self._lock:
            if index in self._ports:
                self._last[index] = text

    def retired(self) -> list[Exposition]:
        with self._lock:
            return list(self._retired)


def _monotonic_part(text: str, *more: Exposition) -> str:
    """The counters, histograms and summaries of `text` (without `_created` times, which
    describe a process), summed with those of `more`."""
    families = [f for f in text_string_to_metric_families(text) if f.type in MONOTONIC]
    kept = []
    for family in families:
        family.samples = [s for s in family.samples if not s.name.endswith("_created")]
        if not family.name.startswith(PER_PROCESS):
            kept.append(family)
    return exposition(merge([(None, exposition(kept).decode()), *more])).decode()


class _Collected:
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> list[Metric]:
        return self._families


def exposition(families: list[Metric]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collected(families))
    return generate_latest(registry)


def _workers_gauge(reporting: int, expected: int) -> Metric:
    gauge = Metric("scrubber_workers", "Worker processes: reporting, expected", "gauge")
    gauge.samples.append(Sample("scrubber_workers", {"state": "reporting"}, reporting))
    gauge.samples.append(Sample("scrubber_workers", {"state": "expected"}, expected))
    return gauge


def parent_registry(version: str, config_hash: str) -> CollectorRegistry:
    """The parent's own series: its process metrics and the build info (so both exist before
    any worker reports)."""
    registry = CollectorRegistry()
    add_process_metrics(registry)
    add_build_info(registry, version, config_hash)
    return registry


def serve_workers(
    port: int,
    board: WorkerBoard,
    alive: Callable[[], bool],
    *,
    own: CollectorRegistry | None = None,
    host: str = "0.0.0.0",  # noqa: S104  # probes and scrapes come from outside the pod
) -> ThreadingHTTPServer:
    """The parent's endpoint (see the module docstring); `own`: the parent's own series."""

    expected = board.expected

    def answers(path: str) -> list[tuple[int, tuple[int, bytes] | None]]:
        return [(i, ask(p, path)) for i, p in sorted(board.ports().items())]

    def metrics() -> Answer:
        texts: list[Exposition] = [
            (str(i), a[1].decode()) for i, a in answers("/metrics") if a is not None and a[0] == 200
        ]
        for index, text in texts:
            board.scraped(int(index or 0), text)
        mine: list[Exposition] = [] if own is None else [(None, _own(own, bool(texts)))]
        families = [*merge([*texts, *board.retired(), *mine]), _workers_gauge(len(texts), expected)]
        return 200, exposition(families), CONTENT_TYPE_LATEST

    def healthz() -> Answer:
        found = [a for _, a in answers("/healthz")]
        ok = alive() and all(a is not None and a[0] == 200 for a in found)
        return status_answer(ok, "ok" if ok else "a worker stalled or exited")

    def readyz() -> Answer:
        found = [a for _, a in answers("/readyz")]
        if len(found) < expected:
            return status_answer(False, f"{len(found)} of {expected} workers started")
        reasons = sorted({_reason(a) for a in found if a is None or a[0] != 200})
        return status_answer(not reasons, "; ".join(reasons) or "ready")

    return serve(port, host, {"/metrics": metrics, "/healthz": healthz, "/readyz": readyz})


def _own(own: CollectorRegistry, workers_reported: bool) -> str:
    """The parent's series; its build info (the config hash at start) only until a worker
    reports its own, which a config reload changes."""
    families = text_string_to_metric_families(generate_latest(own).decode())
    if workers_reported:
        families = (f for f in families if f.name != "scrubber_build_info")
    return exposition(list(families)).decode()


def _reason(answer: tuple[int, bytes] | None) -> str:
    return "a worker does not answer" if answer is None else answer[1].decode().strip()
