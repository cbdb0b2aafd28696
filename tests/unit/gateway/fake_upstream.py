"""A fake OpenAI/Anthropic upstream: a real HTTP server in a thread that records what it
receives and answers like the real APIs, echoing the last user text (so the tokens the gateway
put in the request come back in the answer), streamed in pieces cut where the test says."""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    """How the next answers are made."""

    reply: str | None = None  # a fixed answer; None: "You said: <last user text>"
    cuts: list[int] | None = None  # content split at these offsets; None: `piece` characters
    piece: int = 7
    seed: int | None = None  # random cut points
    write_bytes: int = 0  # SSE bytes written this many at a time (0: one write per event)
    byte_cuts: list[int] | None = None  # the whole SSE stream written in pieces cut here
    end_after: int | None = None  # close the stream after this many characters of content
    status: int = 200
    delay: float = 0.0  # seconds before each event (a model generating)
    tool: bool = False  # answer with a tool call whose arguments carry the text


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # a burst of new connections queues instead of being reset


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes


@dataclass
class FakeUpstream:
    script: Script = field(default_factory=Script)
    received: list[Received] = field(default_factory=list)
    disconnects: int = 0

    def start(self, port: int = 0) -> FakeUpstream:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # each write leaves at once (cuts stay cuts)

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.loads(raw)
                upstream.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body, raw)
                )
                try:
                    upstream.answer(self, body)
                except (BrokenPipeError, ConnectionResetError):
                    upstream.disconnects += 1  # the gateway closed the upstream request

            def do_GET(self) -> None:
                upstream.received.append(Received(self.path, dict(self.headers), None, b""))
                _json(self, 200, {"object": "list", "data": [{"id": "fake-model"}]})

        self.server = _Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # ------------------------------------------------------------ answers

    def answer(self, handler: BaseHTTPRequestHandler, body: dict[str, Any]) -> None:
        script = self.script
        if script.status >= 400:
            _json(
                handler,
                script.status,
                {"error": {"message": "slow down", "type": "rate", "code": "rate_limit_exceeded"}},
            )
            return
        text = last_text(body)
        reply = script.reply if script.reply is not None else f"You said: {text}"
        path = handler.path.split("?")[0]
        stream = body.get("stream") is True
        if path == "/v1/embeddings":
            _json(
                handler,
                200,
                {
                    "object": "list",
                    "model": body["model"],
                    "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                },
            )
            return
        make = {
            "/v1/chat/completions": (chat, chat_events),
            "/v1/completions": (completion, completion_events),
            "/v1/messages": (message, message_events),
            "/v1/responses": (response, None),
        }[path]
        arguments = json.dumps({"text": text}) if script.tool else None
        if not stream:
            _json(handler, 200, make[0](body, reply, arguments))
            return
        events = make[1](body, self.pieces(reply), self.pieces(arguments or ""))  # type: ignore[misc]
        handler.send_response(200)
        handler.send_header("content-type", "text/event-stream")
        handler.end_headers()
        if script.byte_cuts is not None:
            _write_cut("".join(events).encode(), script.byte_cuts, handler)
            return
        sent = 0
        for event in events:
            if script.delay:
                time.sleep(script.delay)
            data = event
            if script.end_after is not None and sent + len(event) > script.end_after:
                data = event[: max(0, script.end_after - sent)]
            encoded = data.encode()
            step = script.write_bytes or len(encoded) or 1
            for start in range(0, len(encoded), step):
                handler.wfile.write(encoded[start : start + step])
                handler.wfile.flush()
            sent += len(event)
            if data != event:
                return  # the connection closes mid-stream

    def pieces(self, text: str) -> list[str]:
        script = self.script
        if not text:
            return []
        if script.cuts is not None:
            cuts = sorted({c for c in script.cuts if 0 < c < len(text)})
        elif script.seed is not None:
            rng = random.Random(script.seed)
            cuts = sorted(rng.sample(range(1, len(text)), min(len(text) - 1, len(text) // 3)))
        else:
            cuts = list(range(script.piece, len(text), script.piece))
        return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]


def last_text(body: dict[str, Any]) -> str:
    if "messages" in body:
        content = body["messages"][-1]["content"]
    elif "prompt" in body:
        content = body["prompt"]
    else:
        content = body.get("input", "")
        if isinstance(content, list) and content and isinstance(content[-1], dict):
            content = content[-1].get("content", "")
    if isinstance(content, list):
        texts = [p.get("text", "") if isinstance(p, dict) else str(p) for p in content]
        content = " ".join(texts)
    return str(content)


def _write_cut(data: bytes, cuts: list[int], handler: BaseHTTPRequestHandler) -> None:
    """`data` in separate writes (and so, most often, separate reads) cut at these offsets."""
    points = sorted({c for c in cuts if 0 < c < len(data)})
    for a, b in zip([0, *points], [*points, len(data)], strict=True):
        handler.wfile.write(data[a:b])
        handler.wfile.flush()
        time.sleep(0.0005)  # the reader gets this piece before the next is written


def _json(handler: BaseHTTPRequestHandler, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    handler.send_response(status)
    handler.send_header("content-type", "application/json")
    handler.send_header("content-length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def _sse(data: Any, event: str | None = None) -> str:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(data)}\n\n"


def chat(body: dict[str, Any], reply: str, arguments: str | None) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply}
    if arguments is not None:
        message["tool_calls"] = [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "send", "arguments": arguments},
            }
        ]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": "stop", "logprobs": None}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def chat_events(body: dict[str, Any], pieces: list[str], arguments: list[str]) -> list[str]:
    head = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": body["model"],
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
        return _sse(
            {
                **head,
                "choices": [
                    {"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}
                ],
            }
        )

    events = [chunk({"role": "assistant", "content": ""})]
    events += [chunk({"content": piece}) for piece in pieces]
    if arguments:
        events.append(
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "send", "arguments": ""},
                        }
                    ]
                }
            )
        )
        events += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            for piece in arguments
        ]
    events.append(chunk({}, "tool_calls" if arguments else "stop"))
    return [*events, "data: [DONE]\n\n"]


