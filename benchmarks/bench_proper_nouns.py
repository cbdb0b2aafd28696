"""The proper-noun pass and the NER windows it sends: the old pass (legacy_proper_nouns.py) beside
the product's, in one run. Prints JSON.

.venv/bin/python benchmarks/bench_proper_nouns.py [--records 3000] [--seeds 31 7 11] [--no-timing]

Equivalence (every seed, and the eval files' texts when present): each string the engine hands the
pass gives the same findings and NER windows under both, `confirms` agrees on every capitalised
run, and `scrub_batch` gives identical results (output, counts, replacements) with either; random
strings of letters, punctuation and blanks check the tokenizer's edges. Exits 1 on a difference.
The rewrite was equivalent (session 5: 0 differences on seeds 31, 7, 11, the eval files and
20,000 random strings); the city rule added after it (recognizers/places.py `city_names`: a city in
a log line is a place without the model; `from Noah Murphy` a person) changes findings and windows
on purpose, so the check now reports those strings.

Timing (first seed): time.process_time, best of 5, per record of the corpus: the pass alone over
the strings the engine handed it, NER over the windows as the engine batches them, and the whole
`scrub_batch` with a fresh detection cache per repeat (unseen records).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.corpus import mixed_corpus
from benchmarks.legacy_proper_nouns import ProperNounRecognizer as OldRecognizer
from recognizers.proper_nouns import ProperNounRecognizer
from scrubber.config import load_config
from scrubber.engine import Scrubber
from scrubber.engine.cache import BoundedCache

BATCH = 256
EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
EVAL_FILES = ("presidio_synth_v2.jsonl", "loghub_typed.jsonl")


def _use(engine: Scrubber, names: Any) -> None:
    """Point the engine's detector and propagator at `names`, with an empty detection cache."""
    detector = engine.detector
    detector._proper_nouns = names
    detector._cache = BoundedCache(detector._config.cache_entries, detector._config.cache_chars)
    if engine._propagator is not None:
        engine._propagator._names = names
        engine._propagator._parts.clear()


def _batches(records: Sequence[str]) -> list[Sequence[str]]:
    return [records[i : i + BATCH] for i in range(0, len(records), BATCH)]


def _handed(engine: Scrubber, records: Sequence[str], fmt: str) -> list[list[str]]:
    """The strings the engine hands the pass, per batch (each scrubbed record batch in turn)."""
    names = engine.detector._proper_nouns
    assert names is not None
    seen: list[list[str]] = []
    analyse = names.analyse

    def record(text: str) -> Any:
        seen[-1].append(text)
        return analyse(text)

    names.analyse = record  # type: ignore[method-assign]
    try:
        for batch in _batches(records):
            seen.append([])
            engine.scrub_batch(batch, fmt)  # type: ignore[arg-type]
    finally:
        del names.analyse
    return seen


