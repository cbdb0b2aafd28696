"""What `scrubber gateway` adds to ~1 KB chat requests at a fixed rate, beside a proxy built on
per-request vanilla Presidio, measured in the same run against the same fake upstream. Prints one
JSON object.

    .venv/bin/python benchmarks/bench_gateway.py [--rate 50] [--requests 500] [--warmup 50]
        [--runs 1] [--skip-presidio]

Three targets, one at a time, each answering the same kind of requests (distinct prompts, so no
detection-cache hits): the fake upstream of tests/unit/gateway/ called directly; `scrubber
gateway` in front of it (conversation-less, the default token policy; answers echo the prompt, so
every token is restored); and a proxy that runs Presidio's AnalyzerEngine.analyze +
AnonymizerEngine.anonymize on every message and forwards (it restores nothing). Each is measured
twice: plain answers (latency) and `stream: true` (time to the first content chunk).

Open loop, as benchmarks/bench_api_latency.py: request i is sent at t0 + i / rate whatever the
earlier ones did, and its time runs from then. Added latency = a percentile through the target
minus the same percentile directly (the upstream's own time taken out).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import yaml

from benchmarks.bench_api_latency import ENV, MODEL, PROMPT_BYTES, _free_port, _start, _summary
from benchmarks.bench_api_latency import prompts as make_prompts

ROUTE = "/v1/chat/completions"
PIECE = 24  # characters per streamed delta
TARGET_ADDED_P99_MS = 25.0
TARGET_TTFT_P99_MS = 10.0


def body(text: str, stream: bool) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "stream": stream,
            "messages": [{"role": "system", "content": "You are a helpful assistant."},
                         {"role": "user", "content": text}]}  # fmt: skip


async def _one(client: httpx.AsyncClient, url: str, payload: dict[str, Any]) -> float | None:
    """Seconds to the answer (plain) or to its first content chunk (stream); None on an error."""
    started = time.perf_counter()
    try:
        if not payload["stream"]:
            response = await client.post(url, json=payload)
            return time.perf_counter() - started if response.status_code == 200 else None
        first: float | None = None
        async with client.stream("POST", url, json=payload) as response:
            async for line in response.aiter_lines():
                if first is None and '"content": "' in line and '"content": ""' not in line:
                    first = time.perf_counter() - started
        return first if response.status_code == 200 else None
    except httpx.HTTPError:
        return None


async def drive(url: str, texts: list[str], rate: float, stream: bool) -> tuple[list[float], int]:
    """Open loop at `rate`: each request's time counts from its scheduled start."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:

        async def scheduled(at: float, text: str) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            late = time.perf_counter() - at
            took = await _one(client, url, body(text, stream))
            if took is None:
                errors += 1
            else:
                latencies.append(late + took)

        start = time.perf_counter() + 0.2
        await asyncio.gather(*(scheduled(start + i / rate, t) for i, t in enumerate(texts)))
    return latencies, errors


def measure(base: str, texts: list[str], args: argparse.Namespace, requests: int) -> dict[str, Any]:
    url = base + ROUTE
    warm, plain, streamed = (texts[: args.warmup], texts[args.warmup : args.warmup + requests],
                             texts[args.warmup + requests : args.warmup + 2 * requests])  # fmt: skip
    asyncio.run(drive(url, warm, args.rate, False))
    asyncio.run(drive(url, warm, args.rate, True))
    return {
        "latency": _summary(*asyncio.run(drive(url, plain, args.rate, False))),
        "first_chunk": _summary(*asyncio.run(drive(url, streamed, args.rate, True))),
    }


# ---------------------------------------------------------------- the servers


def serve_upstream(port: int) -> None:
    from tests.unit.gateway.fake_upstream import FakeUpstream, Script

    FakeUpstream(Script(piece=PIECE)).start(port).thread.join()


