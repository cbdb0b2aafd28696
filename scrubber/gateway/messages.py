"""Where the user-controlled text is in OpenAI and Anthropic request bodies, and how answers
are restored.

A request is walked once into `Slot`s (a string, a string holding JSON such as tool-call
arguments, or a JSON object such as Anthropic's `tool_use.input`); the gateway scrubs them all in
one batch and writes the results back in place. Fields that are not text a person wrote (model,
role, ids, tool schemas) are left alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from scrubber.gateway.restore import Restorer, json_escaped, plain

SlotKind = Literal["text", "json", "object"]
Container = dict[str, Any] | list[Any]


@dataclass(slots=True)
class Slot:
    """One value of the request to scrub, and where its scrubbed form goes."""

    container: Container
    key: str | int
    kind: SlotKind

    def text(self) -> str:
        value = self.container[self.key]  # type: ignore[index]
        return json.dumps(value, ensure_ascii=False) if self.kind == "object" else str(value)

    def write(self, scrubbed: str) -> None:
        value: Any = json.loads(scrubbed) if self.kind == "object" else scrubbed
        self.container[self.key] = value  # type: ignore[index]


def _string(node: Any, key: str, out: list[Slot], kind: SlotKind = "text") -> None:
    if isinstance(node, dict) and isinstance(node.get(key), str):
        out.append(Slot(node, key, kind))


def _strings(node: Any, key: str, out: list[Slot]) -> None:
    """`node[key]` as a string, or a list of strings (prompts, embedding inputs)."""
    if not isinstance(node, dict):
        return
    value = node.get(key)
    if isinstance(value, str):
        out.append(Slot(node, key, "text"))
    elif isinstance(value, list):
        out += [Slot(value, i, "text") for i, item in enumerate(value) if isinstance(item, str)]


def _content(node: Any, key: str, out: list[Slot]) -> None:
    """A content field: a string, or a list of parts/blocks with text (any API's shape)."""
    if not isinstance(node, dict):
        return
    value = node.get(key)
    if isinstance(value, str):
        out.append(Slot(node, key, "text"))
        return
    for part in value if isinstance(value, list) else []:
        if not isinstance(part, dict):
            continue
        _string(part, "text", out)
        if part.get("type") == "tool_use" and isinstance(part.get("input"), dict):
            out.append(Slot(part, "input", "object"))  # Anthropic tool_use.input
        if part.get("type") == "tool_result":
            _content(part, "content", out)
        if part.get("type") in ("function_call", "custom_tool_call"):
            _string(part, "arguments", out, "json")


def chat_slots(body: dict[str, Any]) -> list[Slot]:
    """OpenAI `/v1/chat/completions`: every message's content (system, user, assistant, tool),
    assistant tool calls' arguments (JSON strings), and the `user` field."""
    out: list[Slot] = []
    for message in _list(body.get("messages")):
        _content(message, "content", out)
        _string(message, "refusal", out)
        for call in _list(message.get("tool_calls") if isinstance(message, dict) else None):
            _string(call.get("function") if isinstance(call, dict) else None, "arguments", out,
                    "json")  # fmt: skip
        if isinstance(message, dict):
            _string(message.get("function_call"), "arguments", out, "json")
    _string(body, "user", out)
    return out


def completions_slots(body: dict[str, Any]) -> list[Slot]:
    """OpenAI `/v1/completions`: `prompt` (a string or strings; token arrays pass) and `suffix`."""
    out: list[Slot] = []
    _strings(body, "prompt", out)
    _string(body, "suffix", out)
    _string(body, "user", out)
    return out


def embeddings_slots(body: dict[str, Any]) -> list[Slot]:
    """OpenAI `/v1/embeddings`: `input`; nothing comes back to restore."""
    out: list[Slot] = []
    _strings(body, "input", out)
    _string(body, "user", out)
    return out


def responses_slots(body: dict[str, Any]) -> list[Slot]:
    """OpenAI `/v1/responses`: `instructions`, `input` (a string or items: messages with
    content, function calls' arguments, function call outputs)."""
    out: list[Slot] = []
    _string(body, "instructions", out)
    if isinstance(body.get("input"), str):
        out.append(Slot(body, "input", "text"))
    for item in _list(body.get("input")):
        _content(item, "content", out)
        _string(item, "arguments", out, "json")
        _content(item, "output", out)
    _string(body, "user", out)
    return out


def anthropic_slots(body: dict[str, Any]) -> list[Slot]:
    """Anthropic `/v1/messages`: `system` (a string or text blocks) and every message's content
    (text blocks, `tool_use.input`, `tool_result` content). Thinking blocks are signed by the
    upstream and pass unchanged."""
    out: list[Slot] = []
    _content(body, "system", out)
    for message in _list(body.get("messages")):
        _content(message, "content", out)
    return out


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# Keys whose string value is JSON text: a value restored into it is escaped for JSON.
JSON_TEXT_KEYS = frozenset({"arguments", "partial_json"})


def restore_tree(node: Any, restorer: Restorer, key: str = "") -> Any:
    """Every string of a JSON answer restored (tool-call arguments JSON-escaped)."""
    if isinstance(node, str):
        return restorer.restore(node, json_escaped if key in JSON_TEXT_KEYS else plain)
    if isinstance(node, dict):
        return {k: restore_tree(v, restorer, k) for k, v in node.items()}
    if isinstance(node, list):
        return [restore_tree(v, restorer, key) for v in node]
    return node


Walker = Callable[[dict[str, Any]], list[Slot]]
