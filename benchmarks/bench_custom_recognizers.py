"""The cost of configured recognizers: `scrub_batch` with the five recognizers of
`write_config` loaded, beside the same engine without them, on the same records.

Each run scrubs the same fresh records with both engines in turn (the first one alternating),
and the ratio is taken per run on CPU seconds of this process, then the median: a shared, busy
machine slows both alike. Target: within 10% (ratio >= 0.90). Prints one JSON object.

    .venv/bin/python benchmarks/bench_custom_recognizers.py [--records 1000] [--repeats 15]

`write_config` is also the fixture of tests/unit/recognizers/test_custom_config.py and
tests/unit/test_cli_recognizers.py: five recognizers, one each with a validator, a deny list,
context words, a new entity type tokenized by the policy, and one in Presidio's YAML format.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import mixed_corpus

TOKEN_KEY_ENV = "SCRUBBER_TOKEN_KEY"

CONFIG = """\
version: 1
recognizers:
  - name: employee_number          # a validator: the last digit is a Luhn check digit
    entity_type: EMPLOYEE_ID
    patterns:
      - {name: badge, regex: '\\bEMP-\\d{8}\\b', score: 0.9}
    validators: [luhn]
  - name: vip_names                # a deny list: exact terms, any case
    entity_type: PERSON
    deny_list: [Aurelio Quintanilla-Voss, Project Nightjar]
  - name: order_number             # context words: a bare 10-digit number is weak alone
    entity_type: ORDER_ID
    patterns:
      - {name: bare, regex: '\\b\\d{10}\\b', score: 0.3}
    context: [order, purchase]
  - name: project_code             # a new entity type, tokenized by the policy below
    entity_type: PROJECT_CODE
    patterns:
      - {name: code, regex: '\\bPRJ-[A-Z]{3}-\\d{4}\\b', score: 0.85}
recognizers_from: presidio.yaml    # the fifth, in Presidio's recognizer-registry format
policy:
  entities:
    PROJECT_CODE: {type: token, key: default}
keys:
  default: {env: SCRUBBER_TOKEN_KEY}
"""

PRESIDIO = """\
supported_languages: [en]
recognizers:
  - name: Internal host Recognizer
    supported_language: en
    supported_entity: INTERNAL_HOST
    patterns:
      - name: corp host
        regex: '\\b[a-z0-9-]+\\.corp\\.example\\.net\\b'
        score: 0.8
    context: [host, server]
"""


def write_config(folder: Path) -> Path:
    """scrubber.yaml and presidio.yaml in `folder`; returns the config's path."""
    (folder / "presidio.yaml").write_text(PRESIDIO, "utf-8")
    path = folder / "scrubber.yaml"
    path.write_text(CONFIG, "utf-8")
    return path


def main() -> None:
    import tempfile

    from scrubber.config import load_config
    from scrubber.engine import Scrubber

    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--batch", type=int, default=256)
    args = parser.parse_args()
    os.environ.setdefault(TOKEN_KEY_ENV, "3f9c2a7e51d04b86a1e7c5d9f20b6e43")

    records = list(mixed_corpus(args.batch + args.records * args.repeats))
    warmup, measured = records[: args.batch], records[args.batch :]
    with tempfile.TemporaryDirectory() as folder:
        custom = load_config(write_config(Path(folder)))
    engines = {"without": Scrubber(load_config(None)), "with_five": Scrubber(custom)}
    for engine in engines.values():
        engine.warm_up()
        engine.scrub_batch(warmup)
    wall: dict[str, list[float]] = {name: [] for name in engines}
    cpu: dict[str, list[float]] = {name: [] for name in engines}
    for run in range(args.repeats):
        # Both engines read the same records, which neither has seen (each has its own cache),
        # in turn, the first one alternating, so drift in the machine's load falls on both.
        chunk = measured[run * args.records : (run + 1) * args.records]
        order = list(engines.items()) if run % 2 == 0 else list(engines.items())[::-1]
        for name, engine in order:
            began, began_cpu = time.perf_counter(), time.process_time()
            for i in range(0, len(chunk), args.batch):
                engine.scrub_batch(chunk[i : i + args.batch])
            wall[name].append(len(chunk) / (time.perf_counter() - began))
            cpu[name].append(len(chunk) / (time.process_time() - began_cpu))
    # Paired per run: the two engines of one run saw the same records and the same machine.
    paired = [w / o for w, o in zip(cpu["with_five"], cpu["without"], strict=True)]
    print(json.dumps({
        "corpus": "mixed (benchmarks/corpus.py, seed 7)",
        "records_per_run": args.records,
        "lines_per_cpu_second_median": {k: round(statistics.median(v), 1) for k, v in cpu.items()},
        "lines_per_second_median": {k: round(statistics.median(v), 1) for k, v in wall.items()},
        "runs_lines_per_cpu_second": {k: [round(x, 1) for x in v] for k, v in cpu.items()},
        "custom_recognizers": len(custom.custom_recognizers()),
        "ratio_with_to_without": round(statistics.median(paired), 3),
        "ratio_runs": [round(r, 3) for r in paired],
        "target": ">= 0.90 (within 10%)",
    }, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