def serve_presidio_proxy(port: int, upstream: str) -> None:
    """A proxy built on Presidio: analyze + anonymize every message, then forward."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response, StreamingResponse
    from starlette.routing import Route

    from scrubber.baseline import presidio_engines

    analyzer, anonymizer = presidio_engines(MODEL)
    client = httpx.AsyncClient(base_url=upstream, timeout=60)

    def anonymize(text: str) -> str:
        found = analyzer.analyze(text=text, language="en")
        return str(anonymizer.anonymize(text=text, analyzer_results=found).text)

    async def chat(request: Request) -> Response:
        payload = await request.json()
        for message in payload["messages"]:
            message["content"] = await run_in_threadpool(anonymize, message["content"])
        sent = client.build_request("POST", ROUTE, json=payload)
        answer = await client.send(sent, stream=True)
        kind = answer.headers.get("content-type", "application/json")
        if kind.startswith("text/event-stream"):
            return StreamingResponse(answer.aiter_raw(), answer.status_code, media_type=kind)
        content = await answer.aread()
        return Response(content, answer.status_code, media_type=kind)

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    app = Starlette(routes=[Route("/healthz", healthz), Route(ROUTE, chat, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def _wait_upstream(url: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/v1/models", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise SystemExit("the fake upstream did not start")


def _gateway_command(upstream: str, folder: Path, port: int) -> list[str]:
    path = folder / "gateway.yaml"
    config = {"keys": {"default": {"env": "BENCH_TOKEN_KEY"}}, "gateway": {"upstream": upstream}}
    path.write_text(yaml.safe_dump(config))
    return [sys.executable, "-m", "scrubber.cli", "--log-level", "warning", "gateway",
            "--config", str(path), "--port", str(port)]  # fmt: skip


def _added(through: dict[str, Any], direct: dict[str, Any]) -> dict[str, float]:
    return {f"{p}_ms": round(through[f"{p}_ms"] - direct[f"{p}_ms"], 2) for p in ("p50", "p99")}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--requests", type=int, default=500, help="measured requests per run")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--presidio-requests", type=int, default=150,
                        help="measured requests through the Presidio proxy (it falls behind the "
                        "rate, so its queue, and its latency, grow with the run's length)")  # fmt: skip
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="direct and gateway measured this many times, alternately (the "
        "headline figures are the median run's)",
    )
    parser.add_argument("--skip-presidio", action="store_true", help="measure no Presidio proxy")
    parser.add_argument("--serve-upstream", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-presidio-proxy", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_upstream:
        serve_upstream(args.serve_upstream)
        return
    if args.serve_presidio_proxy:
        serve_presidio_proxy(int(args.serve_presidio_proxy[0]), args.serve_presidio_proxy[1])
        return
    import subprocess

    upstream_port = _free_port()
    upstream = f"http://127.0.0.1:{upstream_port}"
    fake = subprocess.Popen([sys.executable, __file__, "--serve-upstream", str(upstream_port)])
    results: dict[str, Any] = {}
    count = args.warmup + 2 * args.requests
    seeds = iter(range(1, 1000))  # unseen prompts for every run of every target
    try:
        _wait_upstream(upstream)
        with tempfile.TemporaryDirectory() as tmp:
            port = _free_port()
            gateway = _start(_gateway_command(upstream, Path(tmp), port), port, ENV)
            try:  # direct and gateway alternate, so a burst of load elsewhere hits both alike
                runs = []
                for _ in range(args.runs):
                    direct = measure(
                        upstream, make_prompts(count, next(seeds)), args, args.requests
                    )
                    ours = measure(f"http://127.0.0.1:{port}", make_prompts(count, next(seeds)),
                                   args, args.requests)  # fmt: skip
                    runs.append(
                        {"direct": direct, "gateway": ours, "load_1min": os.getloadavg()[0]}
                    )
            finally:
                gateway.terminate()
                gateway.wait(timeout=30)
            results["runs"] = runs
            if not args.skip_presidio:
                command = [sys.executable, __file__, "--serve-presidio-proxy", str(port), upstream]
                proxy = _start(command, port, ENV)
                try:
                    texts = make_prompts(args.warmup + 2 * args.presidio_requests, next(seeds))
                    base = f"http://127.0.0.1:{port}"
                    results["presidio_proxy"] = measure(base, texts, args, args.presidio_requests)
                finally:
                    proxy.terminate()
                    proxy.wait(timeout=30)
    finally:
        fake.terminate()
        fake.wait(timeout=10)
    print(json.dumps(report(results, args), indent=2))


def report(results: dict[str, Any], args: argparse.Namespace) -> dict[str, Any]:
    """Every run's figures; the headline ones are the median run's (by first-chunk p99)."""
    runs = [
        {**run, "gateway_added_ms": _added(run["gateway"]["latency"], run["direct"]["latency"]),
         "gateway_ttft_overhead_ms": _added(run["gateway"]["first_chunk"],
                                            run["direct"]["first_chunk"])}
        for run in results["runs"]
    ]  # fmt: skip
    median = sorted(runs, key=lambda run: run["gateway_ttft_overhead_ms"]["p99_ms"])[len(runs) // 2]
    added, ttft = median["gateway_added_ms"], median["gateway_ttft_overhead_ms"]
    targets = {f"run{i}.{t}": r for i, run in enumerate(runs, 1) for t, r in run.items()
               if t in ("direct", "gateway")}  # fmt: skip
    if "presidio_proxy" in results:
        targets["presidio_proxy"] = results["presidio_proxy"]
    errors = {f"{t}.{k}": r[k]["errors"] for t, r in targets.items() for k in r if r[k]["errors"]}
    out: dict[str, Any] = {
        "route": f"POST {ROUTE}", "prompt_bytes": PROMPT_BYTES, "rate_rps": args.rate,
        "requests": args.requests, "cpus": os.cpu_count(), "load_average": os.getloadavg(),
        "runs": runs, "gateway_added_ms": added, "gateway_ttft_overhead_ms": ttft,
        "every_run": {"added_p99_ms": [r["gateway_added_ms"]["p99_ms"] for r in runs],
                      "ttft_overhead_p50_ms": [r["gateway_ttft_overhead_ms"]["p50_ms"] for r in runs],
                      "ttft_overhead_p99_ms": [r["gateway_ttft_overhead_ms"]["p99_ms"] for r in runs]},
        "errors": errors,
        "target_added_p99_ms": TARGET_ADDED_P99_MS, "target_ttft_overhead_p99_ms": TARGET_TTFT_P99_MS,
        "target_met": {"added_p99": added["p99_ms"] <= TARGET_ADDED_P99_MS,
                       "ttft_overhead_p99": ttft["p99_ms"] <= TARGET_TTFT_P99_MS},
    }  # fmt: skip
    if "presidio_proxy" in results:
        theirs, direct = results["presidio_proxy"], median["direct"]
        out["presidio_proxy"] = theirs
        out["presidio_proxy_added_ms"] = _added(theirs["latency"], direct["latency"])
        out["presidio_proxy_ttft_overhead_ms"] = _added(
            theirs["first_chunk"], direct["first_chunk"]
        )
    return out


if __name__ == "__main__":
    main()
