"""`scrubber gateway`'s routes: scrub the request, forward it, restore the answer (whole or as
a stream of events).

    client ── body ─> read (capped) ─> walk (messages.py) ─> one scrub_batch ─> upstream
    client <─ answer restored with this request's (or conversation's) tokens only <─ upstream

Refusals never forward anything and answer in the API's own error shape (OpenAI's
`{"error": {...}}`, Anthropic's `{"type": "error", ...}`); upstream errors pass through with their
status. Logs and metrics carry routes, statuses, counts and times, never content or headers.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from scrubber.config import Config
from scrubber.engine import Scrubber
from scrubber.errors import VaultUnavailable
from scrubber.gateway import messages
from scrubber.gateway.conversations import ConversationBooks, MemoryBooks
from scrubber.gateway.messages import Walker, restore_tree
from scrubber.gateway.metrics import GatewayMetrics, status_class
from scrubber.gateway.restore import Restorer, TokenBook
from scrubber.gateway.scrubbing import Conversations, Refusal, RequestScrubber
from scrubber.gateway.streams import (
    Adapter,
    AnthropicAdapter,
    ChoicesAdapter,
    ResponsesAdapter,
    SseParser,
)
from scrubber.gateway.upstream import Upstream
from scrubber.log import get_logger

log = get_logger("scrubber.gateway")
Family = Literal["openai", "anthropic"]


@dataclass(frozen=True, slots=True)
class Api:
    walker: Walker
    adapter: type[Adapter] | None  # None: the answer carries nothing of the request (embeddings)
    family: Family = "openai"


APIS = {
    "/v1/chat/completions": Api(messages.chat_slots, ChoicesAdapter),
    "/v1/completions": Api(messages.completions_slots, ChoicesAdapter),
    "/v1/embeddings": Api(messages.embeddings_slots, None),
    "/v1/responses": Api(messages.responses_slots, ResponsesAdapter),
    "/v1/messages": Api(messages.anthropic_slots, AnthropicAdapter, "anthropic"),
}
_ANTHROPIC_TYPES = {400: "invalid_request_error", 404: "not_found_error",
                    413: "request_too_large", 502: "api_error", 503: "overloaded_error",
                    504: "api_error"}  # fmt: skip


def api_error(family: Family, status: int, code: str, message: str) -> JSONResponse:
    if family == "anthropic":
        kind = _ANTHROPIC_TYPES.get(status, "api_error")
        return JSONResponse({"type": "error", "error": {"type": kind, "message": message}}, status)
    body = {"error": {"message": message, "type": code, "param": None, "code": code}}
    return JSONResponse(body, status)


class Gateway:
    """What the routes share, kept on `app.state.gateway`."""

    def __init__(
        self, config: Config, engine: Scrubber, upstream: Upstream,
        conversations: ConversationBooks | None = None,
    ) -> None:  # fmt: skip
        self.config = config.gateway
        self.scrubber = RequestScrubber(engine, config.gateway)
        self.upstream = upstream
        self.conversations = conversations or MemoryBooks(
            config.gateway.conversation_ttl_seconds, config.gateway.max_conversations
        )
        self.metrics = GatewayMetrics(config.digest())

    async def handle(self, request: Request, route: str, api: Api) -> Response:
        started = time.monotonic()
        try:
            body = await self._read_json(request)
            scrubbed = await self.scrubber.scrub(api.walker(body))
            book = await self._book(request, scrubbed.book)
        except Refusal as refusal:
            counter = self.metrics.blocked if refusal.code == "blocked" else self.metrics.refused
            if refusal.code in ("blocked", "scrub_failed", "scrub_deadline"):
                counter.labels(route).inc()
            return self._done(route, started, api_error(api.family, refusal.status, refusal.code,
                                                        refusal.message), refusal.code)  # fmt: skip
        for name, count in scrubbed.counts.items():
            self.metrics.entities.labels(name).inc(count)
        restorer = Restorer(book)
        payload = json.dumps(body, ensure_ascii=False).encode()
        sent = time.monotonic()
        try:
            response = await self._open(request, payload)
        except Refusal as refusal:
            self.metrics.upstream_errors.labels(route).inc()
            error = api_error(api.family, refusal.status, refusal.code, refusal.message)
            return self._done(route, started, error, refusal.code)
        if response.status_code >= 500:  # a 4xx (bad key, quota) is the client's to fix
            self.metrics.upstream_errors.labels(route).inc()
        streamed = response.headers.get("content-type", "").startswith("text/event-stream")
        if streamed and api.adapter is not None:
            return self._stream(route, response, api.adapter(restorer), started, sent)
        content = await response.aread()
        await response.aclose()
        read = time.monotonic()
        if api.adapter is not None:
            content = _restored(content, restorer)
            self.metrics.restored.labels(route).inc(restorer.restored)
        answer = Response(content, response.status_code, Upstream.response_headers(response))
        return self._done(route, started, answer, added=(sent - started) + time.monotonic() - read)

    async def passthrough(self, request: Request) -> Response:
        started = time.monotonic()
        try:
            response = await self._open(request, await self._read_body(request))
        except Refusal as refusal:
            error = api_error("openai", refusal.status, refusal.code, refusal.message)
            return self._done("passthrough", started, error, refusal.code)
        content = await response.aread()
        await response.aclose()
        answer = Response(content, response.status_code, Upstream.response_headers(response))
        return self._done("passthrough", started, answer)

    async def _book(self, request: Request, minted: TokenBook) -> TokenBook:
        """This request's tokens, and in conversation scope those of its conversation."""
        conversation = request.headers.get(self.config.conversation_header)
        if self.config.scope != "conversation" or not conversation:
            return minted
        credential = request.headers.get("authorization") or request.headers.get("x-api-key") or ""
        try:
            return await self.conversations.exchange(
                Conversations.key(credential, conversation[:256]), minted
            )
        except VaultUnavailable:
            raise Refusal(503, "conversation_store_unavailable", "the conversation store cannot "
                          "be reached; nothing was forwarded") from None  # fmt: skip

    async def _read_body(self, request: Request) -> bytes:
        limit = self.config.max_body_bytes
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise Refusal(413, "request_too_large", _TOO_LARGE)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise Refusal(413, "request_too_large", _TOO_LARGE)
            chunks.append(chunk)
        return b"".join(chunks)

    async def _read_json(self, request: Request) -> dict[str, Any]:
        raw = await self._read_body(request)
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            raise Refusal(400, "invalid_json", "the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise Refusal(400, "invalid_json", "the body must be a JSON object")
        return body

    async def _open(self, request: Request, payload: bytes) -> httpx.Response:
        try:
            return await self.upstream.open(
                request.method, request.url.path, request.url.query,
                request.headers.items(), payload,
            )  # fmt: skip
        except httpx.TimeoutException:
            raise Refusal(504, "upstream_timeout", "the upstream did not answer in time "
                          "(gateway.timeouts)") from None  # fmt: skip
        except httpx.HTTPError as exc:
            raise Refusal(502, "upstream_unreachable", "the upstream cannot be reached "
                          f"({type(exc).__name__})") from None  # fmt: skip

    def _stream(
        self, route: str, response: httpx.Response, adapter: Adapter, started: float, sent: float
    ) -> Response:
        metrics, before = self.metrics, sent - started

        async def relay() -> AsyncIterator[bytes]:
            arrived: list[float] = []

            async def chunks() -> AsyncIterator[bytes]:
                async for chunk in response.aiter_bytes():
                    if not arrived:
                        arrived.append(time.monotonic())
                    yield chunk

            first, parser = True, SseParser()
            try:
                async for chunk in chunks():  # one write per read, whatever events it held
                    out = b"".join(
                        o.encode() for e in parser.feed(chunk) for o in adapter.on_event(e)
                    )
                    if not out:
                        continue
                    if first:
                        first = False
                        overhead = before + time.monotonic() - arrived[0]
                        metrics.first_byte.labels(route).observe(overhead)
                    yield out
                yield b"".join(event.encode() for event in adapter.finish())
            except httpx.HTTPError as exc:  # the upstream broke off: what is held goes out
                log.warning("upstream_stream_broken", route=route, error=type(exc).__name__)
                yield b"".join(event.encode() for event in adapter.finish())
            finally:
                await response.aclose()  # a client that went away cancels the upstream request
                metrics.restored.labels(route).inc(adapter.restorer.restored)

        headers = Upstream.response_headers(response)
        answer = StreamingResponse(relay(), response.status_code, headers)
        return self._done(route, started, answer, added=before)

    def _done(
        self, route: str, started: float, response: Response, refusal: str | None = None,
        added: float | None = None,
    ) -> Response:  # fmt: skip
        status = response.status_code
        self.metrics.requests.labels(route, status_class(status)).inc()
        if added is not None:
            self.metrics.added.labels(route).observe(added)
        log.info("gateway_request", route=route, status=status, refusal=refusal,
                 ms=round((time.monotonic() - started) * 1000, 2))  # fmt: skip
        return response


_TOO_LARGE = "the body is larger than gateway.max_body_bytes"


def _restored(content: bytes, restorer: Restorer) -> bytes:
    """A JSON answer with every string restored; anything else passes as it came."""
    if restorer.pattern is None:
        return content
    try:
        document = json.loads(content)
    except ValueError:
        return content
    return json.dumps(restore_tree(document, restorer), ensure_ascii=False).encode()


@asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    yield
    await app.state.gateway.upstream.aclose()


def create_app(gateway: Gateway) -> Starlette:
    config = gateway.config

    async def route(request: Request) -> Response:
        path = request.url.path
        api = APIS.get(path)
        if api is not None and request.method == "POST":
            return await gateway.handle(request, path, api)
        if path in config.passthrough:
            return await gateway.passthrough(request)
        family: Family = "anthropic" if path.startswith("/v1/messages") else "openai"
        error = api_error(family, 404, "not_found", "this gateway does not serve this path "
                          "(gateway.passthrough lists extra ones)")  # fmt: skip
        return gateway._done("other", time.monotonic(), error, "not_found")

    async def healthz(_: Request) -> Response:
        """Liveness: the process and its event loop answer."""
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        """Readiness: the engine is loaded (before the app exists) and the conversation store
        answers (`conversation_store: vault`); 503 takes the pod out of the Service."""
        try:
            await gateway.conversations.ping()
        except VaultUnavailable:
            return api_error("openai", 503, "conversation_store_unavailable",
                             "the conversation store cannot be reached")  # fmt: skip
        return JSONResponse({"status": "ready"})

    async def metrics(_: Request) -> Response:
        return Response(generate_latest(gateway.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
    app = Starlette(
        routes=[
            Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", metrics),
            Route("/{path:path}", route, methods=methods),
        ],
        lifespan=_lifespan,
    )  # fmt: skip
    app.state.gateway = gateway
    return app
