"""Server-sent events through the gateway: parse the upstream's bytes into events, restore the
text deltas of each API's events, and write them out again.

Each streamed string (a choice's content, one tool call's arguments, one Anthropic content
block) has its own `StreamRestorer`. A string's held tail is flushed into the event that ends
it (OpenAI: the chunk with `finish_reason`; Anthropic: a `content_block_delta` sent just before
`content_block_stop`; Responses: a delta before `*.done`), and whatever is still held when the
stream ends ([DONE], or the upstream closing early) goes out before the end.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

from scrubber.gateway.messages import restore_tree
from scrubber.gateway.restore import Restorer, StreamRestorer, json_escaped, plain

_BOUNDARY = re.compile(rb"\r\n\r\n|\n\n|\r\r")


@dataclass(slots=True)
class Event:
    """One SSE event: its `event:` name, `data:` text, and other lines kept as they were."""

    data: str | None = None
    name: str | None = None
    other: list[str] = field(default_factory=list)

    def encode(self) -> bytes:
        lines = list(self.other)
        if self.name is not None:
            lines.append(f"event: {self.name}")
        if self.data is not None:
            lines += [f"data: {line}" for line in self.data.split("\n")]
        return ("\n".join(lines) + "\n\n").encode()


def parse_event(raw: bytes) -> Event:
    event = Event()
    data: list[str] = []
    for line in (
        raw.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ):
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data" and line.startswith("data"):
            data.append(value)
        elif name == "event" and line.startswith("event"):
            event.name = value
        else:
            event.other.append(line)
    event.data = "\n".join(data) if data else None
    return event


class SseParser:
    """Bytes in, complete events out, however the bytes were cut (UTF-8 included)."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[Event]:
        buffer = self._buffer + chunk
        events = []
        while (found := _BOUNDARY.search(buffer)) is not None:
            raw, buffer = buffer[: found.start()], buffer[found.end() :]
            if raw.strip():
                events.append(parse_event(raw))
        self._buffer = buffer
        return events


async def sse_events(chunks: AsyncIterator[bytes]) -> AsyncIterator[Event]:
    """Events as their last byte arrives. An event cut off by the end of the stream is dropped,
    as the SSE specification says."""
    parser = SseParser()
    async for chunk in chunks:
        for event in parser.feed(chunk):
            yield event


Key = tuple[Any, ...]


class Adapter:
    """Restores one API's stream; `on_data` maps one event's JSON to the events to send."""

    def __init__(self, restorer: Restorer) -> None:
        self.restorer = restorer
        self._streams: dict[Key, StreamRestorer] = {}
        self.template: dict[str, Any] = {}
        self._changed = False  # the event being read needs writing anew

    def feed(self, key: Key, text: str, as_json: bool = False) -> str:
        stream = self._streams.get(key)
        if stream is None:
            escape = json_escaped if as_json else plain
            stream = self._streams[key] = StreamRestorer(self.restorer, escape)
        out = stream.feed(text)
        self._changed = self._changed or out != text
        return out

    def flush(self, key: Key) -> str:
        stream = self._streams.pop(key, None)
        rest = "" if stream is None else stream.flush()
        self._changed = self._changed or bool(rest)
        return rest

    def held_keys(self) -> list[Key]:
        return [key for key, stream in self._streams.items() if stream.held]

    def on_event(self, event: Event) -> list[Event]:
        if event.data is None or event.data.strip() == "[DONE]":
            return [*self.finish(), event] if event.data is not None else [event]
        try:
            data = json.loads(event.data)
        except ValueError:
            return [event]  # not ours to read; it carries no token we minted as JSON text
        if not isinstance(data, dict):
            return [event]
        self._changed = False
        out = self.on_data(event.name, data)
        if len(out) == 1 and out[0][1] is data and not self._changed:
            return [event]  # nothing restored or held: the event as it came
        return [Event(json.dumps(item, ensure_ascii=False), name) for name, item in out]

    def on_data(self, name: str | None, data: dict[str, Any]) -> list[tuple[str | None, Any]]:
        raise NotImplementedError

    def finish(self) -> list[Event]:
        """Events carrying whatever is still held (the stream is ending)."""
        return []


