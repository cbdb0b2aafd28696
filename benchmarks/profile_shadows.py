"""What two shadow policies at 10% and k-anonymity on the route cost, in this process, on CPU.

The same route twice (bench_pipeline.py's POLICY_EXTRAS and KANON, or neither), fed the same
batches of the mixed corpus in turn, alternating which goes first: scrub, shape (kanon counts
each output value), then the shadows on their sample, as `scrubber run` does after each batch. No
broker, so no Kafka noise; CPU time (`time.process_time`), so other processes on the host weigh
less than on wall time. NER's process-wide memo of recent windows is emptied before each run so
neither side reads the other's windows. Prints JSON: CPU per record each way, plain / with.

    .venv/bin/python benchmarks/profile_shadows.py [--rounds 8]   # 2,000 records a round
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from prometheus_client import CollectorRegistry

from benchmarks.bench_pipeline import BATCH, KANON, POLICY_EXTRAS
from benchmarks.corpus import mixed_corpus
from connectors.kafka.clients import KafkaRecord
from scrubber.config import parse_config
from scrubber.engine import ner
from scrubber.pipeline.policies import Engines, Policies, build
from scrubber.pipeline.records import scrub_parts
from scrubber.pipeline.shadow import Shadows

ROUND = 2000


def _policies(extras: bool) -> Policies:
    route: dict[str, Any] = {"name": "bench", "input": "in", "output": "out", "format": "auto"}
    if extras:
        route["kanon"] = KANON
    config = parse_config({
        "kafka": {"bootstrap_servers": "127.0.0.1:1", "group_id": "bench"},
        "routes": [route], "quarantine": {"topic": "q"}, **(POLICY_EXTRAS if extras else {}),
    })  # fmt: skip
    return build(config, Engines())


def _run(policies: Policies, batch: list[KafkaRecord], shadows: Shadows) -> float:
    """CPU seconds for one batch as the loop handles it."""
    ner._RECENT.clear()
    started = time.process_time()
    policy = policies.by_topic["in"]
    scrubbed = scrub_parts(batch, policy.route, policy.engine.scrub_batch)
    policy.shape(batch, scrubbed, policies.config.quarantine)
    shadows.run(policies, [(policy, batch, scrubbed)])
    return time.process_time() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    values = [t.encode() for t in mixed_corpus(BATCH + args.rounds * ROUND, seed=7)]
    records = [KafkaRecord("in", i % 4, i // 4, None, v, (), 0) for i, v in enumerate(values)]
    plain, extra = _policies(False), _policies(True)
    shadows = {False: Shadows(CollectorRegistry()), True: Shadows(CollectorRegistry())}
    for with_extras, policies in ((False, plain), (True, extra)):  # warm: first documents
        _run(policies, records[:BATCH], shadows[with_extras])
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for n, start in enumerate(range(BATCH, len(records), BATCH)):
        batch = records[start : start + BATCH]
        for with_extras in (False, True) if n % 2 == 0 else (True, False):
            policies = extra if with_extras else plain
            seconds[with_extras].append(_run(policies, batch, shadows[with_extras]))
    per_round = ROUND // BATCH
    ratios = [
        sum(seconds[False][i : i + per_round]) / sum(seconds[True][i : i + per_round])
        for i in range(0, len(seconds[False]), per_round)
    ]
    count = len(seconds[False]) * BATCH
    print(json.dumps({
        "records": count,
        "plain_cpu_us_per_record": round(sum(seconds[False]) / count * 1e6, 1),
        "shadows_kanon_cpu_us_per_record": round(sum(seconds[True]) / count * 1e6, 1),
        "ratio_median_of_rounds": round(statistics.median(ratios), 3),
        "ratio_rounds": [round(r, 3) for r in ratios],
        "target_ratio": 0.85,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
