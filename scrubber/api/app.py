"""`scrubber serve`: the sidecar HTTP API (FastAPI), with its OpenAPI document at /openapi.json.

Same engine, config and policy as `scrubber scrub`. The engine runs one call at a time on a
worker thread, so the event loop keeps answering probes. Re-identification goes through
access.Gatekeeper (API key -> role -> audited decision). Every error is a small JSON body with a
code and a fixed message: never a stack trace, never a piece of the request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Protocol, TypeVar

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    generate_latest,
)
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from scrubber.api.models import (
    ErrorBody,
    FindingOut,
    Payload,
    RestoreResponse,
    ScrubResponse,
    SubjectsRequest,
    SubjectsResponse,
    SubjectTokens,
    TokenInfo,
    TokenStatus,
)
from scrubber.config import Config
from scrubber.engine import Scrubber
from scrubber.errors import AccessDenied, VaultUnavailable
from scrubber.log import get_logger
from scrubber.models import Format, Outcome, Reason, RecordResult, Replacement
from scrubber.vault.access import AccessControl, Gatekeeper, Principal
from scrubber.vault.store import SealedRow

T = TypeVar("T")


class Pingable(Protocol):
    def ping(self) -> None: ...


log = get_logger("scrubber.api")
ROUTES = ("/v1/scrub", "/v1/restore", "/v1/subjects/access", "/v1/subjects/erase",
          "/healthz", "/readyz", "/metrics")  # fmt: skip
MESSAGES = {
    400: "the body is not valid JSON",
    401: "an API key is required (Authorization: Bearer <key>)",
    404: "no such endpoint",
    405: "method not allowed on this endpoint",
    413: "the body is larger than the limit (limits.max_record_bytes)",
    422: "the body does not match the schema of this endpoint (see /openapi.json)",
}


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 422, 503)
}


def _error(status: int, error: str, message: str, reason: str | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = ErrorBody(error=error, message=message, reason=reason).model_dump(exclude_none=True)
    return JSONResponse(body, status, headers=headers)


# ---------------------------------------------------------------- the app


class ApiMetrics:
    def __init__(self, config_hash: str) -> None:
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


class _Service:
    """What the endpoints share, kept on `app.state.service`."""

    def __init__(
        self,
        config: Config,
        engine: Scrubber,
        access: AccessControl,
        gatekeeper: Gatekeeper | None,
        stores: Sequence[Pingable],
    ) -> None:
        self.config = config
        self.engine = engine
        self.access = access
        self._gatekeeper = gatekeeper
        self._stores = list(stores)
        self.metrics = ApiMetrics(config.digest())
        # The engine is not thread-safe (nor is its vault buffer): one call at a time.
        self.engine_slot = anyio.CapacityLimiter(1)

    @property
    def gatekeeper(self) -> Gatekeeper:
        if self._gatekeeper is None:
            raise HTTPException(404, NO_VAULT)
        return self._gatekeeper

    def stores(self) -> list[Pingable]:
        reader = [] if self._gatekeeper is None else [self._gatekeeper.vault.store]
        return self._stores + reader

    async def scrub(self, record: str, fmt: Format) -> RecordResult:
        return await anyio.to_thread.run_sync(
            lambda: self.engine.scrub_batch([record], fmt)[0], limiter=self.engine_slot
        )


async def _in_thread(work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work)


def _service(request: Request) -> _Service:
    service: _Service = request.app.state.service
    return service


BEARER = HTTPBearer(auto_error=False, description="An API key mapped to a role")
NO_VAULT = "no token vault is configured"


def _principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> Principal | None:
    presented = None if credentials is None else credentials.credentials
    return _service(request).access.authenticate(presented)


Caller = Annotated[Principal | None, Depends(_principal)]
Service = Annotated[_Service, Depends(_service)]
router = APIRouter()


@router.post("/v1/scrub", response_model=ScrubResponse, response_model_exclude_none=True,
             responses=ERRORS)  # fmt: skip
async def scrub(payload: Payload, caller: Caller, service: Service) -> Any:
    """Scrub `text` or `json`; findings say where (type, start, end, operator), never what."""
    if service.config.access.scrub_requires_key and caller is None:
        return _error(401, "unauthenticated", MESSAGES[401])
    fmt: Format = "text"
    if payload.text is not None:
        record = payload.text
    else:
        try:
            record, fmt = json.dumps(payload.json_, ensure_ascii=False), "json"
        except (RecursionError, ValueError):
            return _error(422, "record_rejected", "the record was not scrubbed", "too_deep")
    result = await service.scrub(record, fmt)
    if result.outcome is not Outcome.OK:
        return _rejected(result)
    findings = [_finding(r) for r in result.replacements]
    if fmt == "text":
        return ScrubResponse(text=result.output, findings=findings)
    return ScrubResponse(json=json.loads(result.output), findings=findings)


@router.post("/v1/restore", response_model=RestoreResponse, response_model_exclude_none=True,
             responses=ERRORS)  # fmt: skip
async def restore(payload: Payload, caller: Caller, service: Service) -> Any:
    """Tokens the caller's role may reveal become their values; the rest stay tokens."""
    keeper = service.gatekeeper
    texts = [payload.text] if payload.text is not None else []
    leaves = [] if payload.json_ is None else _string_leaves(payload.json_)
    texts += [str(container[slot]) for container, slot in leaves]
    done = await _in_thread(lambda: keeper.restore(caller, texts, "http"))
    for status in done.statuses.values():
        service.metrics.tokens.labels(status.value).inc()
    tokens = [TokenStatus(token=t, status=s.value) for t, s in done.statuses.items()]
    if payload.text is not None:
        return RestoreResponse(text=done.texts[0], tokens=tokens)
    for (container, slot), value in zip(leaves, done.texts, strict=True):
        container[slot] = value
    return RestoreResponse(json=payload.json_, tokens=tokens)