class ChoicesAdapter(Adapter):
    """OpenAI chat completion chunks (`delta.content`, `delta.tool_calls[].function.arguments`)
    and legacy completions (`choices[].text`)."""

    TEXT_FIELDS = ("content", "refusal", "reasoning_content")

    def on_data(self, name: str | None, data: dict[str, Any]) -> list[tuple[str | None, Any]]:
        if data.get("choices"):
            self.template = {k: v for k, v in data.items() if k not in ("choices", "usage")}
        for choice in data.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", 0)
            if isinstance(choice.get("text"), str):
                choice["text"] = self.feed(("text", index), choice["text"])
            delta = choice.get("delta")
            if isinstance(delta, dict):
                self._delta(index, delta)
            if choice.get("finish_reason") is not None:
                self._close(index, choice)
        return [(name, data)]

    def _delta(self, index: int, delta: dict[str, Any]) -> None:
        for name in self.TEXT_FIELDS:
            if isinstance(delta.get(name), str):
                delta[name] = self.feed((name, index), delta[name])
        for call in delta.get("tool_calls") or []:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict) and isinstance(function.get("arguments"), str):
                key = ("tool", index, call.get("index", 0))
                function["arguments"] = self.feed(key, function["arguments"], as_json=True)

    def _close(self, index: int, choice: dict[str, Any]) -> None:
        """Append every held tail of this choice to its closing chunk."""
        for key in [k for k in self._streams if k[1] == index]:
            rest = self.flush(key)
            if not rest:
                continue
            if key[0] == "text":
                choice["text"] = choice.get("text", "") + rest
                continue
            delta = choice.setdefault("delta", {})
            if key[0] != "tool":
                delta[key[0]] = (delta.get(key[0]) or "") + rest
                continue
            calls = delta.setdefault("tool_calls", [])
            call = next((c for c in calls if c.get("index", 0) == key[2]), None)
            if call is None:
                call = {"index": key[2], "function": {"arguments": ""}}
                calls.append(call)
            function = call.setdefault("function", {})
            function["arguments"] = (function.get("arguments") or "") + rest

    def finish(self) -> list[Event]:
        out = []
        for index in sorted({key[1] for key in self.held_keys()}):
            choice: dict[str, Any] = {"index": index, "finish_reason": None}
            if any(key == ("text", index) for key in self._streams):
                choice["text"] = ""
            else:
                choice["delta"] = {}
            self._close(index, choice)
            choice["finish_reason"] = None
            out.append(Event(json.dumps({**self.template, "choices": [choice]})))
        return out


class AnthropicAdapter(Adapter):
    """Anthropic message events: `content_block_delta` (text, input_json, thinking deltas)."""

    FIELDS: ClassVar[dict[str, str]] = {
        "text_delta": "text", "input_json_delta": "partial_json", "thinking_delta": "thinking",
    }  # fmt: skip

    def __init__(self, restorer: Restorer) -> None:
        super().__init__(restorer)
        self._kinds: dict[int, str] = {}

    def on_data(self, name: str | None, data: dict[str, Any]) -> list[tuple[str | None, Any]]:
        kind, index = data.get("type"), data.get("index", 0)
        if kind == "content_block_delta" and isinstance(data.get("delta"), dict):
            delta = data["delta"]
            field_name = self.FIELDS.get(str(delta.get("type")))
            if field_name is not None and isinstance(delta.get(field_name), str):
                self._kinds[index] = str(delta["type"])
                as_json = field_name == "partial_json"
                delta[field_name] = self.feed(("block", index), delta[field_name], as_json)
            return [(name, data)]
        if kind == "content_block_stop":
            return [*self._closing(index), (name, data)]
        if kind in ("message_start", "content_block_start"):
            return [(name, restore_tree(data, self.restorer))]
        return [(name, data)]

    def _closing(self, index: int) -> list[tuple[str | None, Any]]:
        rest = self.flush(("block", index))
        if not rest:
            return []
        kind = self._kinds.get(index, "text_delta")
        delta = {"type": kind, self.FIELDS[kind]: rest}
        return [("content_block_delta", {"type": "content_block_delta", "index": index,
                                          "delta": delta})]  # fmt: skip

    def finish(self) -> list[Event]:
        return [
            Event(json.dumps(data, ensure_ascii=False), name)
            for key in self.held_keys()
            for name, data in self._closing(key[1])
        ]


class ResponsesAdapter(Adapter):
    """OpenAI Responses events: `response.output_text.delta`, `...function_call_arguments.delta`;
    every other event (`*.done`, `response.completed`) is restored whole."""

    DELTAS: ClassVar[dict[str, bool]] = {  # event type -> its text is JSON
        "response.output_text.delta": False, "response.function_call_arguments.delta": True,
    }  # fmt: skip
    DONE = frozenset({"response.output_text.done", "response.function_call_arguments.done"})

    def __init__(self, restorer: Restorer) -> None:
        super().__init__(restorer)
        self._templates: dict[Key, dict[str, Any]] = {}

    def on_data(self, name: str | None, data: dict[str, Any]) -> list[tuple[str | None, Any]]:
        kind = str(data.get("type"))
        if kind in self.DELTAS and isinstance(data.get("delta"), str):
            self._templates[self._key(data)] = data
            data["delta"] = self.feed(self._key(data), data["delta"], self.DELTAS[kind])
            return [(name, data)]
        out = self._closing(self._key(data)) if kind in self.DONE else []
        return [*out, (name, restore_tree(data, self.restorer))]

    @staticmethod
    def _key(data: dict[str, Any]) -> Key:
        return ("item", data.get("item_id"), data.get("output_index"), data.get("content_index"))

    def _closing(self, key: Key) -> list[tuple[str | None, Any]]:
        rest = self.flush(key)
        template = self._templates.get(key)
        if not rest or template is None:
            return []
        data = {**copy.deepcopy(template), "delta": rest}
        return [(data.get("type"), data)]

    def finish(self) -> list[Event]:
        return [
            Event(json.dumps(data, ensure_ascii=False), name)
            for key in self.held_keys()
            for name, data in self._closing(key)
        ]
