"""/healthz answers while the process lives; /readyz only while the conversation store answers
(the chart's liveness and readiness probes, the image's HEALTHCHECK asks /healthz)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from scrubber.config import parse_config
from scrubber.engine import Scrubber
from scrubber.errors import VaultUnavailable
from scrubber.gateway.app import Gateway, create_app
from scrubber.gateway.restore import TokenBook
from scrubber.gateway.serve import gateway_config
from scrubber.gateway.upstream import Upstream
from tests.keys import key

ENV = {"SCRUBBER_TOKEN_KEY": key("health")}
RAW = {"keys": {"default": {"env": "SCRUBBER_TOKEN_KEY"}},
       "gateway": {"upstream": "http://upstream.invalid"}}  # fmt: skip


class DownBooks:
    """A conversation store that cannot be reached."""

    async def exchange(self, key: str, minted: TokenBook) -> TokenBook:
        raise VaultUnavailable("store down")

    async def ping(self) -> None:
        raise VaultUnavailable("store down")


@pytest.fixture(scope="module")
def engine() -> Scrubber:
    return Scrubber(gateway_config(parse_config(RAW)), environ=ENV)


def _get(engine: Scrubber, path: str, books: DownBooks | None = None) -> httpx.Response:
    config = gateway_config(parse_config(RAW))
    upstream = Upstream(config.gateway, httpx.MockTransport(lambda _: httpx.Response(500)))
    app = create_app(Gateway(config, engine, upstream, books))

    async def get() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            return await client.get(path)

    return asyncio.run(get())


def test_liveness_and_readiness_answer_with_the_default_memory_store(engine: Scrubber) -> None:
    assert _get(engine, "/healthz").json() == {"status": "ok"}
    ready = _get(engine, "/readyz")
    assert ready.status_code == 200 and ready.json() == {"status": "ready"}


def test_readiness_fails_while_the_conversation_store_is_down(engine: Scrubber) -> None:
    assert _get(engine, "/healthz", DownBooks()).status_code == 200  # alive: no restart
    ready = _get(engine, "/readyz", DownBooks())
    assert ready.status_code == 503
    assert ready.json()["error"]["code"] == "conversation_store_unavailable"
