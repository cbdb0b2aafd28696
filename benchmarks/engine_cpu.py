"""Uncached `scrub_batch` CPU per record, and a dump of its results for equivalence checks.

Two jobs, one engine (default config, warmed up as `scrubber scrub` warms it):

- `--time`: CPU time (`time.process_time`) per record over slices of records none of which
  the engine has seen (mixed corpus of `--seeds`, or lines of `--data`), 256 per batch; one
  figure per slice. `--alternate OLD_TREE` runs this file's `--time` in a process of the old
  checkout (e.g. `git worktree add /tmp/wt-old HEAD`) and one of this checkout, alternately,
  `--rounds` times, and prints every round's figures and their medians: the host is shared and
  its speed moves within minutes, so only figures taken side by side compare.
- `--dump FILE`: every record's output, outcome, reason and replacements, one JSON line per
  record (mixed corpus of each seed, then each `--data` file's texts, never the labels), to
  compare byte for byte with the same dump of another checkout (`cmp`, or `--diff A B`).

    .venv/bin/python benchmarks/engine_cpu.py --time --seeds 7 --records 2000 --slices 3
    .venv/bin/python benchmarks/engine_cpu.py --alternate /tmp/wt-old --rounds 5
    .venv/bin/python benchmarks/engine_cpu.py --dump /tmp/new.jsonl --seeds 7 31 11 \
        --records 3000 --data ../shared/eval/loghub_typed.jsonl
    .venv/bin/python benchmarks/engine_cpu.py --diff /tmp/old.jsonl /tmp/new.jsonl

Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess  # runs this script in another checkout, fixed arguments
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

# `--alternate` runs this file against another checkout: ENGINE_CPU_TREE names it.
sys.path.insert(0, os.environ.get("ENGINE_CPU_TREE") or str(Path(__file__).resolve().parents[1]))

if TYPE_CHECKING:
    from scrubber.engine import Scrubber

BATCH = 256


def _texts(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)["text"]


def _engine() -> Scrubber:  # imported late: `--diff` and `--alternate` need no engine
    from scrubber.config import load_config
    from scrubber.engine import Scrubber

    engine = Scrubber(load_config(None))
    engine.warm_up()
    return engine


def _sets(seeds: list[int], records: int, data: list[Path]) -> Iterator[tuple[str, list[str]]]:
    from benchmarks.corpus import mixed_corpus

    for seed in seeds:
        yield f"mixed-{seed}", list(mixed_corpus(records, seed=seed))
    for path in data:
        yield path.name, list(_texts(path))


def dump(out: Path, seeds: list[int], records: int, data: list[Path]) -> dict[str, object]:
    engine = _engine()
    counts: dict[str, int] = {}
    with out.open("w", encoding="utf-8") as handle:
        for name, texts in _sets(seeds, records, data):
            for i in range(0, len(texts), BATCH):
                for offset, result in enumerate(engine.scrub_batch(texts[i : i + BATCH])):
                    row = {
                        "set": name,
                        "i": i + offset,
                        "output": result.output,
                        "outcome": str(result.outcome),
                        "reason": None if result.reason is None else str(result.reason),
                        "counts": result.entity_counts,
                        "replacements": [
                            [r.path, r.start, r.end, r.entity_type, r.operator]
                            for r in result.replacements
                        ],
                    }
                    handle.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            counts[name] = len(texts)
    return {"dumped": str(out), "records": counts}


def diff(old: Path, new: Path) -> dict[str, object]:
    with old.open(encoding="utf-8") as a, new.open(encoding="utf-8") as b:
        left, right = a.readlines(), b.readlines()
    differing = [json.loads(x) for x, y in zip(left, right, strict=False) if x != y]
    by_set: dict[str, int] = {}
    for row in differing:
        by_set[row["set"]] = by_set.get(row["set"], 0) + 1
    return {
        "records": [len(left), len(right)],
        "differing": len(differing) + abs(len(left) - len(right)),
        "by_set": by_set,
        "first": differing[:3],
    }


def timing(seeds: list[int], records: int, slices: int, data: list[Path]) -> dict[str, object]:
    """CPU us per record on each slice of unseen records (the first BATCH warm the engine)."""
    from benchmarks.corpus import mixed_corpus

    engine = _engine()
    figures: dict[str, list[float]] = {}
    for seed in seeds:
        texts = list(mixed_corpus(BATCH + records * slices, seed=seed))
        figures[f"mixed-{seed}"] = _slices(engine, texts, records, slices)
    for path in data:
        texts = list(_texts(path))[: BATCH + records * slices]
        figures[path.name] = _slices(engine, texts, (len(texts) - BATCH) // slices, slices)
    return {"us_per_record": figures}


def _slices(engine: Scrubber, texts: list[str], records: int, slices: int) -> list[float]:
    engine.scrub_batch(texts[:BATCH])
    out = []
    for n in range(slices):
        part = texts[BATCH + n * records : BATCH + (n + 1) * records]
        started = time.process_time()
        for i in range(0, len(part), BATCH):
            engine.scrub_batch(part[i : i + BATCH])
        out.append(round((time.process_time() - started) / len(part) * 1e6, 1))
    return out


def alternate(old_tree: Path, rounds: int, args: list[str]) -> dict[str, object]:
    """This script's `--time` in the old checkout and in this one, alternately."""
    here = Path(__file__).resolve()
    trees = {"old": old_tree.resolve(), "new": here.parents[1]}
    runs: dict[str, list[dict[str, list[float]]]] = {"old": [], "new": []}
    for n in range(rounds):
        order = ("old", "new") if n % 2 == 0 else ("new", "old")
        for which in order:
            env = {**os.environ, "ENGINE_CPU_TREE": str(trees[which])}
            done = subprocess.run(
                [sys.executable, str(here), "--time", *args],
                cwd=trees[which],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            runs[which].append(json.loads(done.stdout)["us_per_record"])
            print(which, n, runs[which][-1], file=sys.stderr)
    summary: dict[str, dict[str, object]] = {}
    for name in runs["old"][0]:
        per = {w: [statistics.median(r[name]) for r in runs[w]] for w in runs}
        ratios = [o / n for o, n in zip(per["old"], per["new"], strict=True)]
        summary[name] = {
            "old_round_medians": per["old"],
            "new_round_medians": per["new"],
            "old_median": statistics.median(per["old"]),
            "new_median": statistics.median(per["new"]),
            "old_over_new_per_round": [round(r, 3) for r in ratios],
            "old_over_new_median": round(statistics.median(ratios), 3),
        }
    return {"rounds": rounds, "args": args, "sets": summary}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time", action="store_true")
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--diff", type=Path, nargs=2)
    parser.add_argument("--alternate", type=Path, metavar="OLD_TREE")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seeds", type=int, nargs="*", default=[7])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--slices", type=int, default=3)
    parser.add_argument("--data", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    if args.diff:
        report = diff(*args.diff)
    elif args.dump:
        report = dump(args.dump, args.seeds, args.records, args.data)
    elif args.alternate:
        passed = ["--seeds", *map(str, args.seeds), "--records", str(args.records)]
        passed += ["--slices", str(args.slices)]
        if args.data:
            passed += ["--data", *(str(p.resolve()) for p in args.data)]
        report = alternate(args.alternate, args.rounds, passed)
    else:
        report = timing(args.seeds, args.records, args.slices, args.data)
    print(json.dumps(report, indent=1))
    if args.diff and report["differing"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
