"""The speed mechanisms must not change what is found."""

from __future__ import annotations

import pytest

from benchmarks.corpus import mixed_corpus
from recognizers import default_recognizers
from scrubber.cache import BoundedCache
from scrubber.config import parse_config
from scrubber.detection import Prefilter, TextItem
from scrubber.engine import Scrubber


def test_cache_is_bounded_by_entries_and_chars() -> None:
    cache: BoundedCache[int] = BoundedCache(max_entries=3, max_chars=10, max_key_chars=8)
    for n, text in enumerate(["a", "bb", "ccc", "dddd"]):
        cache.put((text, False), n)
    assert len(cache) == 3 and cache.get(("a", False)) is None  # oldest evicted
    cache.put(("eeeeeeee", False), 9)  # 8 chars: the char budget evicts more
    assert sum(len(k[0]) for k in cache._entries) <= 10
    cache.put(("x" * 9, False), 1)  # longer than max_key_chars: never cached
    assert cache.get(("x" * 9, False)) is None


@pytest.mark.parametrize("text", list(mixed_corpus(60, seed=5)))
def test_prefilter_keeps_every_recognizer_that_matches(text: str) -> None:
    recognizers = default_recognizers()
    prefilter = Prefilter(recognizers)
    chosen = {r.name for r in prefilter.candidates(text.lower(), any(c.isdigit() for c in text))}
    matching = {r.name for r in recognizers if list(r.find(text))}
    assert matching <= chosen


def test_cached_results_equal_fresh_results() -> None:
    records = list(mixed_corpus(120, seed=9))
    cached = Scrubber(parse_config({}))
    uncached = Scrubber(parse_config({"detection": {"cache_entries": 0}}))
    first = [r.output for r in cached.scrub_batch(records)]
    again = [r.output for r in cached.scrub_batch(records)]  # now served from the cache
    fresh = [r.output for r in uncached.scrub_batch(records)]
    assert first == again == fresh
    assert cached.detector._cache.hits > 0


def test_duplicates_in_one_batch_are_scanned_once() -> None:
    engine = Scrubber(parse_config({"detection": {"cache_entries": 0}}))
    calls: list[str] = []
    original = engine.detector._patterns

    def spy(text: str) -> object:
        calls.append(text)
        return original(text)

    engine.detector._patterns = spy  # type: ignore[method-assign]
    engine.detector.detect_batch([TextItem("mail a@example.com", False)] * 5)
    assert calls == ["mail a@example.com"]