def completion(body: dict[str, Any], reply: str, arguments: str | None) -> dict[str, Any]:
    return {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1,
        "model": body["model"],
        "choices": [{"index": 0, "text": reply, "finish_reason": "stop", "logprobs": None}],
    }


def completion_events(body: dict[str, Any], pieces: list[str], arguments: list[str]) -> list[str]:
    def chunk(text: str, finish: str | None = None) -> str:
        return _sse(
            {
                "id": "cmpl-1",
                "object": "text_completion",
                "created": 1,
                "model": body["model"],
                "choices": [{"index": 0, "text": text, "finish_reason": finish, "logprobs": None}],
            }
        )

    return [*(chunk(p) for p in pieces), chunk("", "stop"), "data: [DONE]\n\n"]


def message(body: dict[str, Any], reply: str, arguments: str | None) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": reply}]
    if arguments is not None:
        content.append(
            {"type": "tool_use", "id": "toolu_1", "name": "send", "input": json.loads(arguments)}
        )
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }


def message_events(body: dict[str, Any], pieces: list[str], arguments: list[str]) -> list[str]:
    start = message(body, "", None) | {"content": [], "stop_reason": None}
    events = [
        _sse({"type": "message_start", "message": start}, "message_start"),
        _sse(
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
            "content_block_start",
        ),
    ]
    events += [
        _sse(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
            "content_block_delta",
        )
        for p in pieces
    ]
    events.append(_sse({"type": "content_block_stop", "index": 0}, "content_block_stop"))
    if arguments:
        events.append(
            _sse(
                {
                    "type": "content_block_start",
                    "index": 1,
                    "content_block": {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "send",
                        "input": {},
                    },
                },
                "content_block_start",
            )
        )
        events += [
            _sse(
                {
                    "type": "content_block_delta",
                    "index": 1,
                    "delta": {"type": "input_json_delta", "partial_json": p},
                },
                "content_block_delta",
            )
            for p in arguments
        ]
        events.append(_sse({"type": "content_block_stop", "index": 1}, "content_block_stop"))
    events.append(
        _sse(
            {
                "type": "message_delta",
                "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                "usage": {"output_tokens": 1},
            },
            "message_delta",
        )
    )
    return [*events, _sse({"type": "message_stop"}, "message_stop")]


def response(body: dict[str, Any], reply: str, arguments: str | None) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "status": "completed",
        "model": body["model"],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "output": [
            {
                "type": "message",
                "id": "msg_1",
                "status": "completed",
                "role": "assistant",
                "content": [{"type": "output_text", "text": reply, "annotations": []}],
            }
        ],
    }
