"""Engines that detect alike share one detector (`Scrubber(detection_of=...)`): a shadow policy
that changes only operators scans nothing twice, and scrubs exactly as if built alone."""

from __future__ import annotations

from scrubber.config import parse_config
from scrubber.engine.detection_parts import detection_key
from scrubber.engine.scrub import Scrubber
from tests.keys import key

ENV = {"SCRUBBER_TOKEN_KEY": key("shared-detection")}
BASE = {"keys": {"default": {"env": "SCRUBBER_TOKEN_KEY"}}}
RECORDS = [
    "payment by Maria Garcia card 4111 1111 1111 1111 from 10.1.2.3",
    '{"user": {"email": "ana.lima@example.org", "name": "Ana Lima"}, "msg": "login ok"}',
    "db password=Winter2024! for oncall@example.net",
]


def test_a_policy_that_changes_only_operators_borrows_the_detector_and_its_cache() -> None:
    live = Scrubber(parse_config({**BASE, "policy": {"default": {"type": "redact"}}}), environ=ENV)
    candidate_config = parse_config({**BASE, "policy": {"default": {"type": "token"}}})
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


def test_an_engine_that_detects_otherwise_builds_its_own() -> None:
    live = Scrubber(parse_config(BASE), environ=ENV)
    stricter = parse_config({**BASE, "detection": {"score_threshold": 0.9}})
    assert detection_key(stricter) != live.detection_key
    assert Scrubber(stricter, environ=ENV, detection_of=live).detector is not live.detector
