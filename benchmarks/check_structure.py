"""Structure check through the real CLI: one line out per line in, JSON stays valid JSON.

Feeds the `text` of every record of a span-labelled JSONL file (e.g. ../shared/eval/loghub_json.jsonl)
to `scrubber scrub --format auto` as one stream and prints a JSON summary.

    .venv/bin/python benchmarks/check_structure.py ../shared/eval/loghub_json.jsonl
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    source = Path(sys.argv[1])
    texts = [json.loads(line)["text"] for line in source.open(encoding="utf-8") if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        stream = Path(tmp) / "in.log"
        stream.write_text("".join(t.replace("\n", " ") + "\n" for t in texts), encoding="utf-8")
        started = time.perf_counter()
        result = subprocess.run(
            [str(ROOT / ".venv/bin/scrubber"), "scrub", "--format", "auto", str(stream)],
            capture_output=True,
            check=True,
        )
        seconds = time.perf_counter() - started
    outputs = result.stdout.decode("utf-8").split("\n")[:-1]
    json_in = invalid = changed = 0
    for text, out in zip(texts, outputs, strict=False):
        changed += text != out
        if text.lstrip().startswith(("{", "[")):
            json_in += 1
            try:
                json.loads(out)
            except ValueError:
                invalid += 1
    print(
        json.dumps(
            {
                "file": source.name,
                "lines_in": len(texts),
                "lines_out": len(outputs),
                "json_records_in": json_in,
                "invalid_json_out": invalid,
                "records_changed": changed,
                "seconds_including_startup": round(seconds, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
