"""Reloading the policy of a running `scrubber run` worker: SIGHUP, or the config file changed.

A thread of its own watches the file every WATCH_SECONDS (its resolved path, mtime and content
hash: a Kubernetes ConfigMap mount changes by swapping the `..data` symlink, which inotify on the
file never sees) and answers SIGHUP. It reads and validates the new file, refuses it when a
setting that needs a restart changed (`restart_needed`), and builds the new engines beside the
running ones (reusing those whose effective config is unchanged), off the loop's path. The loop
takes the new set at its next batch (`current()`): one batch is scrubbed wholly under one set,
so no record sees half a policy, and headers and the info metrics show the new hashes from the
first batch scrubbed under it. Any failure keeps the old set in force, logs why (the config
error, never a record value) and raises `scrubber_config_reload_failed` until a good reload.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import Counter, Gauge, Info

from scrubber import __version__
from scrubber.config import Config, load_config
from scrubber.errors import ScrubberError
from scrubber.log import get_logger
from scrubber.metrics_common import zero_series
from scrubber.pipeline.metrics import PipelineMetrics
from scrubber.pipeline.policies import MakeEngine, Policies, build

WATCH_SECONDS = 2.0
_TICK_SECONDS = 0.2  # how soon a SIGHUP is seen by the reload thread
# Sections read once at start: changing them needs a restart (the reload is refused).
RESTART_SECTIONS = ("keys", "kafka", "pipeline", "vault", "privacy_metrics")
OUTCOMES = ("ok", "unchanged", "invalid", "restart_needed")

log = get_logger("scrubber.reload")


def restart_needed(running: Config, new: Config) -> list[str]:
    """The restart-only sections that differ: `keys`, `kafka`, `pipeline`, `vault`,
    `privacy_metrics` (its series and port are fixed at start), and
    `routes` when a route's name, input topics or output topic changed (or a route came or
    went). Everything else (policies, detection, limits, recognizers, shadow, route formats and
    key/header scrubbing, quarantine) is applied live."""
    changed = [s for s in RESTART_SECTIONS if getattr(running, s) != getattr(new, s)]
    if _wiring(running) != _wiring(new):
        changed.append("routes (names, inputs, outputs)")
    return changed


def _wiring(config: Config) -> list[tuple[str, tuple[str, ...], str]]:
    return [(route.name, route.topics, route.output) for route in config.routes]


@dataclass(frozen=True, slots=True)
class _Seen:
    """What the watcher last saw of the file."""

    where: str  # the resolved path (a ConfigMap's `..data` symlink points elsewhere after a swap)
    mtime_ns: int
    size: int
    digest: str  # sha256 of the bytes


def _look(path: Path, last: _Seen | None) -> _Seen | None:
    """The file as it is now (None: unreadable); read only when path, mtime or size moved."""
    try:
        where = os.path.realpath(path)
        stat = os.stat(where)
        if last is not None and (where, stat.st_mtime_ns, stat.st_size) == (
            last.where, last.mtime_ns, last.size,
        ):  # fmt: skip
            return last
        digest = hashlib.sha256(Path(where).read_bytes()).hexdigest()
    except OSError:
        return None
    return _Seen(where, stat.st_mtime_ns, stat.st_size, digest)


class ReloadMetrics:
    """`scrubber_config_reload_failed` (1 from a refused reload until a good one),
    `scrubber_config_reloads_total{outcome}`, and `scrubber_route_config_info{route,
    config_hash}` beside `scrubber_build_info` (the whole file's hash)."""

    def __init__(self, metrics: PipelineMetrics, policies: Policies) -> None:
        r = metrics.registry
        self._build_info = metrics.build_info
        self.failed = Gauge(
            "scrubber_config_reload_failed", "1 while the last config reload was refused",
            registry=r,
        )  # fmt: skip
        self.reloads = Counter(
            "scrubber_config_reloads", "Config reloads by outcome", ["outcome"], registry=r
        )
        zero_series(self.reloads, [(o,) for o in OUTCOMES])
        self.route_info = Info(
            "scrubber_route_config", "The effective config hash each route's output carries",
            ["route"], registry=r,
        )  # fmt: skip
        self.in_force(policies)

    def in_force(self, policies: Policies) -> None:
        self._build_info.info({"version": __version__, "config_hash": policies.config.digest()})
        for policy in policies.routes:
            self.route_info.labels(policy.route.name).info({"config_hash": policy.config_hash})


class Reloader:
    """The loop's source of policy sets (`current()`), reloaded in the background."""

    def __init__(
        self,
        path: Path | None,
        policies: Policies,
        make: MakeEngine,
        metrics: PipelineMetrics,
        *,
        on_swap: Callable[[Policies], None] | None = None,
        watch_seconds: float = WATCH_SECONDS,
    ) -> None:
        self._path = path
        self._in_force = policies
        self._pending: Policies | None = None
        self._lock = threading.Lock()
        self._make = make
        self._metrics = ReloadMetrics(metrics, policies)
        self._on_swap = on_swap
        self._watch_seconds = watch_seconds
        self._requested = False
        self._stop = threading.Event()
        self._seen = None if path is None else _look(path, None)
        self._thread = threading.Thread(target=self._run, name="config-reload", daemon=True)

    @property
    def in_force(self) -> Policies:
        return self._in_force

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def request(self) -> None:
        """SIGHUP: reload at the next tick. Only a flag is set: safe in a signal handler."""
        self._requested = True

    def current(self) -> Policies:
        """The set for the next batch (the loop's thread, at a batch boundary): a set built
        since the last batch takes over here, whole."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            old = self._in_force
            self._in_force = pending
            self._metrics.in_force(pending)
            if self._on_swap is not None:
                self._on_swap(pending)
            log.info(
                "config_reloaded", config_hash=pending.config.digest(),
                previous=old.config.digest(),
                routes={p.route.name: p.config_hash for p in pending.routes},
            )  # fmt: skip
        return self._in_force

    def _run(self) -> None:
        next_look = 0.0
        while not self._stop.wait(_TICK_SECONDS):
            now = time.monotonic()
            if self._requested:
                self._requested = False
                self.reload("sighup")
            elif self._path is not None and now >= next_look:
                next_look = now + self._watch_seconds
                seen = _look(self._path, self._seen)
                if seen is not None and (self._seen is None or seen.digest != self._seen.digest):
                    self._seen = seen
                    self.reload("file_changed")

    def reload(self, trigger: str) -> str:
        """Read, check and build the new set (this thread); its outcome (see OUTCOMES)."""
        if self._path is None:
            log.warning("config_reload_ignored", trigger=trigger, reason="no config file")
            return self._count("unchanged")
        base = self._pending or self._in_force
        self._seen = _look(self._path, None)  # what a SIGHUP read: not reloaded again on sight
        try:
            config = load_config(self._path)
        except ScrubberError as exc:
            return self._refuse("invalid", trigger, reason=str(exc))
        if changed := restart_needed(base.config, config):
            return self._refuse(
                "restart_needed", trigger, reason="restart needed", sections=changed
            )
        if config.digest() == base.config.digest():
            log.info("config_unchanged", trigger=trigger, config_hash=config.digest())
            return self._count("unchanged", good=True)
        try:
            built = build(config, self._make, previous=_union(base, self._in_force))
        except Exception as exc:  # a key that cannot be read, a plug-in that fails to load...
            return self._refuse("invalid", trigger, reason=f"{type(exc).__name__}: {exc}")
        with self._lock:
            self._pending = built
        log.info("config_reload_ready", trigger=trigger, config_hash=config.digest())
        return self._count("ok", good=True)

    def _refuse(self, outcome: str, trigger: str, **why: object) -> str:
        log.error("config_reload_refused", trigger=trigger, outcome=outcome, kept=True, **why)
        return self._count(outcome)

    def _count(self, outcome: str, *, good: bool = False) -> str:
        self._metrics.reloads.labels(outcome).inc()
        if good:
            self._metrics.failed.set(0)
        elif outcome != "unchanged":
            self._metrics.failed.set(1)
        return outcome


def _union(a: Policies, b: Policies) -> Policies:
    """Engines of both sets, for reuse."""
    return Policies(a.config, a.by_topic, {**b.engines, **a.engines}, a.private)
