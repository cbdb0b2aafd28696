"""Fair use of the engine (httpx on the ASGI app, real engines on their own threads): a ~1 MB
scrub runs on the large lane while small scrubs keep completing on the standard one; a full
queue answers 503 `busy` at once instead of piling up; a request past its deadline is answered.

The bound stated for this 2-core machine: while the 1 MB scrub runs (2 to 3 s with NER off),
each small scrub completes within SMALL_BOUND seconds (measured: median a few ms, the slowest
of twenty 0.06 to 0.5 s, when the big record's thread holds the interpreter for one long regex
or word pass). With one engine for all, each would wait for the whole big scrub instead.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from scrubber.api.serve import build_app
from scrubber.config import parse_config
from tests.unit.api.test_app import ENV, Client

SMALL_BOUND = 1.5
SMALL = {"text": "Call Maria at +1 415-555-0199 or maria.garcia@example.org from 10.1.2.3"}


def big_record() -> dict[str, Any]:
    """1 MB of prose with an address every twentieth line: seconds of engine work."""
    lines = [
        f"the quick brown fox number {i} jumps over the lazy dog and writes "
        + (f"to user{i}@example.org about the weather" if i % 20 == 0 else
           "a long message about the weather today")
        for i in range(12_000)
    ]  # fmt: skip
    return {"text": "\n".join(lines)[:1_000_000]}


def app_with(**limits: Any) -> Any:
    config = parse_config({"detection": {"ner": {"enabled": False}}, "api": {"limits": limits},
                           "limits": {"record_deadline_seconds": 60}})  # fmt: skip
    return build_app(config, ENV)


async def _post(client: httpx.AsyncClient, body: dict[str, Any]) -> tuple[httpx.Response, float]:
    started = time.perf_counter()
    response = await client.post("/v1/scrub", json=body, timeout=60)
    return response, time.perf_counter() - started


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")


async def _until_busy(app: Any, lane: str) -> None:
    lanes = app.state.service.lanes
    chosen = lanes.large if lane == "large" else lanes.standard
    while chosen.pending() == 0:
        await asyncio.sleep(0.005)


def test_small_scrubs_complete_while_a_1mb_scrub_runs() -> None:
    app = app_with()  # the defaults: records of 64 KiB or more take the large lane

    async def go() -> tuple[tuple[httpx.Response, float], list[tuple[httpx.Response, float]]]:
        async with _client(app) as client:
            big = asyncio.create_task(_post(client, big_record()))
            await _until_busy(app, "large")
            small = []
            for _ in range(20):
                small.append(await _post(client, SMALL))
                assert not big.done(), "the big scrub ended before the small ones: no overlap"
            return await big, small

    (big, big_seconds), small = asyncio.run(go())
    assert big.status_code == 200, big.text[:200]
    assert all(r.status_code == 200 and "maria.garcia" not in r.text for r, _ in small)
    seconds = sorted(s for _, s in small)
    print(f"big {big_seconds:.2f} s; small median {seconds[10] * 1000:.1f} ms, "
          f"max {seconds[-1] * 1000:.1f} ms")  # fmt: skip
    assert seconds[-1] < SMALL_BOUND, seconds
    assert seconds[10] < 0.25, seconds


def test_a_full_queue_answers_503_busy_at_once() -> None:
    app = app_with(large_record_bytes=None, max_queue=2)  # one engine, two may wait

    async def go() -> tuple[list[tuple[httpx.Response, float]], tuple[httpx.Response, float]]:
        async with _client(app) as client:
            big = asyncio.create_task(_post(client, big_record()))
            await _until_busy(app, "standard")
            small = await asyncio.gather(*(_post(client, SMALL) for _ in range(6)))
            return small, await big

    small, (big, _) = asyncio.run(go())
    assert big.status_code == 200
    statuses = sorted(r.status_code for r, _ in small)
    assert statuses == [200, 200, 503, 503, 503, 503]
    for response, seconds in small:
        if response.status_code == 503:
            assert response.json()["error"] == "busy"
            assert response.json()["reason"] == "max_queue"
            assert int(response.headers["retry-after"]) >= 1
            assert seconds < 0.5  # refused at once, not after waiting
    metrics = Client(app).get("/metrics").text
    assert 'scrubber_http_busy_total{limit="max_queue",route="/v1/scrub"} 4.0' in metrics


def test_the_large_lane_has_its_own_queue_and_a_deadline_answers_in_time() -> None:
    app = app_with(max_large_queue=0, request_deadline_seconds=0.5)

    async def go() -> list[tuple[httpx.Response, float]]:
        async with _client(app) as client:
            first = asyncio.create_task(_post(client, big_record()))
            await _until_busy(app, "large")
            second = await _post(client, big_record())
            small = await _post(client, SMALL)
            return [await first, second, small]

    (first, first_s), (second, second_s), (small, _) = asyncio.run(go())
    assert second.status_code == 503 and second.json()["reason"] == "max_large_queue"
    assert second_s < 0.5
    assert small.status_code == 200  # the standard lane is free
    # The big scrub needs seconds; its caller is answered at its deadline.
    assert first.status_code == 503 and first.json()["reason"] == "request_deadline_seconds"
    assert 0.4 < first_s < 1.5
