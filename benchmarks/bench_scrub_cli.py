"""Steady-state throughput of the `scrubber scrub` command, 1, 2 and 3 workers, beside vanilla
Presidio (AnalyzerEngine + AnonymizerEngine, one record at a time) on the same records.

Start-up is excluded by difference: each configuration runs on N and on 2N records, and the
steady rate is N / (T(2N) - T(N)). Start-up on empty input and peak RSS are reported too, and
the memory of the whole process tree (parent and workers) as the kernel's PSS (proportional set
size: a page shared by k processes counts 1/k in each; /proc/PID/smaps_rollup), sampled every
0.5 s during the 2N run, its maximum: the memory an extra worker really adds is the difference
of those maxima between runs with N and N+1 workers. Prints one JSON object.

Per format (text logs, JSON logs, chat requests of benchmarks/corpus.py, each alone): the
1-worker steady rate in lines/s and bytes/s beside vanilla Presidio on the same kind of records.

    .venv/bin/python benchmarks/bench_scrub_cli.py [--records 6000] [--data FILE.jsonl]
        [--no-per-format]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.bench_engine import _load, _presidio
from benchmarks.corpus import KINDS, canary_value

ROOT = Path(__file__).resolve().parents[1]
SCRUBBER = str(ROOT / ".venv/bin/scrubber")


def _pss_mb(pid: int) -> float:
    """The PSS of a process and its children, in MiB (0 once it is gone)."""
    total = 0.0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total += int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return total + sum(_pss_mb(int(child)) for child in children)


def _timed(args: list[str], stdin_path: Path | None, memory: list[float] | None = None) -> float:
    started = time.perf_counter()
    with stdin_path.open("rb") if stdin_path else open("/dev/null", "rb") as stdin:
        process = subprocess.Popen(
            args, stdin=stdin, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        while process.poll() is None:
            if memory is not None:
                memory.append(_pss_mb(process.pid))
            time.sleep(0.5)
    if process.returncode != 0:
        raise SystemExit(f"{args} exited {process.returncode}")
    return time.perf_counter() - started


def _steady_rate(workers: int, small: Path, large: Path, n: int) -> dict[str, float]:
    command = [SCRUBBER, "scrub", "--workers", str(workers)]
    t_small = _timed(command, small)
    memory: list[float] = [0.0]
    t_large = _timed(command, large, memory)
    if t_large - t_small < 1.0:
        raise SystemExit(
            "input too small to separate the steady state from start-up: use more records"
        )
    return {
        "lines_per_second": round(n / (t_large - t_small), 1),
        "seconds_n": round(t_small, 2),
        "seconds_2n": round(t_large, 2),
        "max_pss_mb_process_tree": round(max(memory), 1),
    }


def _write_halves(records: list[str], folder: Path) -> tuple[Path, Path, int]:
    n = len(records) // 2
    small, large = folder / "n.log", folder / "2n.log"
    small.write_text("".join(r.replace("\n", " ") + "\n" for r in records[n:]), "utf-8")
    large.write_text("".join(r.replace("\n", " ") + "\n" for r in records), "utf-8")
    return small, large, n


def _presidio_rate(records: list[str]) -> float:
    run = _presidio()
    run(records[:10])
    started = time.perf_counter()
    run(records[10:])
    return (len(records) - 10) / (time.perf_counter() - started)


def _per_format(count: int, presidio_records: int, folder: Path) -> dict[str, dict[str, float]]:
    """Each kind of record alone, unique IDs (a fresh seed per kind): ours vs vanilla Presidio."""
    import random

    figures = {}
    for seed, kind in enumerate(KINDS, 101):
        rng = random.Random(seed)
        records = [kind(rng, seq, canary_value(seq)) for seq in range(2 * count)]
        small, large, n = _write_halves(records, folder)
        ours = _steady_rate(1, small, large, n)
        line_bytes = sum(len(r.encode()) for r in records) / len(records)
        theirs = _presidio_rate(records[: presidio_records + 10])
        figures[kind.__name__] = {
            "lines_per_second": ours["lines_per_second"],
            "bytes_per_second": round(ours["lines_per_second"] * line_bytes),
            "mean_line_bytes": round(line_bytes, 1),
            "presidio_lines_per_second": round(theirs, 1),
            "ratio": round(ours["lines_per_second"] / theirs, 1),
        }
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=6000)
    parser.add_argument("--presidio-records", type=int, default=300)
    parser.add_argument("--data", type=Path)
    parser.add_argument("--no-per-format", action="store_true")
    args = parser.parse_args()

    records = _load(args.data, 2 * args.records)
    with tempfile.TemporaryDirectory() as tmp:
        small, large, n = _write_halves(records, Path(tmp))
        startup = _timed([SCRUBBER, "scrub"], None)
        one = _steady_rate(1, small, large, n)
        two = _steady_rate(2, small, large, n)
        three = _steady_rate(3, small, large, n)
        per_format = (
            {} if args.no_per_format or args.data
            else _per_format(args.records // 2, args.presidio_records, Path(tmp))
        )  # fmt: skip
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    sample = records[: args.presidio_records + 10]
    presidio_rate = _presidio_rate(sample)
    mean_bytes = sum(len(r.encode()) for r in records) / len(records)

    print(json.dumps({
        "corpus": str(args.data) if args.data else "mixed (benchmarks/corpus.py, seed 7)",
        "records_n": n,
        "startup_seconds_empty_input": round(startup, 2),
        "scrub_1_worker": one,
        "scrub_2_workers": two,
        "presidio_vanilla_lines_per_second": round(presidio_rate, 1),
        "presidio_records": len(sample) - 10,
        "mean_line_bytes": round(mean_bytes, 1),
        "bytes_per_second_1_worker": round(one["lines_per_second"] * mean_bytes),
        "ratio_1_worker": round(one["lines_per_second"] / presidio_rate, 1),
        "ratio_2_workers": round(two["lines_per_second"] / presidio_rate, 1),
        "peak_rss_mb_largest_process": round(peak_rss_mb, 1),
        "scrub_3_workers": three,
        # What one more worker adds to the whole tree (PSS), from 1 to 2 and from 2 to 3.
        "added_pss_mb_second_worker": round(
            two["max_pss_mb_process_tree"] - one["max_pss_mb_process_tree"], 1
        ),
        "added_pss_mb_third_worker": round(
            three["max_pss_mb_process_tree"] - two["max_pss_mb_process_tree"], 1
        ),
        "per_format_1_worker": per_format,
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
