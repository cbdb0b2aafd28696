"""`scrubber serve`: the sidecar HTTP API (FastAPI), with its OpenAPI document at /openapi.json.

Same engine, config and policy as `scrubber scrub`. Each engine runs one call at a time on a
thread of its own (limits.EngineLane), so the event loop keeps answering probes; large records
get a second engine. Re-identification goes through access.Gatekeeper (API key -> role ->
audited decision). Callers are held to `api.limits` (limits.py). Every error is a small JSON
body with a code and a fixed message: never a stack trace, never a piece of the request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, Protocol, TypeVar

import anyio
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException

from scrubber.api.limits import Lanes, Rates, Refused
from scrubber.api.middleware import (
    MESSAGES,
    ApiMetrics,
    LimitBody,
    Observe,
    route_label,
)
from scrubber.api.middleware import (
    json_error as _error,
)
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
from scrubber.metrics_common import PluginCostCollector
from scrubber.models import Format, Outcome, Reason, RecordResult, Replacement
from scrubber.operators import KEYED_OPERATORS
from scrubber.vault.access import AccessControl, Gatekeeper, Origin, Principal
from scrubber.vault.store import SealedRow
from scrubber.vault.tokens import TOKEN_PATTERN

T = TypeVar("T")
# Tokens minted through the API belong to its own scope unless a role names another.
API_SCOPE = "api"


class Pingable(Protocol):
    def ping(self) -> None: ...


log = get_logger("scrubber.api")
REFUSALS = {  # by error code; the reason names the limit (its key under api.limits)
    "rate_limited": "too many requests from this caller; retry after Retry-After seconds",
    "busy": "the engine is busy; retry after Retry-After seconds",
}
TOO_MANY_TOKENS = "more tokens than api.limits.max_tokens_per_restore in one request; split it"
NeedsKey = Literal["scrub", "restore", "access", "erase"]


ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 422, 429, 503)
}


# ---------------------------------------------------------------- the app


class _Service:
    """What the endpoints share, kept on `app.state.service`."""

    def __init__(
        self,
        config: Config,
        engine: Scrubber,
        access: AccessControl,
        gatekeeper: Gatekeeper | None,
        stores: Sequence[Pingable],
        *,
        large_engine: Scrubber | None,
    ) -> None:
        self.config = config
        self.access = access
        self._gatekeeper = gatekeeper
        self._stores = list(stores)
        self.keyed_policy = any(
            isinstance(op, KEYED_OPERATORS) for _, op in config.operators_with_paths()
        )
        # An engine is not thread-safe (nor is its vault buffer): each has one lane.
        self.lanes = Lanes(config.api.limits, engine, large_engine)
        self.rates = Rates(config.api.limits)
        self.metrics = ApiMetrics(config.digest(), self.lanes)
        # Python plug-in recognizers' calls, seconds and failures, summed over the lanes' engines.
        plugged = [e for e in (engine, large_engine) if e is not None and e.plugins]
        if plugged:
            self.metrics.registry.register(PluginCostCollector(*map(_plugin_costs, plugged)))

    @property
    def gatekeeper(self) -> Gatekeeper:
        if self._gatekeeper is None:
            raise HTTPException(404, NO_VAULT)
        return self._gatekeeper

    def stores(self) -> list[Pingable]:
        reader = [] if self._gatekeeper is None else [self._gatekeeper.vault.store]
        return self._stores + reader

    async def scrub(
        self, record: str, fmt: Format, started: float, scope: str = API_SCOPE
    ) -> RecordResult:
        """On the record's lane, within api.limits.request_deadline_seconds of `started`."""
        return await self.lanes.for_record(record).run(
            lambda engine: engine.scrub_batch([record], fmt, scope)[0],
            started + self.lanes.deadline_seconds,
        )

    async def limit(
        self, request: Request, caller: Principal | None, limit: str, needs_key: NeedsKey | None
    ) -> None:
        """Spend one request of the caller under `limit` (an api.limits key) or raise Refused.

        A request without a valid key where one is needed first spends its client address's
        bad-key allowance; beyond it, 429 before the audit log is touched, and the first such
        refusal of each window writes one aggregated audit record (restore, access, erase).
        """
        client = request.client.host if request.client else "unknown"
        if caller is None and needs_key is not None:
            self.metrics.unauthenticated.labels(route_label(request.scope["path"])).inc()
            attempt = self.rates.bad_keys.attempt(client)
            if not attempt.allowed:
                if attempt.first_refused and needs_key != "scrub":
                    keeper, action = self.gatekeeper, needs_key
                    detail = {"rate_limited": "bad_keys_per_minute", "attempts": attempt.attempts,
                              "window_seconds": self.rates.bad_keys.window}  # fmt: skip
                    await _in_thread(
                        lambda: keeper.audit_unauthenticated(action, origin_of(request), detail)
                    )
                raise Refused(429, "rate_limited", "bad_keys_per_minute", attempt.retry_after)
        self.rates.take(limit, f"key:{caller.name}" if caller else f"address:{client}")


