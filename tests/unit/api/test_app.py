"""The API app in-process (httpx over ASGI): options and shapes the served tests do not reach.
`scrubber serve` itself, over real sockets, is tested in tests/integration/test_api.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from scrubber.api.serve import build_app
from scrubber.config import parse_config
from tests.keys import key

ENV = {
    "TOKEN_KEY": key("token"),
    "VAULT_V1": key("vault v1"),
    "OPS_KEY": key("ops"),
    "AUDIT_KEY": key("audit"),
    "READER_KEY": key("reader"),
}
EMAIL = "maria.garcia@example.org"


class Client:
    """A synchronous face on httpx's ASGI transport: one event loop per request."""

    def __init__(self, app: Any) -> None:
        self.transport = httpx.ASGITransport(app=app)

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, base_url="http://api") as c:
                return await c.request(method, path, **kwargs)

        return asyncio.run(go())

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self._call("POST", path, **kwargs)


OPS = {"Authorization": f"Bearer {ENV['OPS_KEY']}"}


def client(data: dict[str, Any]) -> Client:
    config = parse_config({"detection": {"ner": {"enabled": False}}, **data})
    return Client(build_app(config, ENV))


def vaulted(tmp_path: Path, **extra: Any) -> dict[str, Any]:
    return {
        "policy": {"default": {"type": "vault"}, "fields": {"*.password": {"type": "redact"}}},
        "keys": {"default": {"env": "TOKEN_KEY"}},
        "vault": {"sqlite_path": str(tmp_path / "v.db"),
                  "encryption_keys": {1: {"env": "VAULT_V1"}}, "active_key": 1,
                  "audit": {"key": {"env": "AUDIT_KEY"}}},
        "access": {"roles": {"admin": {"reveal": ["*"], "scrub": True},
                             "reader": {"reveal": ["*"]}},
                   "api_keys": {"ops": {"role": "admin", "env": "OPS_KEY"},
                                "reader": {"role": "reader", "env": "READER_KEY"}}, **extra},
    }  # fmt: skip


def test_findings_name_the_operator_and_json_restores_in_place(tmp_path: Path) -> None:
    api = client(vaulted(tmp_path))
    document = {"user": {"password": "hunter2hunter2", "note": f"mail {EMAIL}"}, "n": [EMAIL]}
    scrubbed = api.post("/v1/scrub", json={"json": document}, headers=OPS).json()
    assert scrubbed["json"]["user"]["password"] == "[REDACTED]"
    assert sorted((f["path"], f["type"], f["operator"]) for f in scrubbed["findings"]) == [
        ("n", "EMAIL_ADDRESS", "vault"),
        ("user.note", "EMAIL_ADDRESS", "vault"),
        ("user.password", "FIELD", "redact"),
    ]
    note = next(f for f in scrubbed["findings"] if f["path"] == "user.note")
    assert document["user"]["note"][note["start"] : note["end"]] == EMAIL
    restored = api.post("/v1/restore", json={"json": scrubbed["json"]},
                        headers={"Authorization": f"Bearer {ENV['OPS_KEY']}"}).json()  # fmt: skip
    assert restored["json"] == {**document, "user": {**document["user"], "password": "[REDACTED]"}}
    assert [t["status"] for t in restored["tokens"]] == ["revealed"]


def test_scrub_can_require_a_key(tmp_path: Path) -> None:
    data = {
        **vaulted(tmp_path, scrub_requires_key=True),
        "policy": {"default": {"type": "replace"}},
    }
    api = client(data)
    refused = api.post("/v1/scrub", json={"text": f"mail {EMAIL}"})
    assert refused.status_code == 401 and EMAIL not in refused.text
    allowed = api.post("/v1/scrub", json={"text": f"mail {EMAIL}"}, headers=OPS)
    assert allowed.status_code == 200 and EMAIL not in allowed.text


def test_a_keyed_policy_tokenizes_only_for_roles_that_may_scrub_in_the_scope(
    tmp_path: Path,
) -> None:
    """Anyone who may scrub can test guesses against the tokens of that scope."""
    api = client(vaulted(tmp_path))
    body = {"text": f"mail {EMAIL}"}
    assert api.post("/v1/scrub", json=body).status_code == 401
    reader = {"Authorization": f"Bearer {ENV['READER_KEY']}"}
    assert api.post("/v1/scrub", json=body, headers=reader).status_code == 403
    other_scope = api.post("/v1/scrub", json={**body, "scope": "pipeline"}, headers=OPS)
    assert other_scope.status_code == 403 and EMAIL not in other_scope.text
    assert api.post("/v1/scrub", json=body, headers=OPS).status_code == 200


def test_without_a_vault_scrub_works_and_restore_says_why_not() -> None:
    api = client({})
    scrubbed = api.post("/v1/scrub", json={"text": f"mail {EMAIL}"}).json()
    assert scrubbed == {"text": "mail <EMAIL_ADDRESS>", "findings": [
        {"path": "", "type": "EMAIL_ADDRESS", "start": 5, "end": 29, "operator": "replace"}]}  # fmt: skip
    missing = api.post("/v1/restore", json={"text": "x"})
    assert missing.status_code == 404 and missing.json()["error"] == "vault_not_configured"
    assert api.get("/readyz").json() == {"status": "ready"}
    assert "scrubber_http_requests_total" in api.get("/metrics").text
    schema = api.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/v1/scrub", "/v1/restore", "/v1/subjects/access",
                                    "/v1/subjects/erase", "/healthz", "/readyz"}  # fmt: skip
