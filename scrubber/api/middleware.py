"""What wraps every request of `scrubber serve`: the JSON error body, the metrics, and the
middlewares that count requests and cap bodies (plain ASGI: no extra task per request)."""

from __future__ import annotations

import time

from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scrubber import __version__
from scrubber.api.limits import Lanes
from scrubber.api.models import ErrorBody
from scrubber.metrics_common import add_build_info, add_process_metrics, product, zero_series
from scrubber.vault.tokens import Status

ROUTES = ("/v1/scrub", "/v1/restore", "/v1/subjects/access", "/v1/subjects/erase",
          "/healthz", "/readyz", "/metrics",
          # api.presidio (scrubber/api/presidio.py)
          "/analyze", "/anonymize", "/deanonymize", "/recognizers", "/supportedentities",
          "/anonymizers", "/deanonymizers", "/health")  # fmt: skip
_UNREFUSED = frozenset(("/healthz", "/readyz", "/metrics", "/health"))
MESSAGES = {
    400: "the body is not valid JSON",
    401: "an API key is required (Authorization: Bearer <key>)",
    404: "no such endpoint",
    405: "method not allowed on this endpoint",
    413: "the body is larger than the limit (limits.max_record_bytes)",
    422: "the body does not match the schema of this endpoint (see /openapi.json)",
}


def route_label(path: str) -> str:
    """A metric label from a fixed set."""
    return path if path in ROUTES else "other"


def json_error(
    status: int, error: str, message: str, reason: str | None = None, retry_after: int | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    body = ErrorBody(error=error, message=message, reason=reason).model_dump(exclude_none=True)
    return JSONResponse(body, status, headers=headers)


class ApiMetrics:
    def __init__(self, config_hash: str, lanes: Lanes) -> None:
        self.registry = r = CollectorRegistry()
        self.requests = Counter(
            "scrubber_http_requests", "HTTP requests by route and status", ["route", "status"],
            registry=r,
        )  # fmt: skip
        self.seconds = Histogram(
            "scrubber_http_request_seconds", "HTTP request latency", ["route"], registry=r,
            buckets=(0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5),
        )  # fmt: skip
        self.tokens = Counter(
            "scrubber_restore_tokens", "Tokens asked to restore, by status", ["status"], registry=r
        )
        Info("scrubber_api", "Config hash", registry=r).info({"config_hash": config_hash})
        add_build_info(r, __version__, config_hash)
        add_process_metrics(r)
        # Every fixed series from the start, so ratios and increase() read 0, not "no data".
        zero_series(self.tokens, [(status.value,) for status in Status])
        self.rate_limited = Counter(
            "scrubber_http_rate_limited", "429s by route and limit (api.limits key)",
            ["route", "limit"], registry=r,
        )  # fmt: skip
        self.busy = Counter(
            "scrubber_http_busy", "503 busy by route and limit (api.limits key)",
            ["route", "limit"], registry=r,
        )  # fmt: skip
        self.unauthenticated = Counter(
            "scrubber_http_unauthenticated",
            "Requests without a valid API key where one is needed, audited or not", ["route"],
            registry=r,
        )  # fmt: skip
        # Refusals from zero too: the routes that take a key or hit a limit, every limit key.
        refusable = [route for route in ROUTES if route not in _UNREFUSED]
        limits = ("scrub_per_second", "restore_per_second", "subjects_per_minute",
                  "bad_keys_per_minute")  # fmt: skip
        zero_series(self.rate_limited, product(refusable, limits))
        busy = ("max_queue", "max_large_queue", "request_deadline_seconds")
        zero_series(self.busy, product(refusable, busy))
        zero_series(self.unauthenticated, [(route,) for route in refusable])
        queue = Gauge("scrubber_engine_queue", "Scrub calls running or waiting, by engine lane",
                      ["lane"], registry=r)  # fmt: skip
        for lane in lanes.all():
            queue.labels(lane.name).set_function(lane.pending)


class Observe:
    """Requests and latency by route and status (a plain ASGI middleware: no extra task)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def observed_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            route = route_label(scope["path"])
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.seconds.labels(route).observe(time.perf_counter() - started)


class LimitBody:
    """Bodies over the limit get the JSON 413: at once when Content-Length says so, else as
    soon as the bytes read pass it (chunked), before anything is parsed."""

    def __init__(self, app: ASGIApp, max_body: int) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_body:
            await json_error(413, "invalid_request", MESSAGES[413])(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.max_body:
                raise HTTPException(413)  # FastAPI passes it on to the 413 handler
            return message

        await self.app(scope, counted, send)