def _plugin_costs(engine: Scrubber) -> Callable[[], Mapping[str, Any]]:
    return lambda: engine.plugins.costs


async def _in_thread(work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work)


def origin_of(request: Request) -> Origin:
    """The caller's address and request id for the audit record (never a value: AuditEvent
    stores anything that is not a short plain label as `(invalid)`)."""
    client = request.client.host if request.client else ""
    return Origin("http", client, request.headers.get("x-request-id", "")[:128])


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
async def scrub(payload: Payload, request: Request, caller: Caller, service: Service) -> Any:
    """Scrub `text` or `json`; findings say where (type, start, end, operator), never what."""
    started = time.monotonic()
    # A keyed policy makes /v1/scrub a guessing oracle for its scope: only roles that may scrub
    # there get its tokens. Without keyed operators the output reveals nothing to test against.
    keyed = service.keyed_policy
    needs_key = service.config.access.scrub_requires_key or keyed
    await service.limit(request, caller, "scrub_per_second", "scrub" if needs_key else None)
    if needs_key and caller is None:
        return _error(401, "unauthenticated", MESSAGES[401])
    scope = API_SCOPE
    if keyed:
        assert caller is not None
        scope = payload.scope or (caller.scopes[0] if caller.scopes else API_SCOPE)
        if not caller.scrub or scope not in caller.scopes:
            return _error(403, "forbidden", f"role {caller.role!r} may not scrub in this scope")
    fmt: Format = "text"
    if payload.text is not None:
        record = payload.text
    else:
        try:
            record, fmt = json.dumps(payload.json_, ensure_ascii=False), "json"
        except (RecursionError, ValueError):
            return _error(422, "record_rejected", "the record was not scrubbed", "too_deep")
    result = await service.scrub(record, fmt, started, scope)
    if result.outcome is not Outcome.OK:
        return _rejected(result)
    findings = [_finding(r) for r in result.replacements]
    if fmt == "text":
        return ScrubResponse(text=result.output, findings=findings)
    return ScrubResponse(json=json.loads(result.output), findings=findings)


@router.post("/v1/restore", response_model=RestoreResponse, response_model_exclude_none=True,
             responses=ERRORS)  # fmt: skip
async def restore(payload: Payload, request: Request, caller: Caller, service: Service) -> Any:
    """Tokens the caller's role may reveal become their values; the rest stay tokens."""
    keeper = service.gatekeeper
    await service.limit(request, caller, "restore_per_second", "restore")
    texts = [payload.text] if payload.text is not None else []
    leaves = [] if payload.json_ is None else _string_leaves(payload.json_)
    texts += [str(container[slot]) for container, slot in leaves]
    cap = service.config.api.limits.max_tokens_per_restore
    if caller is not None and await _in_thread(lambda: _more_tokens(texts, cap)):
        return _error(413, "invalid_request", TOO_MANY_TOKENS, "max_tokens_per_restore")
    done = await _in_thread(
        lambda: keeper.restore(caller, texts, origin_of(request), payload.scope)
    )
    for status in done.statuses.values():
        service.metrics.tokens.labels(status.value).inc()
    tokens = [TokenStatus(token=t, status=s.value) for t, s in done.statuses.items()]
    if payload.text is not None:
        return RestoreResponse(text=done.texts[0], tokens=tokens)
    for (container, slot), value in zip(leaves, done.texts, strict=True):
        container[slot] = value
    return RestoreResponse(json=payload.json_, tokens=tokens)


