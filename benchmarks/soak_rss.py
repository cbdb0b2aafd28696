"""Soak: stream many records with unique IDs through `scrubber scrub` and sample its RSS.

spaCy's string store grows with every new token unless processing runs in a memory zone; this
shows whether a long-running worker stays flat. Records are generated on the fly (never held in
memory), fed to the scrubber's stdin; the output is counted and discarded. Prints JSON with RSS
samples (MiB) and the growth after warm-up.

    .venv/bin/python benchmarks/soak_rss.py [--records 500000] [--workers 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import mixed_corpus

ROOT = Path(__file__).resolve().parents[1]


def _rss_mib(pid: int) -> float:
    """RSS of a process and its children (the worker processes), in MiB."""
    total = 0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            continue
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--sample-seconds", type=float, default=5.0)
    args = parser.parse_args()

    process = subprocess.Popen(
        [str(ROOT / ".venv/bin/scrubber"), "scrub", "--workers", str(args.workers)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    counted = [0]

    def drain() -> None:
        assert process.stdout is not None
        for _ in process.stdout:
            counted[0] += 1

    def feed() -> None:
        assert process.stdin is not None
        for record in mixed_corpus(args.records, seed=23):
            process.stdin.write(record.encode() + b"\n")
        process.stdin.close()

    threading.Thread(target=drain, daemon=True).start()
    threading.Thread(target=feed, daemon=True).start()
    started = time.perf_counter()
    samples: list[tuple[float, int, float]] = []
    while process.poll() is None:
        samples.append(
            (round(time.perf_counter() - started, 1), counted[0], round(_rss_mib(process.pid), 1))
        )
        time.sleep(args.sample_seconds)
    seconds = time.perf_counter() - started
    warm = [rss for _, done, rss in samples if done >= args.records // 10]
    print(json.dumps({
        "records_in": args.records,
        "records_out": counted[0],
        "workers": args.workers,
        "seconds": round(seconds, 1),
        "lines_per_second_overall": round(counted[0] / seconds, 1),
        "rss_mib_after_warmup_first": warm[0] if warm else None,
        "rss_mib_after_warmup_max": max(warm) if warm else None,
        "rss_mib_last": warm[-1] if warm else None,
        "growth_after_warmup_percent": round(100 * (max(warm) - warm[0]) / warm[0], 2) if warm else None,
        "samples_t_done_rss": samples[:: max(1, len(samples) // 40)],
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
