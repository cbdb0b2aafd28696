"""Stream adapters on their own: Responses events and SSE framing cut at every byte; and the
documented config block parses."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path

import yaml

from scrubber.config import parse_config
from scrubber.gateway.restore import Restorer, TokenBook
from scrubber.gateway.streams import Event, ResponsesAdapter, sse_events

TOKEN = "<PERSON_1a2b3c4d>"
ROOT = Path(__file__).resolve().parents[3]


def _restorer() -> Restorer:
    book = TokenBook()
    book.add(TOKEN, 'Maria "M" Garcia')
    return Restorer(book)


def _delta(kind: str, delta: str) -> Event:
    return Event(json.dumps({"type": kind, "item_id": "i1", "output_index": 0,
                             "content_index": 0, "delta": delta}), kind)  # fmt: skip


def test_responses_deltas_and_function_arguments_are_restored_when_split() -> None:
    arguments = json.dumps({"name": TOKEN})
    for cut in range(1, len(TOKEN)):
        adapter = ResponsesAdapter(_restorer())
        text = f"Hi {TOKEN}"
        events = [_delta("response.output_text.delta", text[: 3 + cut]),
                  _delta("response.output_text.delta", text[3 + cut :]),
                  Event(json.dumps({"type": "response.output_text.done", "item_id": "i1",
                                    "output_index": 0, "content_index": 0, "text": text}))]
        out = [o for e in events for o in adapter.on_event(e)]
        datas = [json.loads(o.data or "{}") for o in out]
        streamed = "".join(d.get("delta", "") for d in datas if d["type"].endswith(".delta"))
        assert streamed == 'Hi Maria "M" Garcia'
        assert datas[-1]["text"] == 'Hi Maria "M" Garcia'
        adapter = ResponsesAdapter(_restorer())
        kind = "response.function_call_arguments.delta"
        pieces = [arguments[:cut + 9], arguments[cut + 9 :]]
        out = [o for p in pieces for o in adapter.on_event(_delta(kind, p))] + adapter.finish()
        joined = "".join(json.loads(o.data or "{}")["delta"] for o in out)
        assert json.loads(joined) == {"name": 'Maria "M" Garcia'}


def test_sse_framing_cut_at_every_byte() -> None:
    raw = ('event: a\ndata: {"x": "é"}\n\n: ping\n\ndata: line1\ndata: line2\r\n\r\n'
           'data: [DONE]\n\n').encode()

    async def read(step: int) -> list[Event]:
        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(raw), step):
                yield raw[start : start + step]

        return [event async for event in sse_events(chunks())]

    for step in (1, 2, 3, 7, len(raw)):
        events = asyncio.run(read(step))
        assert [(e.name, e.data) for e in events] == [
            ("a", '{"x": "é"}'), (None, None), (None, "line1\nline2"), (None, "[DONE]")
        ]


def test_the_documented_config_parses() -> None:
    text = (ROOT / "docs" / "gateway.md").read_text("utf-8")
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    config = parse_config(yaml.safe_load(block.group(1)))
    assert config.gateway.block == ("US_SSN", "CREDIT_CARD")
