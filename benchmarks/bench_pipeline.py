"""`scrubber run` throughput and latency through the local broker, beside the engine's own rate.

For each run: fresh topics, `scrubber run` started and ready (engine loaded, partitions
assigned), a warm-up set pushed through, then the measured records produced as fast as possible.
Throughput = measured records / (last output record's broker append time - start of producing):
the output topics stamp LogAppendTime, since the pipeline carries each input's own timestamp.

- pipeline, scrubbing, 1 and 2 workers (`--workers N`, one consumer group);
- one worker with two shadow policies at 10% sampling and k-anonymity on the route (issue 15:
  target within 15% of the plain one-worker rate, measured in the same run): one after the other,
  alternated (`policy_runs`), and both at once on their own topics (`side_by_side`), where
  whatever else the host does slows both alike;
- the same pipeline with scrubbing switched off (SCRUBBER_BENCH_PASSTHROUGH): the Kafka ceiling;
- `Scrubber.scrub_batch` in this process on the same records and batch size: the engine's rate,
  and pipeline / engine (target: at least 0.8 for one worker);
- end-to-end latency (produce call to the broker appending the scrubbed record) at half the
  measured one-worker rate, with the default `batch_max_wait_ms` (100) and with 20 (a batch is
  handed on as soon as nothing more is ready, so the wait should not matter; target p99 <= 150
  ms with the default).

Prints one JSON object. Needs the broker: `bash scripts/kafka.sh up` (done here if needed).

    .venv/bin/python benchmarks/bench_pipeline.py [--records 20000] [--partitions 4]
        [--passthrough-records 100000] [--latency-seconds 20] [--latency-wait-ms 100,20]
        [--bootstrap 127.0.0.1:9092] [--policy-rounds 3]
        [--only policies|side-by-side|latency] [--baseline-pythonpath OLD_TREE]

`--baseline-pythonpath`: one worker's maximum rate from an older checkout too, alternated with
this tree's (issue 12: the rate must not drop below the one before adaptive batching), e.g.
`git worktree add /tmp/wt-12 84ea36f^`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import mixed_corpus
from scrubber.config import parse_config
from scrubber.engine import Scrubber
from scrubber.pipeline.runner import PASSTHROUGH_ENV, PASSTHROUGH_VALUE

REPO = Path(__file__).resolve().parents[1]
BATCH = 500  # pipeline.batch_max_records, and the engine's batch in the baseline
# Every corpus record carries its sequence number (text `seq=N`, JSON `"seq": N`).
SEQ = re.compile(rb'(?:\bseq=|"seq":\s*)(\d+)')


# ---------------------------------------------------------------- broker helpers


def _bootstrap(given: str | None) -> str:
    if given:
        return given
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "kafka.sh"), "up"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


APPEND_TIME = {"message.timestamp.type": "LogAppendTime"}


def _topics(admin: AdminClient, partitions: int) -> tuple[str, str, str]:
    """Input, output and quarantine; the output stamps the broker's append time."""
    stem = f"bench-{uuid.uuid4().hex[:8]}"
    names = (f"{stem}-in", f"{stem}-out", f"{stem}-q")
    configs: tuple[dict[str, str], ...] = ({}, APPEND_TIME, {})
    futures = admin.create_topics(
        [
            NewTopic(n, num_partitions=partitions, replication_factor=1, config=c)
            for n, c in zip(names, configs, strict=True)
        ]
    )
    for future in futures.values():
        future.result(timeout=30)
    return names


def _produce(bootstrap: str, topic: str, values: list[bytes], partitions: int) -> float:
    """As fast as possible, round-robin over partitions; wall-clock start time."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "acks": "all", "linger.ms": 5, "compression.type": "lz4"})  # fmt: skip
    started = time.time()
    for i, value in enumerate(values):
        while True:
            try:
                producer.produce(topic, value=value, partition=i % partitions)
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(120) == 0
    return started


def _read(
    bootstrap: str, topic: str, expected: int, timeout: float = 600
) -> list[tuple[int, bytes]]:
    """(timestamp ms, value) of `expected` records from the start of `topic`."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})  # fmt: skip
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
    out: list[tuple[int, bytes]] = []
    deadline = time.monotonic() + timeout
    while len(out) < expected and time.monotonic() < deadline:
        out.extend(
            (message.timestamp()[1], message.value() or b"")
            for message in consumer.consume(1000, 1.0)
            if message.error() is None
        )
    consumer.close()
    assert len(out) == expected, f"{topic}: {len(out)} of {expected} records"
    return out


