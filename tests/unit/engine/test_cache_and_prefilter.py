"""The speed mechanisms must not change what is found."""

from __future__ import annotations

import pytest

from benchmarks.corpus import mixed_corpus
from recognizers import default_recognizers
from scrubber.config import parse_config
from scrubber.engine import Scrubber
from scrubber.engine.cache import BoundedCache
from scrubber.engine.detection import Prefilter, TextItem


def test_cache_is_bounded_by_entries_and_chars() -> None:
    cache: BoundedCache[int] = BoundedCache(max_entries=3, max_chars=10, max_key_chars=8)
    for n, text in enumerate(["a", "bb", "ccc", "dddd"]):
        cache.put((text, False), n)
    assert len(cache) == 3 and cache.get(("a", False)) is None  # oldest evicted
    cache.put(("eeeeeeee", False), 9)  # 8 chars: the char budget evicts more
    assert sum(len(k[0]) for k in cache._entries) <= 10
    cache.put(("x" * 9, False), 1)  # longer than max_key_chars: never cached
    assert cache.get(("x" * 9, False)) is None


SHAPED = [
    "DNI 12345678Z and NIE X1234567L",
    "codice fiscale RSSMRA85T10A562S",
    "NRIC S1234567D",
    "CPF 123.456.789-09",
    "NINO AB 12 34 56 C",
    "ITIN 912-78-1234",
    "from 10.0.0.1 port 22",
    "card 4111 1111 1111 1111",
    "Jun 14 15:16:01 combo sshd[1234]: ok",
]


def _candidates(prefilter: Prefilter, text: str) -> set[str]:
    has_digit = any(c.isdigit() for c in text)
    return {r.name for r in prefilter.candidates(text, text.lower(), has_digit)}


@pytest.mark.parametrize("text", list(mixed_corpus(60, seed=5)) + SHAPED)
def test_prefilter_keeps_every_recognizer_that_matches(text: str) -> None:
    recognizers = default_recognizers()
    matching = {r.name for r in recognizers if list(r.find(text))}
    assert matching <= _candidates(Prefilter(recognizers), text)


def test_prefilter_skips_shapes_that_cannot_match() -> None:
    chosen = _candidates(Prefilter(default_recognizers()), "GET /health 200 in 3 ms")
    assert "es_nif" not in chosen and "ipv4_address" not in chosen


class _SetOutOfMemory:
    """What an RE2 set returns when it cannot run: no answer at all."""

    def Match(self, _text: str) -> None:  # RE2's method name
        return None


def test_a_set_that_cannot_answer_runs_every_recognizer_it_guards() -> None:
    recognizers = default_recognizers()
    prefilter = Prefilter(recognizers)
    prefilter._triggers = _SetOutOfMemory()  # type: ignore[assignment]
    prefilter._shapes = _SetOutOfMemory()  # type: ignore[assignment]
    assert _candidates(prefilter, "x 1") == {r.name for r in recognizers}


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


def test_a_worker_s_cache_holds_its_share_of_the_configured_bounds() -> None:
    """N workers forked from one engine hold N caches: each gets an N-th of the budget, so the
    command's cache memory is what the config says whatever N is (and sharing again does not
    shrink it further)."""
    engine = Scrubber(parse_config({"detection": {"cache_entries": 12}}))
    records = [f"user{seq} logged in from 198.51.100.{seq}" for seq in range(40)]
    engine.scrub_batch(records)
    assert len(engine.detector._cache) == 12
    for _ in range(2):
        engine.detector.share_cache(3)
        assert len(engine.detector._cache) == 0  # a cache of its own, not the parent's pages
        engine.scrub_batch(records)
        assert len(engine.detector._cache) == 4
    assert [r.output for r in engine.scrub_batch(records)] == [
        r.output for r in Scrubber(parse_config({})).scrub_batch(records)
    ]
