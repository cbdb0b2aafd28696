"""Engines that detect alike share one detector (`Scrubber(detection_of=...)`): a shadow policy
that changes only operators, or only the filters applied after detection (score threshold,
skipped types), scans nothing twice, and scrubs exactly as if built alone."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from benchmarks.corpus import mixed_corpus
from scrubber.config import parse_config
from scrubber.engine.detection_parts import detection_key
from scrubber.engine.scrub import Scrubber
from scrubber.models import RecordResult
from scrubber.pipeline.policies import Engines, build
from tests.keys import key

ENV = {"SCRUBBER_TOKEN_KEY": key("shared-detection")}
# Two configured recognizers whose findings the filters split: one weak alone and strong with a
# context word (every 10-digit number), one scoped to a field (its own detector per filter).
RECOGNIZERS = [
    {"name": "order_number", "entity_type": "ORDER_ID", "context": ["order"], "context_boost": 0.6,
     "patterns": [{"name": "bare", "regex": r"\b\d{10}\b", "score": 0.3}]},
    {"name": "ticket", "entity_type": "TICKET_ID", "fields": ["*.note", "ticket"],
     "context": ["case"], "context_boost": 0.45,
     "patterns": [{"name": "weak", "regex": r"\bT-\d{5}\b", "score": 0.5},
                  {"name": "strong", "regex": r"\bTK-\d{6}\b", "score": 0.95}]},
]  # fmt: skip
BASE: dict[str, Any] = {
    "keys": {"default": {"env": "SCRUBBER_TOKEN_KEY"}},
    "recognizers": RECOGNIZERS,
}
RECORDS = [
    "payment by Maria Garcia card 4111 1111 1111 1111 from 10.1.2.3",
    '{"user": {"email": "ana.lima@example.org", "name": "Ana Lima"}, "msg": "login ok"}',
    "db password=Winter2024! for oncall@example.net",
]

# Pieces whose findings overlap, score low or high, are host names (skipped by default), names,
# places, and our own placeholders (never scanned again).
_PIECES = [
    "connect to db01.prod.example.internal:5432 failed",
    "peer 10.2.3.4:8080 via proxy.corp.example.net",
    "GET https://api.example.com/v1/u?mail=ana.lima@example.org 200",
    "order 4829103746 shipped",
    "ref 4829103746",
    "met Maria Garcia in Lisbon yesterday",
    "near <PERSON> and [REDACTED]",
    "call +1 415-555-0134 or jdoe@mail.example.com",
    "ssn 078-05-1120 iban GB82 WEST 1234 5698 7654 32",
    "host=cache-3.eu-west.example.com user=kenji.tanaka",
    "Dr. Akira Tanaka, 221B Baker Street, London",
]


def _varied(count: int, seed: int) -> list[str]:
    """Text lines and JSON records of 1-4 pieces each, with the scoped recognizer's fields."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(count):
        line = " ; ".join(rng.sample(_PIECES, rng.randint(1, 4)))
        if i % 3 == 0:
            ticket = rng.choice(["T-12345", "TK-123456", "none"])
            record = {"msg": line, "ticket": ticket, "case": {"note": f"{ticket} {line}"}}
            out.append(json.dumps(record))
        else:
            out.append(line)
    return out


CORPUS = _varied(120, seed=3) + list(mixed_corpus(80, seed=11))


def _config(detection: dict[str, Any] | None = None, policy: dict[str, Any] | None = None) -> Any:
    extra = {"detection": detection} if detection is not None else {}
    return parse_config({**BASE, **extra, "policy": policy or {"default": {"type": "token"}}})


def _seen(results: list[RecordResult]) -> list[tuple[object, ...]]:
    return [(r.output, r.outcome, r.reason, r.entity_counts, r.replacements) for r in results]


def test_a_policy_that_changes_only_operators_borrows_the_detector_and_its_cache() -> None:
    live = Scrubber(_config(policy={"default": {"type": "redact"}}), environ=ENV)
    candidate_config = _config()
    assert detection_key(candidate_config) == live.detection_key
    candidate = Scrubber(candidate_config, environ=ENV, detection_of=live)
    alone = Scrubber(candidate_config, environ=ENV)
    assert candidate.detector is live.detector and alone.detector is not live.detector

    live.scrub_batch(RECORDS)
    misses = live.detector._cache.misses
    shadowed = [r.output for r in candidate.scrub_batch(RECORDS)]
    assert live.detector._cache.misses == misses  # every string came from the cache
    assert shadowed == [r.output for r in alone.scrub_batch(RECORDS)]
    assert all("Maria" not in out and "4111" not in out for out in shadowed)


