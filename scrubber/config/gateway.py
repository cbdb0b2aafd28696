"""Config section of `scrubber gateway`: `gateway:` (upstream, timeouts, scope, blocks).

See docs/gateway.md. Without `gateway.upstream` the gateway refuses to start; every other key
has a default, so the section can be as short as `gateway: {upstream: https://api.openai.com}`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from scrubber.config.base import Strict


class GatewayTimeouts(Strict):
    """Seconds, per httpx: connecting, between bytes read (a long generation streams, so it is
    the gap between chunks, not the whole answer), writing, and waiting for a pooled connection."""

    connect_seconds: float = Field(10.0, gt=0, le=600)
    read_seconds: float = Field(300.0, gt=0, le=3600)
    write_seconds: float = Field(30.0, gt=0, le=600)
    pool_seconds: float = Field(10.0, gt=0, le=600)
    # Scrubbing one request (queue wait included); beyond it: 503, nothing is forwarded.
    scrub_seconds: float = Field(5.0, gt=0, le=600)


class GatewayConfig(Strict):
    """How `scrubber gateway` scrubs requests to an LLM API and restores its answers."""

    # Where requests go: `https://api.openai.com`, `https://api.anthropic.com`, a LiteLLM...
    # The request path is appended as it came (`/v1/chat/completions`).
    upstream: str | None = None
    timeouts: GatewayTimeouts = GatewayTimeouts()
    # request: an answer restores only the tokens minted from its own request. conversation:
    # also those minted earlier in the conversation named by `conversation_header` (one per
    # client credential: another key's conversation of the same id is another conversation).
    scope: Literal["request", "conversation"] = "request"
    conversation_header: str = "x-scrubber-conversation"
    conversation_ttl_seconds: float = Field(3600.0, gt=0)
    max_conversations: int = Field(10_000, ge=1)
    # Where conversation books live: `memory` (this process; replicas do not share them) or
    # `vault` (a table of the `vault:` section's store, values sealed with its keys, so replicas
    # on one PostgreSQL vault restore each other's turns). Needs `scope: conversation`.
    conversation_store: Literal["memory", "vault"] = "memory"
    # Entity types that refuse the whole request (400, nothing forwarded) instead of a token:
    # any type detection reports, the declared recognizers' included (checked in `Config`).
    block: tuple[str, ...] = ()
    # The key (under `keys:`) of the gateway's default policy, `{default: {type: token}}`, used
    # when the config has no `policy:` section of its own.
    key: str = "default"
    # Request bodies larger than this are refused (413) before they are read whole.
    max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024)
    # Other paths forwarded as they are (no scrubbing, no restoring), e.g. `/v1/models`.
    passthrough: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _store_needs_conversations(self) -> GatewayConfig:
        if self.conversation_store == "vault" and self.scope != "conversation":
            raise ValueError(
                "conversation_store: vault keeps conversation books, which only `scope: "
                "conversation` has; set it, or drop conversation_store"
            )
        return self

    @field_validator("upstream")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL, e.g. https://api.openai.com")
        return None if value is None else value.rstrip("/")

    @field_validator("passthrough")
    @classmethod
    def _paths(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for path in value:
            if not path.startswith("/"):
                raise ValueError(f"{path!r}: a path starts with '/', e.g. /v1/models")
        return value