@router.post("/v1/subjects/access", response_model=SubjectsResponse, responses=ERRORS)
async def subjects_access(
    body: SubjectsRequest, request: Request, caller: Caller, service: Service
) -> Any:
    """The tokens that stand for each identifier (roles with subject_rights only)."""
    return await _subject_right("access", body, request, caller, service)


@router.post("/v1/subjects/erase", response_model=SubjectsResponse, responses=ERRORS)
async def subjects_erase(
    body: SubjectsRequest, request: Request, caller: Caller, service: Service
) -> Any:
    """Delete the vault rows of each identifier: their tokens can never be revealed again."""
    return await _subject_right("erase", body, request, caller, service)


async def _subject_right(
    action: Literal["access", "erase"],
    body: SubjectsRequest,
    request: Request,
    caller: Principal | None,
    service: _Service,
) -> SubjectsResponse:
    keeper = service.gatekeeper
    await service.limit(request, caller, "subjects_per_minute", action)
    perform = keeper.access_subjects if action == "access" else keeper.erase_subjects
    origin = origin_of(request)
    return _subjects(
        await _in_thread(lambda: perform(caller, body.identifiers, origin, body.scope))
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
    *,
    large_engine: Scrubber | None = None,
) -> FastAPI:
    """The app over a built engine. `stores` are what /readyz pings besides the gatekeeper's
    (the engines' token vaults); `large_engine`, a second engine of the same config, serves
    records of api.limits.large_record_bytes or more. `scrubber.api.serve.build_app` wires
    them from a config."""
    docs = config.api.docs  # /docs and /redoc load their assets from a CDN: off by default
    app = FastAPI(
        title="Scrubber", version="1", docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        swagger_ui_oauth2_redirect_url="/docs/oauth2-redirect" if docs else None,
    )  # fmt: skip
    app.state.service = service = _Service(
        config, engine, access, gatekeeper, stores, large_engine=large_engine
    )
    app.include_router(router)
    _install_error_handlers(app)
    # JSON escaping can grow a record up to six times; the engine enforces the exact limit.
    app.add_middleware(LimitBody, max_body=6 * config.limits.max_record_bytes + 4096)
    app.add_middleware(Observe, metrics=service.metrics)
    return app


def _rejected(result: RecordResult) -> JSONResponse:
    reason = result.reason or Reason.DETECTION_ERROR
    if reason is Reason.VAULT_UNAVAILABLE:
        return _error(503, "vault_unavailable", "the token vault cannot store values", reason)
    return _error(422, "record_rejected", "the record was not scrubbed", reason.value)


def _finding(where: Replacement) -> FindingOut:
    return FindingOut(path=where.path, type=where.entity_type, start=where.start, end=where.end,
                      operator=where.operator)  # fmt: skip


def _more_tokens(texts: Sequence[str], limit: int) -> bool:
    """More than `limit` distinct tokens in `texts` (stops counting there)."""
    seen: set[str] = set()
    for text in texts:
        for match in TOKEN_PATTERN.finditer(text):
            seen.add(match.group(0))
            if len(seen) > limit:
                return True
    return False


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

    async def refused(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Refused)
        metrics = _service(request).metrics
        counter = metrics.rate_limited if exc.status == 429 else metrics.busy
        counter.labels(route_label(request.scope["path"]), exc.reason).inc()
        return _error(exc.status, exc.error, REFUSALS[exc.error], exc.reason, exc.retry_after)

    async def internal(_: Request, exc: Exception) -> JSONResponse:
        log.error("internal_error", error_type=type(exc).__name__)
        return _error(500, "internal", "the request failed; nothing was revealed or stored")

    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(AccessDenied, denied)
    app.add_exception_handler(VaultUnavailable, unavailable)
    app.add_exception_handler(Refused, refused)
    app.add_exception_handler(Exception, internal)
