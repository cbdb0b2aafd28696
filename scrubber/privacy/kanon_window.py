"""k-anonymity of one route's scrubbed output, over tumbling windows of records or seconds.

`observe(payload)` is handed each output record as it leaves; it reads the record's
quasi-identifiers (scrubber.privacy.quasi_fields), counts it into the current window's classes
(scrubber.privacy.classes) and, when the window is full (`window_records`) or its time is up
(`window_seconds`, checked at each record and at `tick()`), closes it: its figures become the
snapshot the metrics read. An empty window never closes.

Windowed k is a risk indicator, not the k of the data set: records of one person in different
windows are never compared, and a class that is small in every window may be large over a day.

`on_breach: generalize`: half-way through a window (half its records, or half its seconds), a
running check looks for a class below k. If there is one, the window's remaining records go out
with their quasi-identifiers one step coarser (scrubber.privacy.generalize); if the check was
clean but the window still closes below k, the next window starts a step coarser. So a breach
raises the step by one, at most once per window, up to MAX_STEP; the step never goes back down
by itself (a new config, or a restart, starts again at 0): a stream that needed it once may
need it again, and every try at a finer step would publish the finer values first.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from scrubber.config.kanon import KAnonymityConfig
from scrubber.log import get_logger
from scrubber.privacy.classes import ClassCounter, Figures
from scrubber.privacy.generalize import coarsen
from scrubber.privacy.quasi_fields import read_record

MAX_STEP = 8  # by then every value on every ladder is "*" (or a band as wide as its digits)
log = get_logger("scrubber.privacy")


@dataclass(frozen=True, slots=True)
class KAnonymitySnapshot:
    """What the metrics read: the last closed window's figures (None before the first)."""

    route: str
    k: int
    l: int | None  # noqa: E741  # the measure's own name; None without a sensitive field
    last: Figures | None
    windows: int
    breaches: int
    step: int


class WindowedKAnonymity:
    """One route's windows. `observe` may be called from one thread and `snapshot` from another
    (the metrics endpoint's)."""

    def __init__(
        self, config: KAnonymityConfig, route: str, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.route = route
        self._clock = clock
        self._lock = threading.Lock()
        self._step = 0
        self._windows = self._breaches = 0
        self._last: Figures | None = None
        # The current window: its classes, when it started and how many records it saw.
        self._counter: ClassCounter
        self._started: float | None = None
        self._seen = 0
        self._checked = False  # the half-way check ran (generalize only)
        self._raised = False  # this window raised the step already
        self._open_window()

    @property
    def step(self) -> int:
        """How many steps coarser the quasi-identifiers go out now (0: as scrubbed)."""
        return self._step

    def observe(self, payload: bytes) -> bytes:
        """Count one output record; returns it unchanged, or coarser under `generalize`."""
        with self._lock:
            now = self._clock()
            if self._time_is_up(now):
                self._close_window()
            if self._started is None:
                self._started = now
            self._half_way_check(now)
            record = read_record(payload)
            if record is not None and self._step > 0:
                step = self._step
                coarser = record.rewrite(self.config.quasi_identifiers, lambda v: coarsen(v, step))
                if coarser is not None:
                    payload = coarser.encode("utf-8", "surrogatepass")
                    record = read_record(payload)
            self._counter.add(record)
            self._seen += 1
            if self.config.window_records is not None and self._seen >= self.config.window_records:
                self._close_window()
            return payload

    def tick(self) -> None:
        """Close a time window whose time is up although no record came (call it now and then)."""
        with self._lock:
            if self._time_is_up(self._clock()):
                self._close_window()

    def close(self) -> Figures | None:
        """Close the current window now (at shutdown); its figures, or None when it was empty."""
        with self._lock:
            return self._close_window() if self._seen else None

    def snapshot(self) -> KAnonymitySnapshot:
        with self._lock:
            return KAnonymitySnapshot(
                self.route, self.config.k, self._counter.l, self._last, self._windows,
                self._breaches, self._step,
            )  # fmt: skip

    def _open_window(self) -> None:
        self._counter = ClassCounter(
            self.config.quasi_identifiers, self.config.k, sensitive=self.config.sensitive,
            l=self.config.l, max_classes=self.config.max_classes,
        )  # fmt: skip
        self._started = None
        self._seen = 0
        self._checked = self._raised = False

    def _time_is_up(self, now: float) -> bool:
        seconds = self.config.window_seconds
        return seconds is not None and self._started is not None and now >= self._started + seconds

    def _half_way_check(self, now: float) -> None:
        if self.config.on_breach != "generalize" or self._checked or self._started is None:
            return
        if self.config.window_records is not None:
            half_way = self._seen >= self.config.window_records // 2
        else:
            half_way = now >= self._started + (self.config.window_seconds or 0.0) / 2
        if half_way:
            self._checked = True
            if self._counter.has_class_below_k():
                self._raise_step("class_below_k_half_way", self._counter.figures())

    def _raise_step(self, why: str, figures: Figures) -> None:
        self._raised = True
        if self._step < MAX_STEP:
            self._step += 1
        # Counts only: the route is a config name, the figures are counts.
        log.warning(
            "kanon_generalize", route=self.route, why=why, step=self._step,
            smallest_class=figures.smallest_class, k=self.config.k,
        )  # fmt: skip

    def _close_window(self) -> Figures:
        figures = self._counter.figures()
        self._last = figures
        self._windows += 1
        self._breaches += figures.breached
        if self.config.on_breach == "generalize" and figures.k_breached and not self._raised:
            self._raise_step("window_closed_below_k", figures)  # for the next window
        self._open_window()
        return figures