def _random_texts(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    pieces = ["Maria", "O'Neill", "Al-Farsi", "J.", "Mr.", "van", "Chicago", "in", "from", "said",
              "name", "is", "my", "dear", "ÅSA", "Ŝtefan", "don't", "it's", "U.S.", "x1", "a_b",
              "Smith's", "daughter", "NAANTALI", "Iceland", "new", "york", "Will", "zip", "12345",
              "ſigned", "x-dear", "Regards,", "call", "me", "says", "United", "Kingdom", "Møller"]  # fmt: skip
    marks = ["", "", "", ",", ".", "'", '"', "(", ")", ":", "“", "”", "’", "-", ";", ">", "<", "["]
    blanks = [" ", " ", " ", "  ", "\t", "\n", " \n", "\u00a0", "\u2003"]
    texts = []
    for _ in range(count):
        words = [
            rng.choice(marks) + rng.choice(pieces) + rng.choice(marks)
            for _ in range(rng.randint(1, 14))
        ]
        texts.append("".join(w + rng.choice(blanks) for w in words).strip(rng.choice(["", " "])))
    return texts


def _differences(old: OldRecognizer, new: ProperNounRecognizer, texts: list[str]) -> list[str]:
    bad = []
    for text in texts:
        a, b = old.analyse(text), new.analyse(text)
        if a.findings != b.findings or a.ner_windows != b.ner_windows or old.find(text) != new.find(text) or old.confirms(text) != new.confirms(text) or any(old.confirms(text[f.start : f.end]) != new.confirms(text[f.start : f.end])
                 for f in b.findings):
            bad.append(text)
    return bad


def _scrub_all(engine: Scrubber, records: Sequence[str], fmt: str) -> list[Any]:
    return [r for batch in _batches(records) for r in engine.scrub_batch(batch, fmt)]  # type: ignore[arg-type]


def _check(engine: Scrubber, old: OldRecognizer, new: ProperNounRecognizer, name: str,
           records: Sequence[str], fmt: str) -> dict[str, Any]:  # fmt: skip
    _use(engine, new)
    texts = [t for batch in _handed(engine, records, fmt) for t in batch]
    bad = _differences(old, new, texts)
    _use(engine, old)
    before = _scrub_all(engine, records, fmt)
    _use(engine, new)
    after = _scrub_all(engine, records, fmt)
    changed = sum(a != b for a, b in zip(before, after, strict=True))
    return {"set": name, "records": len(records), "strings": len(texts),
            "different_strings": len(bad), "different_results": changed,
            "examples": bad[:3]}  # fmt: skip


def _best(run: Callable[[], object], repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        run()
        times.append(time.process_time() - start)
    return min(times)


def _reason(names: ProperNounRecognizer, text: str, start: int, end: int) -> str:
    """Which rule of `_ner_windows` sent the window: the first undecided word inside it."""
    from recognizers.words import prose_shaped

    tokens = names._vocabulary.tokens(text)
    prose = "prose" if prose_shaped(text, tokens) else "log"
    for token in tokens:
        if start <= token.start and token.end <= end and token.word.capitalised:
            if prose == "prose" and not token.initial and token.word.english:
                return f"{prose}: English word mid-sentence"
            if prose == "prose" and token.word.unenglish_census:
                return f"{prose}: census name at a sentence start"
            if prose == "log" and not token.word.english:
                return f"{prose}: word that is no English word"
    return f"{prose}: other"


def _timing(engine: Scrubber, old: OldRecognizer, new: ProperNounRecognizer,
            records: list[str]) -> dict[str, Any]:  # fmt: skip
    _use(engine, new)
    handed = _handed(engine, records, "auto")
    texts = [t for batch in handed for t in batch]
    ner = engine.detector._ner
    assert ner is not None
    out: dict[str, Any] = {"records": len(records), "strings_to_pass": len(texts)}
    for label, names in (("old", old), ("new", new)):
        per_batch = [[(t, names.analyse(t)) for t in batch] for batch in handed]
        windows = [[t[s:e] for t, a in batch for s, e in a.ner_windows] for batch in per_batch]
        count = sum(map(len, windows))
        pass_s = _best(lambda names=names: [names.analyse(t) for t in texts])  # type: ignore[misc]
        ner_s = _best(lambda windows=windows: [ner.detect_batch(w) for w in windows if w])  # type: ignore[misc]

        def whole(names: Any = names) -> None:
            _use(engine, names)
            _scrub_all(engine, records, "auto")

        whole_s = _best(whole)
        out[label] = {
            "proper_noun_pass_us_per_record": round(pass_s / len(records) * 1e6, 1),
            "ner_us_per_record": round(ner_s / len(records) * 1e6, 1),
            "ner_us_per_window": round(ner_s / max(1, count) * 1e6, 1),
            "scrub_batch_us_per_record": round(whole_s / len(records) * 1e6, 1),
            "ner_windows": count,
            "ner_windows_per_record": round(count / len(records), 4),
            "distinct_windows": len({w for batch in windows for w in batch}),
        }
    reasons: Counter[str] = Counter()
    for text in texts:
        for start, end in new.analyse(text).ner_windows:
            reasons[_reason(new, text, start, end)] += 1
    out["windows_by_rule"] = dict(reasons.most_common())
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=3000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[31, 7, 11])
    parser.add_argument("--no-timing", action="store_true")
    args = parser.parse_args()
    engine = Scrubber(load_config(None))
    old, new = OldRecognizer(), ProperNounRecognizer()
    checks = [
        _check(engine, old, new, f"mixed seed {seed}",
               list(mixed_corpus(args.records, seed=seed)), "auto")
        for seed in args.seeds
    ]  # fmt: skip
    for name in EVAL_FILES:
        if (EVAL / name).exists():
            lines = (EVAL / name).read_text("utf-8").splitlines()
            records = [json.loads(line)["text"] for line in lines if line]
            checks.append(_check(engine, old, new, name, records, "text"))
    texts = _random_texts(20000, seed=args.seeds[0])
    bad = _differences(old, new, texts)
    checks.append({"set": "random strings", "strings": len(texts),
                   "different_strings": len(bad), "examples": bad[:3]})  # fmt: skip
    report: dict[str, Any] = {"equivalence": checks}
    if not args.no_timing:
        records = list(mixed_corpus(args.records, seed=args.seeds[0]))
        report["timing"] = _timing(engine, old, new, records)
    print(json.dumps(report, indent=2, ensure_ascii=False))
    if any(c["different_strings"] or c.get("different_results") for c in checks):
        sys.exit(1)


if __name__ == "__main__":
    main()
