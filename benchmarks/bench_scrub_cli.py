"""Steady-state throughput of the `scrubber scrub` command, 1, 2 and 3 workers, beside vanilla
Presidio (AnalyzerEngine + AnonymizerEngine, one record at a time) on the same records.

Start-up is excluded by difference: each configuration runs on N and on 2N records, and the
steady rate is N / (T(2N) - T(N)). Start-up on empty input and peak RSS are reported too, and
the memory of the whole process tree (parent and workers) as the kernel's PSS (proportional set
size: a page shared by k processes counts 1/k in each; /proc/PID/smaps_rollup), sampled every
0.5 s during the 2N run, its maximum: the memory an extra worker really adds is the difference
of those maxima between runs with N and N+1 workers. Prints one JSON object.

    .venv/bin/python benchmarks/bench_scrub_cli.py [--records 6000] [--data FILE.jsonl]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=6000)
    parser.add_argument("--presidio-records", type=int, default=300)
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()

    records = _load(args.data, 2 * args.records)
    n = len(records) // 2
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "n.log", Path(tmp) / "2n.log"
        small.write_text("".join(r.replace("\n", " ") + "\n" for r in records[n:]), "utf-8")
        large.write_text("".join(r.replace("\n", " ") + "\n" for r in records), "utf-8")
        startup = _timed([SCRUBBER, "scrub"], None)
        one = _steady_rate(1, small, large, n)
        two = _steady_rate(2, small, large, n)
        three = _steady_rate(3, small, large, n)
    peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    presidio_run = _presidio()
    sample = records[: args.presidio_records]
    presidio_run(sample[:10])
    started = time.perf_counter()
    presidio_run(sample)
    presidio_rate = len(sample) / (time.perf_counter() - started)

    print(json.dumps({
        "corpus": str(args.data) if args.data else "mixed (benchmarks/corpus.py, seed 7)",
        "records_n": n,
        "startup_seconds_empty_input": round(startup, 2),
        "scrub_1_worker": one,
        "scrub_2_workers": two,
        "presidio_vanilla_lines_per_second": round(presidio_rate, 1),
        "presidio_records": len(sample),
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
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