@router.post("/v1/subjects/access", response_model=SubjectsResponse, responses=ERRORS)
async def subjects_access(body: SubjectsRequest, caller: Caller, service: Service) -> Any:
    """The tokens that stand for each identifier (roles with subject_rights only)."""
    keeper = service.gatekeeper
    return _subjects(
        await _in_thread(lambda: keeper.access_subjects(caller, body.identifiers, "http"))
    )


@router.post("/v1/subjects/erase", response_model=SubjectsResponse, responses=ERRORS)
async def subjects_erase(body: SubjectsRequest, caller: Caller, service: Service) -> Any:
    """Delete the vault rows of each identifier: their tokens can never be revealed again."""
    keeper = service.gatekeeper
    return _subjects(
        await _in_thread(lambda: keeper.erase_subjects(caller, body.identifiers, "http"))
    )


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"model": ErrorBody}})
async def readyz(service: Service) -> Any:
    """Ready when every vault store this process uses answers."""
    try:
        for store in service.stores():
            await _in_thread(store.ping)
    except VaultUnavailable:
        return _error(503, "vault_unavailable", "the token vault cannot be reached")
    return {"status": "ready"}


@router.get("/metrics", include_in_schema=False)
async def prometheus(service: Service) -> Response:
    return Response(generate_latest(service.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def create_app(
    config: Config,
    engine: Scrubber,
    access: AccessControl,
    gatekeeper: Gatekeeper | None,
    stores: Sequence[Pingable] = (),
) -> FastAPI:
    """The app over a built engine. `stores` are what /readyz pings besides the gatekeeper's
    (the engine's token vault): `scrubber.api.serve.build_app` wires them from a config."""
    # JSON escaping can grow a record up to six times; the engine enforces the exact limit.
    app = FastAPI(title="Scrubber", version="1")
    app.state.service = service = _Service(config, engine, access, gatekeeper, stores)
    app.include_router(router)
    _install_error_handlers(app)
    app.add_middleware(_LimitBody, max_body=6 * config.limits.max_record_bytes + 4096)
    app.add_middleware(_Observe, metrics=service.metrics)
    return app


def _rejected(result: RecordResult) -> JSONResponse:
    reason = result.reason or Reason.DETECTION_ERROR
    if reason is Reason.VAULT_UNAVAILABLE:
        return _error(503, "vault_unavailable", "the token vault cannot store values", reason)
    return _error(422, "record_rejected", "the record was not scrubbed", reason.value)


def _finding(where: Replacement) -> FindingOut:
    return FindingOut(path=where.path, type=where.entity_type, start=where.start, end=where.end,
                      operator=where.operator)  # fmt: skip


def _string_leaves(document: dict[str, Any] | list[Any]) -> list[tuple[Any, Any]]:
    """(container, slot) of every string value, without recursion."""
    found: list[tuple[Any, Any]] = []
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        slots = node.items() if isinstance(node, dict) else enumerate(node)
        for slot, value in slots:
            if isinstance(value, str):
                found.append((node, slot))
            elif isinstance(value, dict | list):
                stack.append(value)
    return found


def _subjects(rows: list[list[SealedRow]]) -> SubjectsResponse:
    return SubjectsResponse(subjects=[
        SubjectTokens(index=i, tokens=[
            TokenInfo(token=r.token, type=r.entity_type, key_version=r.key_version,
                      created_at=r.created_at, expires_at=r.expires_at) for r in found
        ]) for i, found in enumerate(rows)
    ])  # fmt: skip


def _install_error_handlers(app: FastAPI) -> None:
    """Fixed messages only: a validation message or a driver error can quote the request."""

    async def invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        kinds = sorted({str(e.get("type", "invalid")) for e in exc.errors()})
        status = 400 if kinds == ["json_invalid"] else 422
        return _error(status, "invalid_request", MESSAGES[status], ",".join(kinds)[:200])

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404 and exc.detail == NO_VAULT:
            return _error(404, "vault_not_configured", NO_VAULT)
        message = MESSAGES.get(exc.status_code, "the request cannot be served")
        return _error(exc.status_code, "invalid_request", message)

    async def denied(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AccessDenied)
        return _error(exc.status, exc.code, str(exc))

    async def unavailable(_: Request, exc: Exception) -> JSONResponse:
        log.error("vault_unavailable", error=str(exc))
        return _error(503, "vault_unavailable", "the token vault cannot be reached; retry later")

    async def internal(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal_error", error_type=type(exc).__name__)
        return _error(500, "internal", "the request failed; nothing was revealed or stored")

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(AccessDenied, denied)
    app.add_exception_handler(VaultUnavailable, unavailable)
    app.add_exception_handler(Exception, internal)


class _Observe:
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
            route = scope["path"] if scope["path"] in ROUTES else "other"
            self.metrics.requests.labels(route, str(status)).inc()
            self.metrics.seconds.labels(route).observe(time.perf_counter() - started)


class _LimitBody:
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
            await _error(413, "invalid_request", MESSAGES[413])(scope, receive, send)
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
