"""The upstream LLM API, through one pooled httpx client: headers in and out filtered, the
client's own credentials (`Authorization`, `x-api-key`) forwarded and never logged."""

from __future__ import annotations

import httpx

from scrubber.config.gateway import GatewayConfig

# Hop-by-hop and framing headers, and the ones the gateway sets itself.
_DROP_REQUEST = frozenset({"host", "content-length", "connection", "keep-alive", "te", "trailer",
                           "transfer-encoding", "upgrade", "proxy-authorization",
                           "accept-encoding", "cookie"})  # fmt: skip
_DROP_RESPONSE = frozenset({"content-length", "content-encoding", "transfer-encoding",
                            "connection", "keep-alive", "set-cookie"})  # fmt: skip


class Upstream:
    def __init__(self, config: GatewayConfig, transport: httpx.AsyncBaseTransport | None = None):
        if config.upstream is None:
            raise ValueError("gateway.upstream is not set")
        timeouts = config.timeouts
        self._drop = _DROP_REQUEST | {config.conversation_header.lower()}
        self.client = httpx.AsyncClient(
            base_url=config.upstream,
            timeout=httpx.Timeout(connect=timeouts.connect_seconds, read=timeouts.read_seconds,
                                  write=timeouts.write_seconds, pool=timeouts.pool_seconds),
            limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            transport=transport,
            follow_redirects=False,
        )  # fmt: skip

    def request_headers(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(k, v) for k, v in headers if k.lower() not in self._drop]

    @staticmethod
    def response_headers(response: httpx.Response) -> dict[str, str]:
        return {k: v for k, v in response.headers.items() if k.lower() not in _DROP_RESPONSE}

    async def open(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> httpx.Response:
        """The upstream's answer, its body not read yet (the caller streams or reads it)."""
        url = path + (f"?{query}" if query else "")
        request = self.client.build_request(
            method, url, headers=self.request_headers(headers), content=body
        )
        if body:
            request.headers["accept-encoding"] = "identity"
        return await self.client.send(request, stream=True)

    async def aclose(self) -> None:
        await self.client.aclose()
