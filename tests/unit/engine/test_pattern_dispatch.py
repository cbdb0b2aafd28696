"""The pattern pass finds exactly what it found before issue 16 (the old dispatch is kept in
benchmarks/bench_patterns.py): same spans, types, scores and recognizers, or the same failure."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import tests.unit.recognizers as recognizer_tests
from benchmarks.bench_patterns import findings, old_dispatch, pattern_texts
from benchmarks.corpus import mixed_corpus
from benchmarks.secret_variants import generate
from recognizers import default_recognizers
from scrubber.config import parse_config
from scrubber.engine import Scrubber
from scrubber.engine.detection import Detector

ROOT = Path(__file__).resolve().parents[3]
ODD = [
    "",
    "\ud800 lone surrogate",
    "x" * 3000 + " a@b.co",
    "ＡＫＩＡ１２３４ %40 \x1b[31mred\x1b[0m",
]


def _strings(value: object, depth: int = 0) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict) and depth < 4:
        for key, item in value.items():
            yield from _strings(key, depth + 1)
            yield from _strings(item, depth + 1)
    elif isinstance(value, list | tuple | set | frozenset) and depth < 4:
        for item in value:
            yield from _strings(item, depth + 1)


def fixture_lines() -> list[str]:
    """Every string in the recognizer tests' tables, and the sample log's lines."""
    lines: set[str] = set()
    for module in pkgutil.iter_modules(recognizer_tests.__path__):
        loaded = importlib.import_module(f"{recognizer_tests.__name__}.{module.name}")
        for name, value in vars(loaded).items():
            if name.isupper():
                lines.update(s for s in _strings(value) if len(s) >= 3)
    lines.update((ROOT / "samples" / "mixed.log").read_text(encoding="utf-8").splitlines())
    return sorted(lines)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return Detector(
        default_recognizers(),
        parse_config({}).detection,
        parse_config({}).limits,
        ner=None,
    )


def test_fixture_lines_find_the_same(detector: Detector) -> None:
    lines = fixture_lines() + ODD
    assert len(lines) > 500
    with old_dispatch():
        before = findings(detector, lines)
    assert findings(detector, lines) == before
    assert sum(1 for f in before if f) > 300  # the tables are mostly hits


def test_generated_corpus_finds_the_same() -> None:
    """Mixed records (the strings scrub_batch hands the pattern pass) and secret variants."""
    engine = Scrubber(parse_config({"detection": {"cache_entries": 0, "ner": {"enabled": False}}}))
    texts = pattern_texts(engine, list(mixed_corpus(1500, seed=16)))
    texts += [line.text for line in generate(seed=16, half=None, per_kind=1)]
    with old_dispatch():
        before = findings(engine.detector, texts)
    assert findings(engine.detector, texts) == before


def test_every_recognizer_finds_the_same_on_the_fixture_lines() -> None:
    """Below the prefilter too: each recognizer's own `find` on a third of the lines (all of
    them take 14 s; tests/unit/recognizers/test_spans.py checks the matches on any text)."""
    lines = fixture_lines()[::3]
    recognizers = default_recognizers()
    with old_dispatch():
        before = [[list(r.find(t)) for r in recognizers] for t in lines]
    assert [[list(r.find(t)) for r in recognizers] for t in lines] == before