def _free_port(count: int) -> int:
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        with contextlib.ExitStack() as stack:
            try:
                for port in range(base, base + count):
                    s = stack.enter_context(socket.socket())
                    s.bind(("0.0.0.0", port))
            except OSError:
                continue
            return base


# ---------------------------------------------------------------- `scrubber run`


class Run:
    def __init__(self, config: dict[str, Any], workers: int, passthrough: bool, workdir: Path):
        self.port = _free_port(1)
        self.workers = workers
        path = workdir / f"{uuid.uuid4().hex[:8]}.yaml"
        path.write_text(yaml.safe_dump(config))
        self.log = path.with_suffix(".log").open("wb")
        env = dict(os.environ)
        env.pop(PASSTHROUGH_ENV, None)
        if passthrough:
            env[PASSTHROUGH_ENV] = PASSTHROUGH_VALUE
        command = [str(Path(sys.executable).with_name("scrubber")), "run", "--config", str(path),
                   "--workers", str(workers), "--metrics-port", str(self.port)]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def wait_ready(self, timeout: float = 120) -> None:
        """Until the one /readyz of the process says every worker is ready."""
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, "scrubber exited during start-up"
            assert time.monotonic() < deadline, "scrubber not ready in time"
            url = f"http://127.0.0.1:{self.port}/readyz"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return
            time.sleep(0.2)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(60)
        self.log.close()


# Two shadow candidates on 10% of the records and k-anonymity over the JSON logs' service and
# level: what issue 15 asks to cost at most 15% of the plain rate.
POLICY_EXTRAS: dict[str, Any] = {
    "policies": {
        "strict": {"detection": {"score_threshold": 0.3},
                   "policy": {"entities": {"PERSON": {"type": "redact"}}}},
        "everything": {"detection": {"skip_entities": []}, "policy": {"default": {"type": "redact"}}},
    },
    "shadow": {"policies": ["strict", "everything"], "sample_rate": 0.1},
}  # fmt: skip
KANON = {"quasi_identifiers": ["service", "level"], "k": 5, "window_records": 1000}


def _config(
    bootstrap: str, source: str, output: str, quarantine: str, wait_ms: int = 100,
    policies: bool = False,
) -> dict[str, Any]:  # fmt: skip
    route: dict[str, Any] = {"name": "bench", "input": source, "output": output, "format": "auto"}
    if policies:
        route["kanon"] = KANON
    return {
        "kafka": {"bootstrap_servers": bootstrap, "group_id": f"bench-{source}"},
        "routes": [route],
        "quarantine": {"topic": quarantine},
        "pipeline": {"batch_max_records": BATCH, "batch_max_wait_ms": wait_ms},
        **(POLICY_EXTRAS if policies else {}),
    }


# ---------------------------------------------------------------- measurements


