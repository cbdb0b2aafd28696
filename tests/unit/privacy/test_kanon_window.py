"""Windowed k-anonymity: the measures of each closed window, windows by count and by time,
records without fields, the memory cap, generalize on breach; counts only in logs."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from structlog.testing import capture_logs

from scrubber.config.kanon import KAnonymityConfig
from scrubber.privacy.classes import ClassCounter
from scrubber.privacy.kanon_window import WindowedKAnonymity
from scrubber.privacy.quasi_fields import read_record


def _window(**settings: Any) -> WindowedKAnonymity:
    values = {"quasi_identifiers": ["user.age", "zip"], "k": 2, "window_records": 100}
    return WindowedKAnonymity(KAnonymityConfig.model_validate(values | settings), "app")


def _json(age: Any, zip_code: Any, dx: str = "flu") -> bytes:
    return json.dumps({"user": {"age": age}, "zip": zip_code, "dx": dx, "msg": "ok"}).encode()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# (records as (age, zip, dx), k, l) -> smallest, below k, classes, l-diversity, risk
MEASURES = [
    ([(30, "941", "a")] * 4, 2, 2, (4, 0, 1, 1, 0.25)),
    ([(30, "941", "a"), (30, "941", "b"), (40, "100", "a")], 2, 2, (1, 1, 2, 1, 1.0)),
    ([(30, "941", "a"), (30, "941", "b"), (40, "100", "a"), (40, "100", "c")], 2, 2,
     (2, 0, 2, 2, 0.5)),
    ([(30, "941", "a"), (31, "941", "a"), (30, "942", "a")], 2, 2, (1, 3, 3, 1, 1.0)),
    ([(30, "941", "a")] * 3 + [(30, "941", "b")] * 2 + [("30", "941", "a")] * 3, 3, 2,
     (3, 0, 2, 1, 1 / 3)),  # 30 and "30" are two values
]  # fmt: skip


@pytest.mark.parametrize(("records", "k", "level", "expected"), MEASURES)
def test_the_measures_of_a_closed_window(
    records: list[tuple[Any, str, str]], k: int, level: int, expected: tuple[Any, ...]
) -> None:
    window = _window(k=k, l=level, sensitive="dx", window_records=len(records))
    for age, zip_code, dx in records:
        assert window.observe(_json(age, zip_code, dx)) == _json(age, zip_code, dx)
    figures = window.snapshot().last
    assert figures is not None
    smallest, below, classes, diversity, risk = expected
    assert (figures.smallest_class, figures.records_below_k, figures.classes) == (
        smallest, below, classes,
    )  # fmt: skip
    assert figures.l_diversity == diversity
    assert figures.prosecutor_risk == pytest.approx(risk)
    assert figures.records_below_k_ratio == pytest.approx(below / len(records))
    assert figures.breached == (smallest < k or diversity < level)


def test_count_windows_tumble_and_count_breaches() -> None:
    window = _window(window_records=4)
    assert window.snapshot().last is None  # no figures before the first window closes
    for payload in [_json(30, "941")] * 4 + [_json(30, "941"), _json(40, "100")] * 2:
        window.observe(payload)
    snap = window.snapshot()
    assert (snap.windows, snap.breaches, snap.k, snap.l, snap.step) == (2, 0, 2, None, 0)
    assert snap.last is not None and snap.last.records == 4 and snap.last.classes == 2
    window.observe(_json(50, "200"))
    assert window.close() is not None  # the partial window, at shutdown
    assert (window.snapshot().windows, window.snapshot().breaches) == (3, 1)
    assert window.close() is None  # an empty window does not close


def test_time_windows_close_on_the_next_record_or_on_tick() -> None:
    clock = Clock()
    window = WindowedKAnonymity(
        KAnonymityConfig(quasi_identifiers=("zip",), k=2, window_seconds=60), "app", clock
    )
    window.observe(b'{"zip": "941"}')
    clock.now += 30
    window.observe(b'{"zip": "941"}')
    window.tick()
    assert window.snapshot().windows == 0
    clock.now += 30  # 60 s after the window's first record
    window.observe(b'{"zip": "100"}')  # closes the first window, opens the next
    snap = window.snapshot()
    assert snap.windows == 1 and snap.last is not None and snap.last.smallest_class == 2
    clock.now += 600
    window.tick()
    snap = window.snapshot()
    assert snap.windows == 2 and snap.last is not None and snap.last.smallest_class == 1
    clock.now += 600
    window.tick()
    assert window.snapshot().windows == 2  # nothing came: no empty window


def test_records_without_fields_are_skipped_and_missing_fields_form_a_class() -> None:
    window = _window(window_records=7)
    for payload in [
        b"plain text, no pairs",
        b"[1, 2]",
        b'{"scrubber_quarantined": true, "reason": "too_large"}',
        b"[SCRUBBER QUARANTINED reason=invalid_utf8]",
        b'{"msg": "no quasi-identifier"}',
        b"level=info msg=also-none",
        b'{"user": {"age": null}}',  # null is a value; a missing zip is MISSING
    ]:
        window.observe(payload)
    figures = window.snapshot().last
    assert figures is not None
    assert (figures.skipped, figures.records, figures.missing_all) == (4, 3, 2)
    assert figures.classes == 2  # (MISSING, MISSING) x2 and (null, MISSING)


def test_logfmt_lines_are_read_by_key() -> None:
    window = WindowedKAnonymity(
        KAnonymityConfig(quasi_identifiers=("age", "zip"), k=2, window_records=3), "app"
    )
    for line in [b'INFO age=34 zip="94110" msg=a', b"age=34 zip=94110", b"age=35 zip=94110"]:
        window.observe(line)
    figures = window.snapshot().last
    assert figures is not None and (figures.classes, figures.smallest_class) == (2, 1)


def test_past_the_cap_each_new_combination_counts_as_a_class_of_one() -> None:
    window = _window(window_records=10, max_classes=2, k=2)
    for age in [1, 1, 2, 2, 3, 3, 1, 4, 5, 2]:
        window.observe(_json(age, "941"))
    figures = window.snapshot().last
    assert figures is not None
    assert figures.untracked == 4  # 3, 3, 4, 5: not tracked
    assert (figures.records, figures.classes, figures.smallest_class) == (10, 6, 1)
    assert figures.records_below_k == 4 and figures.breached
    counter = ClassCounter(("a",), 2, sensitive="s", l=2, max_classes=1)
    for line in ['{"a": 1, "s": "x"}', '{"a": 1, "s": "y"}', '{"a": 2, "s": "y"}']:
        counter.add(read_record(line))
    assert counter.figures().l_diversity == 1  # the untracked record is a class of one


def test_generalize_coarsens_the_rest_of_a_breached_window() -> None:
    window = _window(window_records=6, on_breach="generalize")
    out = [json.loads(window.observe(_json(30 + i, f"9411{i}"))) for i in range(6)]
    assert [o["user"]["age"] for o in out] == [30, 31, 32, "30-39", "30-39", "30-39"]
    assert [o["zip"] for o in out[3:]] == ["94***"] * 3
    assert all(o["dx"] == "flu" and o["msg"] == "ok" for o in out)  # other fields untouched
    snap = window.snapshot()
    assert snap.step == 1 and snap.breaches == 1
    assert snap.last is not None and snap.last.classes == 4  # counted as they went out
    # The next window starts at the step reached: nothing goes out finer again.
    nxt = json.loads(window.observe(_json(55, "10001")))
    assert (nxt["user"]["age"], nxt["zip"]) == ("50-59", "10***")


def test_a_breach_seen_only_at_the_close_raises_the_step_for_the_next_window() -> None:
    window = _window(window_records=4, on_breach="generalize")
    for payload in [_json(30, "941")] * 3 + [_json(31, "941")]:  # clean half-way, not at close
        window.observe(payload)
    assert window.step == 1
    # The next window raises it once more half-way; its close, breached too, not again.
    steps = []
    for i in range(4):
        window.observe(_json(40 + i * 10, "942"))
        steps.append(window.step)
    assert steps == [1, 1, 2, 2]
    assert window.snapshot().breaches == 2


def test_alert_mode_never_changes_a_record() -> None:
    window = _window(window_records=2)
    payloads = [_json(30 + i, f"9411{i}") for i in range(10)]
    assert [window.observe(p) for p in payloads] == payloads
    assert window.snapshot().breaches == 5 and window.step == 0


def test_generalize_rewrites_logfmt_in_place() -> None:
    window = WindowedKAnonymity(
        KAnonymityConfig(
            quasi_identifiers=("age", "zip"), k=2, window_records=4, on_breach="generalize"
        ),
        "app",
    )
    lines = [b"age=30 zip=94110 m=a", b"age=31 zip=94111 m=b", b'x age=32 zip="94112" m=c']
    out = [window.observe(line) for line in lines]
    assert out[:2] == lines[:2]
    assert out[2] == b'x age=30-39 zip="94***" m=c'


def test_logs_carry_counts_never_values() -> None:
    rare_zip, rare_age = "Zq-77411", 87
    window = _window(window_records=4, on_breach="generalize")
    with capture_logs() as logs:
        for payload in [_json(rare_age, rare_zip), _json(30, "941")] * 2:
            window.observe(payload)
    assert logs and all(event["event"] == "kanon_generalize" for event in logs)
    text = json.dumps(logs)
    assert rare_zip not in text and str(rare_age) not in text and "941" not in text


def test_snapshots_are_consistent_while_another_thread_observes() -> None:
    window = _window(window_records=10)
    stop = threading.Event()

    def feed() -> None:
        while not stop.is_set():
            window.observe(_json(30, "941"))

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        for _ in range(200):
            snap = window.snapshot()
            assert snap.last is None or snap.last.records == 10
    finally:
        stop.set()
        feeder.join()
    assert window.snapshot().windows > 0
