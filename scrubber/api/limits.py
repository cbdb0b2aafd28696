"""The limits of `scrubber serve`: rates per caller, bad-key attempts per client address, and
the engine lanes (a bounded queue per engine, a deadline per request).

No web framework here. Over a limit, a call raises `Refused`, which the app answers with a
fixed JSON body and Retry-After. Buckets and windows are used from the event loop only; a lane
hands work to its one engine thread.

Why lanes: the engine is not thread-safe and a 1 MB record keeps it busy for seconds, so with
one engine every small request waits behind a large one, whatever the queue order. Records of
`large_record_bytes` or more therefore run on a second engine with its own thread and a queue
of its own: they wait for each other, never for the small ones, and the small ones share the
CPU with at most one large record (Python switches threads every few milliseconds).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from scrubber.config.api import ApiLimits

if TYPE_CHECKING:
    from scrubber.engine import Scrubber

T = TypeVar("T")
Clock = Callable[[], float]
# Keys (API key names, client addresses) remembered per limit; the least recently seen is
# forgotten first, and starts again like a new caller.
MAX_TRACKED = 10_000
BAD_KEY_WINDOW = 60.0


class Refused(Exception):
    """Over a limit: answer `status` with Retry-After; `reason` names the config key."""

    def __init__(self, status: int, error: str, reason: str, retry_after: float) -> None:
        super().__init__(reason)
        self.status = status
        self.error = error
        self.reason = reason
        self.retry_after = max(1, math.ceil(retry_after))


def _remember(table: OrderedDict[str, T], key: str, value: T) -> None:
    table[key] = value
    table.move_to_end(key)
    if len(table) > MAX_TRACKED:
        table.popitem(last=False)


class TokenBuckets:
    """One token bucket per key: `rate` tokens a second, at most `burst` saved up."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when

    def take(self, key: str) -> float:
        """0.0 when a token was taken; else the seconds until the next one."""
        now = self._clock()
        tokens, then = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - then) * self.rate)
        if tokens >= 1.0:
            _remember(self._buckets, key, (tokens - 1.0, now))
            return 0.0
        _remember(self._buckets, key, (tokens, now))
        return (1.0 - tokens) / self.rate


@dataclass(frozen=True, slots=True)
class Attempt:
    allowed: bool
    first_refused: bool  # the first refusal of this window: the one that is audited
    attempts: int  # in this window, this one included
    retry_after: float


class AttemptWindows:
    """At most `limit` attempts per key in each fixed window of `window` seconds."""

    def __init__(self, limit: int, window: float = BAD_KEY_WINDOW, clock: Clock = time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._seen: OrderedDict[str, tuple[float, int]] = OrderedDict()  # window start, count

    def attempt(self, key: str) -> Attempt:
        now = self._clock()
        start, count = self._seen.get(key, (now, 0))
        if now - start >= self.window:
            start, count = now, 0
        count += 1
        _remember(self._seen, key, (start, count))
        return Attempt(count <= self.limit, count == self.limit + 1, count,
                       start + self.window - now)  # fmt: skip


class Rates:
    """The per-caller buckets of `api.limits`, by kind of request."""

    def __init__(self, limits: ApiLimits, clock: Clock = time.monotonic) -> None:
        self._buckets = {
            "scrub_per_second": TokenBuckets(limits.scrub_per_second, limits.scrub_burst, clock),
            "restore_per_second": TokenBuckets(
                limits.restore_per_second, limits.restore_burst, clock
            ),
            "subjects_per_minute": TokenBuckets(
                limits.subjects_per_minute / 60, limits.subjects_burst, clock
            ),
        }
        self.bad_keys = AttemptWindows(limits.bad_keys_per_minute, BAD_KEY_WINDOW, clock)

    def take(self, limit: str, caller: str) -> None:
        """Spend one request of `caller` under `limit` (a config key), or raise Refused."""
        wait = self._buckets[limit].take(caller)
        if wait:
            raise Refused(429, "rate_limited", limit, wait)


class EngineLane:
    """One engine, one thread, FIFO; at most `max_queue` calls wait beyond the one it runs.

    A call waits and works within its deadline or is refused (503 `busy`). A call whose
    deadline passes while waiting is dropped from the queue; one whose deadline passes while
    the engine works on it is answered at once, and the engine finishes it in the background
    (an engine call cannot be interrupted), its result unused.
    """

    def __init__(self, name: str, engine: Scrubber, max_queue: int, queue_key: str) -> None:
        self.name = name
        self.max_queue = max_queue
        self._engine = engine
        self._queue_key = queue_key
        self._thread = ThreadPoolExecutor(1, thread_name_prefix=f"engine-{name}")
        self._lock = threading.Lock()
        self._pending = 0  # running + waiting
        self._seconds = 0.05  # a moving average of one call's work, for Retry-After

    def pending(self) -> int:
        """Calls running or waiting (a call past its deadline counts while the engine works)."""
        return self._pending

    async def run(self, work: Callable[[Scrubber], T], deadline: float) -> T:
        """`work(engine)` on this lane's engine thread, within the deadline (monotonic)."""
        with self._lock:
            if self._pending > self.max_queue:
                raise Refused(503, "busy", self._queue_key, self._pending * self._seconds)
            self._pending += 1
        future = self._thread.submit(self._timed, lambda: work(self._engine), deadline)
        future.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), deadline - time.monotonic())
        except TimeoutError:
            raise Refused(503, "busy", "request_deadline_seconds", self._seconds) from None

    def _timed(self, work: Callable[[], T], deadline: float) -> T:
        started = time.monotonic()
        if started >= deadline:  # its caller has been answered already
            raise TimeoutError
        try:
            return work()
        finally:
            self._seconds = 0.8 * self._seconds + 0.2 * (time.monotonic() - started)

    def _finished(self, _: Future[T]) -> None:
        with self._lock:
            self._pending -= 1


class Lanes:
    """The standard lane, and the large lane when there is a second engine for it."""

    def __init__(self, limits: ApiLimits, engine: Scrubber, large: Scrubber | None) -> None:
        self.standard = EngineLane("standard", engine, limits.max_queue, "max_queue")
        self.large = None
        self.large_record_bytes = limits.large_record_bytes
        if large is not None and limits.large_record_bytes is not None:
            self.large = EngineLane("large", large, limits.max_large_queue, "max_large_queue")
        self.deadline_seconds = limits.request_deadline_seconds

    def all(self) -> list[EngineLane]:
        return [self.standard] if self.large is None else [self.standard, self.large]

    def for_record(self, record: str) -> EngineLane:
        """The large lane for a record of `large_record_bytes` or more, else the standard one."""
        limit = self.large_record_bytes
        if self.large is None or limit is None or len(record) * 4 < limit:
            return self.standard  # n characters are n to 4n UTF-8 bytes: the cheap test first
        if len(record) >= limit or len(record.encode("utf-8", "surrogatepass")) >= limit:
            return self.large
        return self.standard