FILTERS = [
    {"score_threshold": 0.0},
    {"score_threshold": 0.3},
    {"score_threshold": 0.75},
    {"score_threshold": 0.88},
    {"skip_entities": []},
    {"skip_entities": ["SERVER_HOSTNAME", "PERSON", "EMAIL_ADDRESS"]},
    {"score_threshold": 0.3, "skip_entities": ["IP_ADDRESS", "LOCATION"]},
]


@pytest.mark.parametrize("detection", FILTERS, ids=json.dumps)
def test_a_policy_that_changes_only_filters_shares_the_detector_and_scrubs_as_if_alone(
    detection: dict[str, Any],
) -> None:
    """Half the strings reach the shared cache through the live engine, half through the
    candidate: each engine reads the other's scans and still scrubs as if built alone."""
    live_config, candidate_config = _config(), _config(detection)
    live = Scrubber(live_config, environ=ENV, finds_skipped=True)  # it lends to any skip list
    candidate = Scrubber(candidate_config, environ=ENV, detection_of=live)
    assert candidate.detector is live.detector
    first, second = CORPUS[: len(CORPUS) // 2], CORPUS[len(CORPUS) // 2 :]

    live_first = live.scrub_batch(first)
    shadowed = candidate.scrub_batch(CORPUS)
    misses = live.detector._cache.misses
    live_second = live.scrub_batch(second)
    assert live.detector._cache.misses == misses  # the candidate's scans served the live engine

    assert _seen(shadowed) == _seen(Scrubber(candidate_config, environ=ENV).scrub_batch(CORPUS))
    assert _seen(live_first + live_second) == _seen(
        Scrubber(live_config, environ=ENV).scrub_batch(CORPUS)
    )
    # The filters changed what was found, or the comparison above proved nothing.
    found_live = [r.entity_counts for r in live_first + live_second]
    assert [r.entity_counts for r in shadowed] != found_live


def test_a_detector_that_skips_a_type_is_lent_only_to_engines_that_skip_it_too() -> None:
    live = Scrubber(_config(), environ=ENV)  # skips SERVER_HOSTNAME, by default
    skips_more = _config({"skip_entities": ["SERVER_HOSTNAME", "PERSON"]})
    skips_less = _config({"skip_entities": []})
    assert Scrubber(skips_more, environ=ENV, detection_of=live).detector is live.detector
    alone = Scrubber(skips_less, environ=ENV, detection_of=live)
    assert alone.detector is not live.detector
    assert "<SERVER_HOSTNAME_" in alone.scrub_text("connect to db01.prod.example.internal:5432")


@pytest.mark.parametrize("forked", [False, True], ids=["one worker", "lender before a fork"])
def test_the_pipelines_live_engine_and_its_candidates_share_one_detector(forked: bool) -> None:
    """The live engine is built first, with a detector that finds skipped types, so every
    candidate of the route borrows it (their sample costs no second detection), and that
    detector's own filters are the live engine's: every live record takes the cached result
    as it is, only the candidates' sample is filtered again. With workers, the engine built
    before the fork (which skips host names) cannot lend to a candidate that skips fewer."""
    config = parse_config({
        **BASE,
        "kafka": {"bootstrap_servers": "127.0.0.1:1", "group_id": "g"},
        "routes": [{"name": "r", "input": "in", "output": "out"}],
        "quarantine": {"topic": "q"},
        "policies": {"strict": {"detection": {"score_threshold": 0.3}},
                     "everything": {"detection": {"skip_entities": []}}},
        "shadow": {"policies": ["strict", "everything"], "sample_rate": 0.1},
    })  # fmt: skip
    lender = Scrubber(config, environ=ENV) if forked else None
    route = build(config, Engines(environ=ENV, lender=lender)).by_topic["in"]
    live, engines = route.engine, [engine for _, engine in route.shadows]
    assert isinstance(live, Scrubber) and all(isinstance(e, Scrubber) for e in engines)
    assert {id(e.detector) for e in engines if isinstance(e, Scrubber)} == {id(live.detector)}
    assert live.detector._filters == live._detection.filters
    assert live.detector.unscanned == frozenset()


def test_a_skipped_type_is_left_alone_whoever_found_it() -> None:
    """`skip_entities` drops the names and places of the proper-noun pass and NER too."""
    text = "met Maria Garcia in Lisbon yesterday, mail ana.lima@example.org"
    kept = Scrubber(_config({"skip_entities": ["PERSON", "LOCATION"]}), environ=ENV)
    result = kept.scrub_batch([text])[0]
    assert "Maria Garcia" in result.output and "Lisbon" in result.output
    assert "ana.lima@example.org" not in result.output
    assert set(result.entity_counts) == {"EMAIL_ADDRESS"}


def test_an_engine_that_detects_otherwise_builds_its_own() -> None:
    live = Scrubber(_config(), environ=ENV)
    unnormalized = _config({"normalize": False})
    assert detection_key(unnormalized) != live.detection_key
    assert Scrubber(unnormalized, environ=ENV, detection_of=live).detector is not live.detector