def throughput(
    bootstrap: str, warm: list[bytes], measured: list[bytes], partitions: int,
    workers: int, passthrough: bool, workdir: Path, policies: bool = False,
) -> dict[str, Any]:  # fmt: skip
    admin = AdminClient({"bootstrap.servers": bootstrap})
    source, output, quarantine = _topics(admin, partitions)
    config = _config(bootstrap, source, output, quarantine, policies=policies)
    run = Run(config, workers, passthrough, workdir)
    try:
        run.wait_ready()
        _produce(bootstrap, source, warm, partitions)
        _read(bootstrap, output, len(warm))
        cpu_before = _cpu_seconds(run.process.pid)
        started = _produce(bootstrap, source, measured, partitions)
        produced_by = time.time()
        out = _read(bootstrap, output, len(warm) + len(measured))
        cpu = _cpu_seconds(run.process.pid) - cpu_before
    finally:
        run.stop()
        admin.delete_topics([source, output, quarantine])
    finished = max(ts for ts, _ in out) / 1000
    seconds = finished - started
    in_bytes = sum(len(v) for v in measured)
    return {
        "workers": workers,
        "records": len(measured),
        "records_per_second": round(len(measured) / seconds, 1),
        "mb_per_second_in": round(in_bytes / seconds / 1e6, 3),
        "seconds": round(seconds, 2),
        "producer_seconds": round(produced_by - started, 2),
        # CPU the scrubber's processes spent per measured record: what the host's other work
        # does not change much (a wall-clock rate on a shared 2-core host moves by +-15%).
        "cpu_us_per_record": round(cpu / len(measured) * 1e6, 1),
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process and its children, alive or reaped."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(f) for f in fields[11:15]) / ticks  # utime stime cutime cstime
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        total += sum(_cpu_seconds(int(child)) for child in children)
    return total


def engine_rate(warm: list[bytes], measured: list[bytes]) -> dict[str, Any]:
    engine = Scrubber(parse_config({}))
    for i in range(0, len(warm), BATCH):
        engine.scrub_batch(warm[i : i + BATCH])
    started = time.perf_counter()
    for i in range(0, len(measured), BATCH):
        engine.scrub_batch(measured[i : i + BATCH])
    seconds = time.perf_counter() - started
    return {
        "records_per_second": round(len(measured) / seconds, 1),
        "mb_per_second_in": round(sum(len(v) for v in measured) / seconds / 1e6, 3),
        "seconds": round(seconds, 2),
        "batch": BATCH,
    }


def latency(
    bootstrap: str, records: list[bytes], rate: float, partitions: int, workdir: Path,
    wait_ms: int,
) -> dict[str, Any]:  # fmt: skip
    """Produce at `rate`/s; per record, from the produce call to the broker appending the
    scrubbed record (the output topic stamps LogAppendTime), matched by sequence number."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    source, output, quarantine = _topics(admin, partitions)
    run = Run(_config(bootstrap, source, output, quarantine, wait_ms), 1, False, workdir)
    sent_ms: dict[int, float] = {}
    try:
        run.wait_ready()
        # linger.ms 5 (librdkafka's default, and the Java client's since Kafka 4.0): at 0 the
        # load generator sent one produce request per record, and the broker on these same two
        # cores took 42-97 % of a core (the generator 45-60 %) at ~700 records/s, leaving the
        # worker 0.6-0.9 of one (p99 1,043 ms); at 5 the broker took 24-42 %, the generator
        # 20-34 %. The 5 ms count in the latency: it runs from the produce() call.
        # Warm the engine and the clients first, outside the measurement: the measuring
        # producer too. A fresh one holds its first records while it connects and gets its
        # idempotent producer id; timed from produce(), that read as ~1 s of pipeline latency.
        producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                             "acks": "all", "linger.ms": 5})  # fmt: skip
        for i, value in enumerate(records[:BATCH]):
            producer.produce(source, value=value, partition=i % partitions)
        producer.flush(60)
        _read(bootstrap, output, BATCH)
        started = time.perf_counter()
        for i, value in enumerate(records[BATCH:]):
            due = started + i / rate
            # Sleep, then serve callbacks: waiting in poll(<= 2 ms) cost the generator 22 % of
            # a core at 750/s (sleeping: 8 %), taken from the worker on this 2-core host.
            if (now := time.perf_counter()) < due:
                time.sleep(due - now)
            producer.poll(0)
            sent_ms[BATCH + i] = time.time() * 1000  # keyed by the record's seq (corpus order)
            producer.produce(source, value=value, partition=i % partitions)
        producer.flush(60)
        out = _read(bootstrap, output, len(records))
        inside = _where_the_time_went(run.port)
    finally:
        run.stop()
        admin.delete_topics([source, output, quarantine])
    appended = {int(m.group(1)): ts for ts, value in out if (m := SEQ.search(value))}
    timeline = [(at, appended[seq] - at) for seq, at in sent_ms.items()]
    delays = sorted(delay for _, delay in timeline)
    return {
        "rate_records_per_second": round(rate, 1),
        "records": len(delays),
        "p50_ms": round(statistics.median(delays), 1),
        "p90_ms": round(delays[int(len(delays) * 0.90) - 1], 1),
        "p99_ms": round(delays[int(len(delays) * 0.99) - 1], 1),
        "max_ms": round(delays[-1], 1),
        "batch_max_wait_ms": wait_ms,
        "target_p99_ms": 150,
        "seconds_with_a_record_over_150_ms": _slow_seconds(timeline, 150.0),
        "inside_the_scrubber": inside,
    }


def _slow_seconds(timeline: list[tuple[float, float]], over_ms: float) -> str:
    """How many one-second slices of the run sent a record that took over `over_ms`: a few
    slices = stalls (a pause somewhere), most of them = queueing."""
    start = min(at for at, _ in timeline)
    slices: dict[int, float] = {}
    for at, delay in timeline:
        second = int((at - start) / 1000)
        slices[second] = max(slices.get(second, 0.0), delay)
    return f"{sum(1 for d in slices.values() if d > over_ms)} of {len(slices)}"


def _where_the_time_went(port: int) -> dict[str, Any]:
    """From the scrubber's own histograms: batch sizes, engine time per batch, and input
    timestamp to delivery (the pipeline's view of end-to-end)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    found: dict[str, Any] = {}
    for family in text_string_to_metric_families(text):
        if family.name not in HISTOGRAMS:
            continue
        buckets = sorted(
            (float(s.labels["le"]), s.value) for s in family.samples if s.name.endswith("_bucket")
        )
        count = next(s.value for s in family.samples if s.name.endswith("_count"))
        total = next(s.value for s in family.samples if s.name.endswith("_sum"))
        if not count:
            continue
        found[family.name] = {
            "count": count, "mean": round(total / count, 4),
            "p50_at_most": next(le for le, n in buckets if n >= 0.5 * count),
            "p99_at_most": next(le for le, n in buckets if n >= 0.99 * count),
        }  # fmt: skip
    return found


HISTOGRAMS = (
    "scrubber_batch_size_records",
    "scrubber_scrub_seconds",
    "scrubber_end_to_end_seconds",
)


def latency_runs(
    bootstrap: str, rate: float, args: argparse.Namespace, workdir: Path
) -> list[dict[str, Any]]:
    """`latency` at `rate` for each `--latency-wait-ms`, on fresh records (seed 8)."""
    needed = BATCH + int(rate * args.latency_seconds)
    fresh = [t.encode() for t in mixed_corpus(needed, seed=8)]
    return [
        latency(bootstrap, fresh, rate, args.partitions, workdir, int(wait))
        for wait in args.latency_wait_ms.split(",")
    ]


@contextlib.contextmanager
def _pythonpath(value: str | None) -> Iterator[None]:
    """PYTHONPATH for the `scrubber run` processes started inside (None: unset), then back."""
    saved = os.environ.pop("PYTHONPATH", None)
    if value is not None:
        os.environ["PYTHONPATH"] = value
    try:
        yield
    finally:
        os.environ.pop("PYTHONPATH", None)
        if saved is not None:
            os.environ["PYTHONPATH"] = saved


def against_baseline(
    bootstrap: str, warm: list[bytes], measured: list[bytes], partitions: int, workdir: Path,
    pythonpath: str, rounds: int = 2,
) -> dict[str, Any]:  # fmt: skip
    """One worker's maximum rate from this tree and from another (`scrubber run` started with
    PYTHONPATH=`pythonpath`, e.g. a `git worktree` of an older commit), alternated."""
    rates: dict[str, list[float]] = {"this_tree": [], "baseline": []}
    for n in range(rounds):
        for side in ("this_tree", "baseline") if n % 2 == 0 else ("baseline", "this_tree"):
            with _pythonpath(pythonpath if side == "baseline" else None):
                one = throughput(bootstrap, warm, measured, partitions, 1, False, workdir)
            rates[side].append(one["records_per_second"])
    return {"baseline_pythonpath": pythonpath, "records_per_second": rates,
            "best_ratio": round(max(rates["this_tree"]) / max(rates["baseline"]), 3)}  # fmt: skip


def policy_runs(
    bootstrap: str, warm: list[bytes], measured: list[bytes], partitions: int, workdir: Path,
    rounds: int = 3,
) -> dict[str, Any]:  # fmt: skip
    """One worker plain and with the shadows and k-anonymity, `rounds` times each in the order
    plain, with, with, plain, plain, with...: the host is shared and its speed drifts over
    minutes (the same run's CPU per record moved 480 -> 700 us within one bench), so neither
    side gets all the slow minutes. Each side's rate is its best run (noise only ever slows a
    run); the ratio is of those, and the median of each round's own ratio is given beside it."""
    plain: list[dict[str, Any]] = []
    extra: list[dict[str, Any]] = []
    for n in range(rounds):
        for with_policies in (False, True) if n % 2 == 0 else (True, False):
            one = throughput(
                bootstrap, warm, measured, partitions, 1, False, workdir, with_policies
            )
            (extra if with_policies else plain).append(one)
    best = max(r["records_per_second"] for r in plain)
    best_extra = max(r["records_per_second"] for r in extra)
    cpu = min(r["cpu_us_per_record"] for r in plain)
    cpu_extra = min(r["cpu_us_per_record"] for r in extra)
    per_round = [
        e["records_per_second"] / p["records_per_second"] for p, e in zip(plain, extra, strict=True)
    ]
    together = [side_by_side(bootstrap, warm, measured, partitions, workdir) for _ in range(2)]
    return {
        "plain_records_per_second": [r["records_per_second"] for r in plain],
        "shadows_kanon_records_per_second": [r["records_per_second"] for r in extra],
        "plain_cpu_us_per_record": [r["cpu_us_per_record"] for r in plain],
        "shadows_kanon_cpu_us_per_record": [r["cpu_us_per_record"] for r in extra],
        "setup": "2 shadow policies at sample_rate 0.1, kanon on the route (service, level)",
        "rounds": rounds,
        "ratio": round(best_extra / best, 3),
        "median_round_ratio": round(statistics.median(per_round), 3),
        # The same on CPU per record (a core's capacity): plain / with, each the least.
        "cpu_ratio": round(cpu / cpu_extra, 3),
        # Both at once (`side_by_side`), twice: the measure the host's drift does not move.
        "side_by_side": together,
        "side_by_side_ratio": round(statistics.median(r["ratio"] for r in together), 3),
        "target_ratio": 0.85,
    }


def side_by_side(
    bootstrap: str, warm: list[bytes], measured: list[bytes], partitions: int, workdir: Path
) -> dict[str, Any]:
    """Plain and with the shadows and k-anonymity at the same time, one worker each, fed the
    same records on their own topics at once: whatever else the host runs slows both alike, so
    their rates' ratio is the cost of the extras, not of the minute each ran in. Each rate is
    counted over the same window, from the start of producing to the moment the first of the
    two has appended its last record (the other is then alone and faster: not counted)."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    sides: dict[bool, tuple[Run, tuple[str, str, str]]] = {}
    try:
        for extras in (False, True):
            topics = _topics(admin, partitions)
            sides[extras] = (Run(_config(bootstrap, *topics, policies=extras), 1, False, workdir),
                             topics)  # fmt: skip
        for run, (source, output, _) in sides.values():
            run.wait_ready()
            _produce(bootstrap, source, warm, partitions)
            _read(bootstrap, output, len(warm))
        started: dict[bool, float] = {}
        appended: dict[bool, list[int]] = {}

        def feed(extras: bool) -> None:
            source, output, _ = sides[extras][1]
            started[extras] = _produce(bootstrap, source, measured, partitions)
            out = _read(bootstrap, output, len(warm) + len(measured))
            appended[extras] = sorted(ts for ts, _ in out)[len(warm) :]

        threads = [threading.Thread(target=feed, args=(extras,)) for extras in (False, True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        for run, topics in sides.values():
            run.stop()
            admin.delete_topics(list(topics))
    assert len(appended) == 2, "a side failed (see its log)"
    start_ms = max(started.values()) * 1000
    end_ms = min(times[-1] for times in appended.values())
    seconds = (end_ms - start_ms) / 1000
    done = {extras: sum(1 for ts in times if ts <= end_ms) for extras, times in appended.items()}
    return {
        "window_seconds": round(seconds, 2),
        "plain_records_per_second": round(done[False] / seconds, 1),
        "shadows_kanon_records_per_second": round(done[True] / seconds, 1),
        "ratio": round(done[True] / done[False], 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument(
        "--passthrough-records",
        type=int,
        default=100_000,
        help="more records: without scrubbing a run is over in a second",
    )
    parser.add_argument("--latency-seconds", type=float, default=20.0)
    parser.add_argument(
        "--latency-wait-ms",
        default="100,20",
        help="pipeline.batch_max_wait_ms values for the latency runs",
    )
    parser.add_argument(
        "--policy-rounds", type=int, default=3,
        help="runs of each side (plain, shadows + kanon), alternated",
    )  # fmt: skip
    parser.add_argument("--bootstrap", default=os.environ.get("SCRUBBER_KAFKA_BOOTSTRAP"))
    parser.add_argument(
        "--baseline-pythonpath", metavar="PATH",
        help="also one worker's maximum rate with `scrubber run` imported from PATH (an older "
        "checkout), alternated with this tree's",
    )  # fmt: skip
    parser.add_argument(
        "--only", choices=["policies", "side-by-side", "latency"],
        help="only the plain and policy runs (side-by-side: only the runs of both at once), or"
        " only the one-worker rate and the latency runs",
    )  # fmt: skip
    args = parser.parse_args()
    bootstrap = _bootstrap(args.bootstrap)
    if args.only == "policies":
        corpus = [t.encode() for t in mixed_corpus(args.warmup + args.records, seed=7)]
        warm, measured = corpus[: args.warmup], corpus[args.warmup :]
        with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
            print(json.dumps(policy_runs(bootstrap, warm, measured, args.partitions, Path(tmp),
                                         args.policy_rounds), indent=2))  # fmt: skip
        return

    if args.only == "side-by-side":
        corpus = [t.encode() for t in mixed_corpus(args.warmup + args.records, seed=7)]
        warm, measured = corpus[: args.warmup], corpus[args.warmup :]
        with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
            runs = [side_by_side(bootstrap, warm, measured, args.partitions, Path(tmp))
                    for _ in range(args.policy_rounds)]  # fmt: skip
        ratio = statistics.median(r["ratio"] for r in runs)
        print(json.dumps({"side_by_side": runs, "median_ratio": round(ratio, 3)}, indent=2))
        return

    if args.only == "latency":
        corpus = [t.encode() for t in mixed_corpus(args.warmup + args.records, seed=7)]
        warm, measured = corpus[: args.warmup], corpus[args.warmup :]
        with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
            one = throughput(bootstrap, warm, measured, args.partitions, 1, False, Path(tmp))
            result = {"scrub_1_worker": one, "latency_at_half_max_rate": latency_runs(
                bootstrap, one["records_per_second"] / 2, args, Path(tmp))}  # fmt: skip
            if args.baseline_pythonpath:
                result["against_baseline"] = against_baseline(
                    bootstrap, warm, measured, args.partitions, Path(tmp), args.baseline_pythonpath
                )
            print(json.dumps(result, indent=2))
        return

    total = args.warmup + max(args.records, args.passthrough_records)
    corpus = [t.encode() for t in mixed_corpus(total, seed=7)]
    warm, measured = corpus[: args.warmup], corpus[args.warmup : args.warmup + args.records]
    many = corpus[args.warmup :]
    with tempfile.TemporaryDirectory(prefix="bench-pipeline-") as tmp:
        workdir = Path(tmp)
        engine = engine_rate(warm, measured)
        runs = {
            "scrub_1_worker": throughput(bootstrap, warm, measured, args.partitions, 1, False, workdir),
            "scrub_2_workers": throughput(bootstrap, warm, measured, args.partitions, 2, False, workdir),
            "passthrough_1_worker": throughput(bootstrap, warm, many, args.partitions, 1, True, workdir),
            "passthrough_2_workers": throughput(bootstrap, warm, many, args.partitions, 2, True, workdir),
        }  # fmt: skip
        policy = policy_runs(
            bootstrap, warm, measured, args.partitions, workdir, args.policy_rounds
        )
        lat = latency_runs(
            bootstrap, runs["scrub_1_worker"]["records_per_second"] / 2, args, workdir
        )
        baseline = args.baseline_pythonpath and against_baseline(
            bootstrap, warm, measured, args.partitions, workdir, args.baseline_pythonpath
        )

    def ratio(name: str) -> float:
        return round(runs[name]["records_per_second"] / engine["records_per_second"], 3)

    print(json.dumps({
        "corpus": "mixed (benchmarks/corpus.py, seed 7)",
        "records": len(measured),
        "mean_record_bytes": round(sum(len(v) for v in measured) / len(measured), 1),
        "partitions": args.partitions,
        "cpus": os.cpu_count(),
        "engine_scrub_batch": engine,
        "pipeline": runs,
        "pipeline_over_scrub_batch": {
            "scrub_1_worker": ratio("scrub_1_worker"),
            "scrub_2_workers": ratio("scrub_2_workers"),
            "target_1_worker": 0.8,
        },
        "shadows_and_kanon": policy,
        "latency_at_half_max_rate": lat,
        **({"against_baseline": baseline} if baseline else {}),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
