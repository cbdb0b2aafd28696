"""Where the optimized path spends its time: cProfile of `scrub_batch` on unseen mixed records.

.venv/bin/python benchmarks/profile_engine.py [--records 4000] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import mixed_corpus
from scrubber.config import load_config
from scrubber.engine import Scrubber


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=4000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    records = list(mixed_corpus(args.records + 256, seed=31))
    engine = Scrubber(load_config(None))
    engine.scrub_batch(records[:256])
    profile = cProfile.Profile()
    profile.enable()
    for i in range(256, len(records), 256):
        engine.scrub_batch(records[i : i + 256])
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
    print(out.getvalue())


if __name__ == "__main__":
    main()
