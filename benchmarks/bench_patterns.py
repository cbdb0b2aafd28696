"""CPU time of the pattern pass, the dispatch before issue 16 beside the current one, same run.

The old dispatch lives here only (it left the product): a raw RE2 probe per prefilter
candidate, then the `re2` wrapper's `finditer` for each candidate that matched. The current one
runs each candidate's `spans` (raw RE2 calls, the first of which is the probe). Both run on the
same strings in the same process, alternated, best of `--repeats`, with CPU time
(`time.process_time`: the machine is shared, wall-clock is noise). The validators' memo caches
are cleared before each run, so neither path is served by the other's validations.

    .venv/bin/python benchmarks/bench_patterns.py [--records 3000] [--repeats 5] [--engine]
        [--check ../shared/eval/loghub_typed.jsonl ...]

`--engine` also times whole `scrub_batch` calls (detection cache off, so every run does the
same work); `--profile` gives the pattern pass's share of `scrub_batch` under cProfile, old and
new (cProfile inflates Python-heavy code: read it as a share, not a time); `--check FILE` asserts identical pattern findings on every text of FILE (JSONL
with "text", or plain lines). Prints one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import json
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import re2

from benchmarks.corpus import mixed_corpus
from recognizers.base import Finding, PatternRecognizer
from recognizers.secret_values import SecretRecognizer, _cut_inside_quotes, _past_ampersand
from scrubber.config import parse_config
from scrubber.engine import Scrubber
from scrubber.engine.detection import Detector
from scrubber.engine.normalize import Normalized, normalize
from scrubber.errors import DetectionFailed
from scrubber.models import Reason

_UNANCHORED = re2._Anchor.UNANCHORED
_NO_MATCH = (-1, -1)


@functools.cache
def _whole(pattern: str) -> Any:
    """A recognizer's whole pattern compiled as one (an address recognizer runs it in two)."""
    options = re2.Options()
    options.max_mem = 64 << 20
    return re2.compile(pattern, options)


def _old_find(self: PatternRecognizer, text: str) -> Iterator[Finding]:
    """PatternRecognizer.find before issue 16: the wrapper's finditer and its match objects,
    on the whole pattern."""
    group = self.value_group
    compiled = self._compiled if self.scan_pattern == self.pattern else _whole(self.pattern)
    for match in compiled.finditer(text):
        start, end = match.start(group), match.end(group)
        if start < 0 or start == end:
            continue
        value = text[start:end]
        if self.validator is not None and not self.validator(value):
            continue
        yield Finding(start, end, self.entity_type, self.score, self.name)


def _old_matches(self: SecretRecognizer, text: str) -> Iterator[Finding]:
    """SecretRecognizer._matches before issue 16, on the wrapper's finditer."""
    groups = range(1, self._compiled.groups + 1) if self.any_group else (self.value_group,)
    for match in self._compiled.finditer(text):
        start, end = next(
            ((match.start(g), match.end(g)) for g in groups if match.start(g) >= 0), (-1, -1)
        )
        if start == end:
            continue
        if self.past_ampersand:
            end = _past_ampersand(text, end)
        if _cut_inside_quotes(text, start, end):
            continue
        if self.validator is not None and not self.validator(text[start:end]):
            continue
        yield Finding(start, end, self.entity_type, self.score, self.name)


def _old_patterns(self: Detector, text: str) -> list[Finding]:
    """Detector._patterns before issue 16: a raw probe per candidate, then `find`."""
    deadline = time.monotonic() + self._limits.record_deadline_seconds
    norm = normalize(text) if self._config.normalize else Normalized(text, None, None)
    scanned = norm.text
    lowered = scanned.lower()
    has_digit = any("0" <= c <= "9" for c in scanned)
    found: list[Finding] = []
    encoded = scanned.encode()
    for recognizer in self._prefilter.candidates(scanned, lowered, has_digit):
        spans = recognizer._compiled._regexp.Match(_UNANCHORED, encoded, 0, len(encoded))
        if spans[0] == _NO_MATCH:
            continue
        for finding in recognizer.find(scanned):
            start, end = norm.original_span(finding.start, finding.end)
            found.append(
                Finding(start, end, finding.entity_type, finding.score, finding.recognizer)
            )
        if time.monotonic() > deadline:
            raise DetectionFailed(Reason.DEADLINE_EXCEEDED)
    return found


@contextmanager
def old_dispatch() -> Iterator[None]:
    """Within: every recognizer and detector of this process dispatches the old way."""
    saved = PatternRecognizer.find, SecretRecognizer._matches, Detector._patterns
    PatternRecognizer.find = _old_find  # type: ignore[method-assign]
    SecretRecognizer._matches = _old_matches  # type: ignore[method-assign]
    Detector._patterns = _old_patterns  # type: ignore[method-assign]
    try:
        yield
    finally:
        PatternRecognizer.find, SecretRecognizer._matches, Detector._patterns = saved  # type: ignore[method-assign]


