"""Windowed k-anonymity and l-diversity equal pycanon's (PyPI: pycanon.anonymity) on a pandas
dump of the same window; generalize makes a breached window's later records coarser, never
finer, and never lets a quasi-identifier's value out as it came."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from pycanon import anonymity

from scrubber.config.kanon import KAnonymityConfig
from scrubber.privacy.generalize import coarsen
from scrubber.privacy.kanon_window import WindowedKAnonymity

SETTINGS = settings(max_examples=60, deadline=None)
QI = ("user.age", "zip")
MISSING = object()
# Small alphabets, so classes repeat; None is JSON null, MISSING an absent field.
ages = st.sampled_from([30, 31, 45, "30-39", None, MISSING])
zips = st.sampled_from(["94110", "94117", "10001", None, MISSING])
diagnoses = st.sampled_from(["flu", "asthma", "none", None, MISSING])
records = st.tuples(ages, zips, diagnoses, st.booleans())  # the last: as a logfmt line


def _payload(age: Any, zip_code: Any, dx: Any, logfmt: bool) -> bytes:
    if logfmt:  # logfmt has no null, and a nested key is written as the whole path
        pairs = [f"{k}={v}" for k, v in (("user.age", age), ("zip", zip_code), ("dx", dx))
                 if v is not MISSING and v is not None]  # fmt: skip
        return ("msg=ok " + " ".join(pairs)).encode()
    document: dict[str, Any] = {"msg": "ok"}
    if age is not MISSING:
        document["user"] = {"age": age}
    if zip_code is not MISSING:
        document["zip"] = zip_code
    if dx is not MISSING:
        document["dx"] = dx
    return json.dumps(document).encode()


def _column(value: Any, logfmt: bool) -> str:
    """The value as a dump column holds it: typed JSON, text from logfmt, one string for
    MISSING (pandas' groupby would drop a NaN key)."""
    if value is MISSING or (logfmt and value is None):
        return "<missing>"
    return json.dumps(str(value) if logfmt else value)


def _dump(window: list[tuple[Any, Any, Any, bool]]) -> pd.DataFrame:
    rows = [{"age": _column(a, lf), "zip": _column(z, lf), "dx": _column(d, lf)}
            for a, z, d, lf in window]  # fmt: skip
    return pd.DataFrame(rows)


def _read_back(payload: bytes) -> tuple[Any, Any, Any, bool]:
    """What went out, as a record tuple (for the dump of a generalized window)."""
    text = payload.decode()
    if not text.startswith("{"):
        pairs = dict(pair.split("=", 1) for pair in text.split())
        return (pairs.get("user.age", MISSING), pairs.get("zip", MISSING),
                pairs.get("dx", MISSING), True)  # fmt: skip
    document = json.loads(text)
    user = document.get("user", {})
    return (user.get("age", MISSING), document.get("zip", MISSING),
            document.get("dx", MISSING), False)  # fmt: skip


def _run(stream: list[tuple[Any, Any, Any, bool]], size: int, k: int, on_breach: str) -> tuple[
    list[list[tuple[Any, Any, Any, bool]]], list[Any], list[bytes]
]:  # fmt: skip
    """Each closed window's records as they went out, each window's figures, the outputs."""
    config = KAnonymityConfig(
        quasi_identifiers=QI, sensitive="dx", k=k, window_records=size, on_breach=on_breach
    )
    windows = WindowedKAnonymity(config, "app")
    closed, figures, outputs, current = [], [], [], []
    for record in stream:
        out = windows.observe(_payload(*record))
        outputs.append(out)
        current.append(_read_back(out))
        snap = windows.snapshot()
        if snap.windows > len(figures):
            closed.append(current)
            figures.append(snap.last)
            current = []
    return closed, figures, outputs


@SETTINGS
@given(
    stream=st.lists(records, min_size=2, max_size=120),
    size=st.integers(2, 40),
    k=st.integers(2, 6),
    on_breach=st.sampled_from(["alert", "generalize"]),
)
def test_each_window_equals_pycanon_on_its_dump(
    stream: list[tuple[Any, Any, Any, bool]], size: int, k: int, on_breach: str
) -> None:
    k = min(k, size)
    closed, figures, _ = _run(stream, size, k, on_breach)
    assert len(closed) == len(stream) // size
    for window, found in zip(closed, figures, strict=True):
        dump = _dump(window)
        qi = ["age", "zip"]
        assert found.smallest_class == anonymity.k_anonymity(dump, qi)
        assert found.l_diversity == anonymity.l_diversity(dump, qi, ["dx"])
        assert found.classes == dump.groupby(qi).ngroups
        assert found.prosecutor_risk == 1 / found.smallest_class
        sizes = dump.groupby(qi).size()
        assert found.records_below_k == int(sizes[sizes < k].sum())


@SETTINGS
@given(stream=st.lists(records, min_size=4, max_size=80), size=st.integers(4, 20))
def test_generalize_coarsens_later_records_and_never_leaks_a_value(
    stream: list[tuple[Any, Any, Any, bool]], size: int
) -> None:
    k = 3
    _, _, generalized = _run(stream, size, k, "generalize")
    _, _, kept = _run(stream, size, k, "alert")
    assert kept == [_payload(*record) for record in stream]  # alert changes nothing
    step = 0
    for record, out in zip(stream, generalized, strict=True):
        age, zip_code, dx, _ = _read_back(_payload(*record))  # as written: logfmt has text only
        back_age, back_zip, back_dx, _ = _read_back(out)
        assert back_dx == dx  # not a quasi-identifier: never touched
        hideable = [v for v in (age, zip_code) if v not in (None, MISSING, "", "*")]
        if out == _payload(*record):
            assert step == 0 or not hideable, (record, "went out finer than the step reached")
            continue
        # Changed: each quasi-identifier is its value some steps up the ladder, never finer
        # than the step already reached, and never the value itself (unless nothing to hide).
        up = [n for n in range(max(step, 1), 9) if (back_age, back_zip) == tuple(
            v if v is MISSING else coarsen(v, n) for v in (age, zip_code))]  # fmt: skip
        assert up, (record, out)
        step = up[0]
        for before, after in ((age, back_age), (zip_code, back_zip)):
            if before in hideable:
                assert after != before