def pattern_texts(engine: Scrubber, records: list[str]) -> list[str]:
    """The strings `scrub_batch` hands to the pattern pass for `records` (JSON leaves, text
    lines and the values of structured text), in order."""
    seen: list[str] = []
    original = engine.detector._patterns

    def spy(text: str) -> list[Finding]:
        seen.append(text)
        return original(text)

    engine.detector._patterns = spy  # type: ignore[method-assign]
    try:
        for i in range(0, len(records), 256):
            engine.scrub_batch(records[i : i + 256])
    finally:
        del engine.detector._patterns
    return seen


def findings(detector: Detector, texts: list[str]) -> list[list[Finding] | str]:
    out: list[list[Finding] | str] = []
    for text in texts:
        try:
            out.append(sorted(detector._patterns(text), key=_order))
        except Exception as failed:  # a failure is a result to compare too
            out.append(type(failed).__name__)
    return out


def _order(f: Finding) -> tuple[int, int, str, str, float]:
    return f.start, f.end, f.recognizer, f.entity_type, f.score


def _clear_memos() -> None:
    for name, module in list(sys.modules.items()):
        if name.startswith("recognizers"):
            for value in vars(module).values():
                if callable(getattr(value, "cache_clear", None)):
                    value.cache_clear()


def _best(run: Callable[[], object], repeats: int, old: bool) -> float:
    best = float("inf")
    for _ in range(repeats):
        _clear_memos()
        with old_dispatch() if old else _nothing():
            started = time.process_time()
            run()
            best = min(best, time.process_time() - started)
    return best


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def _alternated(run: Callable[[], object], repeats: int, count: int) -> dict[str, Any]:
    """Old and new alternated (one run of each per round), best of `repeats`, µs per item."""
    old = new = float("inf")
    for _ in range(repeats):
        old = min(old, _best(run, 1, old=True))
        new = min(new, _best(run, 1, old=False))
    return {"old_us": round(old / count * 1e6, 1), "new_us": round(new / count * 1e6, 1),
            "speedup": round(old / new, 2)}  # fmt: skip


def _profiled_share(run: Callable[[], object], old: bool) -> dict[str, float]:
    """Cumulative seconds of `_patterns` and `scrub_batch` under cProfile, and their ratio."""
    _clear_memos()
    profile = cProfile.Profile()
    with old_dispatch() if old else _nothing():
        profile.runcall(run)
    cumulative = {
        name: stat[3]
        for (_, _, name), stat in pstats.Stats(profile).stats.items()  # type: ignore[attr-defined]
        if name in ("_patterns", "_old_patterns", "scrub_batch")
    }
    patterns = cumulative.get("_old_patterns" if old else "_patterns", 0.0)
    total = cumulative["scrub_batch"]
    return {"pattern_pass_s": round(patterns, 3), "scrub_batch_s": round(total, 3),
            "share": round(patterns / total, 3)}  # fmt: skip


def _texts_of(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    if path.suffix == ".jsonl":
        return [json.loads(line)["text"] for line in lines if line.strip()]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--engine", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--check", type=Path, action="append", default=[])
    args = parser.parse_args()
    records = list(mixed_corpus(args.records, seed=31))
    engine = Scrubber(parse_config({"detection": {"cache_entries": 0}}))
    texts = pattern_texts(engine, records)
    detector = engine.detector
    report: dict[str, Any] = {"records": len(records), "pattern_pass_strings": len(texts)}

    def pattern_pass() -> None:
        for text in texts:
            detector._patterns(text)

    per_string = _alternated(pattern_pass, args.repeats, len(texts))
    report["pattern_pass_per_string"] = per_string
    per_record = len(texts) / len(records)
    report["pattern_pass_per_record"] = {
        k: round(v * per_record, 1) for k, v in per_string.items() if k != "speedup"
    }

    def scrub() -> None:
        for i in range(0, len(records), 256):
            engine.scrub_batch(records[i : i + 256])

    if args.engine:
        report["scrub_batch_per_record"] = _alternated(scrub, args.repeats, len(records))

    if args.profile:
        report["profile_pattern_share"] = {
            "old": _profiled_share(scrub, old=True), "new": _profiled_share(scrub, old=False)
        }  # fmt: skip

    checked = {"corpus": texts} | {str(p): _texts_of(p) for p in args.check}
    report["identical_findings"] = {}
    for name, some in checked.items():
        with old_dispatch():
            before = findings(detector, some)
        after = findings(detector, some)
        differ = sum(1 for a, b in zip(before, after, strict=True) if a != b)
        report["identical_findings"][name] = {"strings": len(some), "differ": differ}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
