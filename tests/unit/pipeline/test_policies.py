"""Per-route policies, reload and shadow policies without a broker: config merging and
validation, the engine set, the reloader on a ConfigMap-like symlink swap, the shadow sample."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest

from connectors.kafka.clients import KafkaRecord
from scrubber.config import Config, parse_config
from scrubber.errors import ConfigError
from scrubber.models import Format, Outcome, Reason, RecordResult, Replacement
from scrubber.pipeline.metrics import PipelineMetrics
from scrubber.pipeline.policies import BatchScrubber, build
from scrubber.pipeline.records import Scrubbed
from scrubber.pipeline.reload import Reloader, restart_needed
from scrubber.pipeline.shadow import ShadowMetrics, evaluate, sampled
from tests.integration.conftest import ConfigMap, metric_value

ROUTES = [
    {"name": "a", "input": "in-a", "output": "out-a"},
    {"name": "b", "input": "in-b", "output": "out-b", "policy": "strict"},
]
POLICIES = {
    "strict": {
        "policy": {"entities": {"EMAIL_ADDRESS": {"type": "redact"}}},
        "detection": {"score_threshold": 0.3, "ner": {"min_score": 0.7}},
    }
}


def _data(**extra: Any) -> dict[str, Any]:
    return {
        "policy": {"entities": {"EMAIL_ADDRESS": {"type": "mask", "keep_last": 4}}},
        "detection": {"ner": {"batch_size": 32}},
        "routes": ROUTES,
        "policies": POLICIES,
        **extra,
    }


# ---------------------------------------------------------------- config


def test_a_named_policy_is_merged_over_the_base_key_by_key() -> None:
    config = parse_config(_data())
    strict = config.effective("strict")
    assert strict.policy.entities["EMAIL_ADDRESS"].type == "redact"  # an operator: replaced whole
    assert strict.detection.score_threshold == 0.3
    assert strict.detection.ner.min_score == 0.7
    assert strict.detection.ner.batch_size == 32  # the base's, kept under the merged mapping
    assert config.effective(None).policy.entities["EMAIL_ADDRESS"].type == "mask"
    assert len({config.digest(), strict.digest(), config.effective(None).digest()}) == 3


def test_without_policies_the_effective_hash_is_the_files_and_unchanged_by_the_new_keys() -> None:
    plain = {"routes": [ROUTES[0]], "policy": {"default": {"type": "redact"}}}
    config = parse_config(plain)
    assert config.effective(None).digest() == config.digest()
    explicit = {**plain, "shadow": {"policies": [], "sample_rate": 0.1}}
    explicit["routes"] = [{**ROUTES[0], "policy": None, "shadow": None}]
    assert parse_config(explicit).digest() == config.digest()


def test_a_policys_recognizers_are_added_to_the_bases() -> None:
    def recognizer(name: str, entity: str) -> dict[str, Any]:
        pattern = {"name": "p", "regex": rf"\b{name.upper()}-\d{{6}}\b", "score": 0.9}
        return {"name": name, "entity_type": entity, "patterns": [pattern]}

    data = _data(recognizers=[recognizer("badge", "BADGE_ID")])
    data["policies"] = {"strict": {"recognizers": [recognizer("ticket", "TICKET_ID")]}}
    names = [r.name for r in parse_config(data).effective("strict").recognizers]
    assert names == ["badge", "ticket"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"routes": [{**ROUTES[1], "policy": "strickt"}]},
            "routes.0.policy: unknown policy 'strickt' (did you mean 'strict'?)",
        ),
        (
            {"shadow": {"policies": ["strict", "lax"]}},
            "shadow.policies: unknown policy 'lax'",
        ),
        (
            {"policies": {**POLICIES, "spare": {}}},
            "policies.spare: used by no route and no shadow",
        ),
        (
            {"policies": {"strict": {"policy": {"entities": {"EMAIL": {"type": "redact"}}}}}},
            "policies.strict: policy.entities: unknown entity type 'EMAIL' (did you mean "
            "'EMAIL_ADDRESS'?)",
        ),
        (
            {"policies": {"strict": {"detection": {"score_treshold": 0.3}}}},
            "policies.strict.detection.score_treshold: Extra inputs are not permitted",
        ),
        (
            {"policies": {"strict": {"policy": {"fields": {"user\\..*": {"type": "redact"}}}}}},
            "policies.strict.policy.fields: 'user\\..*' looks like a regular expression",
        ),
        ({"policies": {"strict": {"vault": {}}}}, "policies.strict.vault: Extra inputs"),
        ({"policies": {"Strict!": {}}}, "'Strict!' is not a policy name"),
    ],
)
def test_validation_refuses_policies_that_name_nothing_or_would_scrub_less(
    change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(_data(**change))
    assert message in str(caught.value)


# ---------------------------------------------------------------- the engine set


class FakeEngine:
    """Replaces the word `secret` by `<S:{tag}>`; quarantines records containing `poison` when
    `strict`."""

    def __init__(self, config: Config, shadow: bool) -> None:
        self.config_hash = config.digest()
        self.shadow = shadow
        self.tag = config.policy.default.type
        self.strict = config.detection.score_threshold < 0.4

    def scrub_batch(
        self, records: Sequence[bytes | str], fmt: Format = "auto", **_: Any
    ) -> list[RecordResult]:
        out = []
        for raw in records:
            text = raw.decode() if isinstance(raw, bytes) else raw
            if self.strict and "poison" in text:
                out.append(RecordResult("[Q]", Outcome.QUARANTINED, Reason.DETECTION_ERROR))
                continue
            found = [i for i in range(len(text)) if text.startswith("secret", i)]
            reps = [Replacement("", i, i + 6, "SECRET", self.tag) for i in found]
            result = RecordResult(text.replace("secret", f"<S:{self.tag}>"), Outcome.OK)
            result.replacements = reps
            out.append(result)
        return out


class Maker:
    def __init__(self) -> None:
        self.built: list[tuple[str, bool]] = []
        self.lending: list[bool] = []

    def __call__(self, config: Config, shadow: bool, *, lends: bool = False) -> BatchScrubber:
        self.built.append((config.digest(), shadow))
        self.lending.append(lends)
        return FakeEngine(config, shadow)


def test_one_engine_per_distinct_effective_policy_and_shadows_apart() -> None:
    routes = [*ROUTES, {"name": "c", "input": "in-c", "output": "out-c", "policy": "strict"}]
    config = parse_config(_data(routes=routes, shadow={"policies": ["strict"]}))
    make = Maker()
    policies = build(config, make)
    a, b, c = (policies.by_topic[t] for t in ("in-a", "in-b", "in-c"))
    assert b.engine is c.engine and a.engine is not b.engine
    assert a.config_hash == config.effective(None).digest()
    assert b.config_hash == config.effective("strict").digest()
    assert sorted(make.built) == sorted(
        [(a.config_hash, False), (b.config_hash, False), (b.config_hash, True)]
    )
    assert a.shadows[0][1] is b.shadows[0][1] and a.shadows[0][1] is not b.engine
    # A route's live engine comes before its candidates, built to lend them its detector.
    assert make.built == [(a.config_hash, False), (b.config_hash, True), (b.config_hash, False)]
    assert make.lending == [True, False, True]
    again = build(config, make, previous=policies)  # a reload that changes nothing builds nothing
    assert len(make.built) == 3 and again.by_topic["in-a"].engine is a.engine


def test_restart_only_sections_are_named() -> None:
    config = parse_config(_data())
    assert restart_needed(config, parse_config(_data(detection={"score_threshold": 0.9}))) == []
    kafka = parse_config(_data(kafka={"group_id": "other"}, keys={}))
    assert restart_needed(config, kafka) == ["kafka"]
    moved = parse_config(_data(routes=[ROUTES[0], {**ROUTES[1], "output": "elsewhere"}]))
    assert restart_needed(config, moved) == ["routes (names, inputs, outputs)"]
    formats = parse_config(_data(routes=[ROUTES[0], {**ROUTES[1], "format": "json"}]))
    assert restart_needed(config, formats) == []


# ---------------------------------------------------------------- reload


def _reloader(tmp_path: Path, **kw: Any) -> tuple[ConfigMap, Reloader, PipelineMetrics, Maker]:
    mount = ConfigMap(tmp_path, _data())
    config = parse_config(_data())
    metrics = PipelineMetrics(config.digest(), "test", ["a", "b"])
    make = Maker()
    reloader = Reloader(mount.path, build(config, make), make, metrics, **kw)
    return mount, reloader, metrics, make


def _value(metrics: PipelineMetrics, name: str, **labels: str) -> float:
    return metric_value(generate_latest(metrics.registry).decode(), name, **labels)


def test_a_reload_takes_over_whole_at_the_next_batch_and_the_hashes_follow(tmp_path: Path) -> None:
    mount, reloader, metrics, make = _reloader(tmp_path)
    before = reloader.current()
    new = _data(policies={"strict": {"policy": {"default": {"type": "redact"}}}})
    mount.update(new)
    assert reloader.reload("sighup") == "ok"
    assert reloader.in_force is before  # built, not yet in force: no batch started
    assert _value(metrics, "scrubber_build_info", config_hash=before.config.digest()) == 1
    after = reloader.current()
    expected = parse_config(new)
    assert after.config.digest() == expected.digest()
    assert after.by_topic["in-b"].config_hash == expected.effective("strict").digest()
    assert after.by_topic["in-a"].engine is before.by_topic["in-a"].engine  # unchanged: reused
    assert len(make.built) == 3  # two at start, route b's new one
    assert _value(metrics, "scrubber_build_info", config_hash=expected.digest()) == 1
    assert _value(metrics, "scrubber_build_info", config_hash=before.config.digest()) == 0
    b_hash = expected.effective("strict").digest()
    assert _value(metrics, "scrubber_route_config_info", route="b", config_hash=b_hash) == 1
    assert _value(metrics, "scrubber_config_reloads_total", outcome="ok") == 1
    assert reloader.current() is after


@pytest.mark.parametrize(
    ("content", "outcome", "logged"),
    [
        ("policy: {entities: {EMAIL: {type: redact}}}\nroutes: []\n", "invalid", "EMAIL"),
        ("policy: [unclosed\n", "invalid", "not valid YAML"),
        (yaml.safe_dump(_data(kafka={"bootstrap_servers": "10.0.0.1:9092"})), "restart_needed",
         "restart needed"),
    ],
)  # fmt: skip
def test_a_refused_reload_keeps_the_old_policy_and_raises_the_gauge_until_a_good_one(
    tmp_path: Path, content: str, outcome: str, logged: str, capsys: pytest.CaptureFixture[str]
) -> None:
    mount, reloader, metrics, _ = _reloader(tmp_path)
    before = reloader.current()
    mount.update(content)
    assert reloader.reload("sighup") == outcome
    assert reloader.current() is before
    assert _value(metrics, "scrubber_config_reload_failed") == 1
    assert _value(metrics, "scrubber_config_reloads_total", outcome=outcome) == 1
    assert logged in capsys.readouterr().out
    mount.update(_data(detection={"score_threshold": 0.5}))
    assert reloader.reload("sighup") == "ok"
    assert _value(metrics, "scrubber_config_reload_failed") == 0
    assert reloader.current() is not before


def test_the_watcher_sees_a_configmap_symlink_swap(tmp_path: Path) -> None:
    mount, reloader, metrics, _ = _reloader(tmp_path, watch_seconds=0.2)
    before = reloader.current()
    reloader.start()
    try:
        time.sleep(0.5)
        assert reloader.current() is before  # nothing changed: nothing reloaded
        mount.update(_data(detection={"score_threshold": 0.6}))
        deadline = time.monotonic() + 10
        while reloader.current() is before:
            assert time.monotonic() < deadline, "the swap was not seen"
            time.sleep(0.05)
        assert reloader.in_force.config.detection.score_threshold == 0.6
        reloader.request()  # SIGHUP with nothing changed
        time.sleep(0.6)
        assert _value(metrics, "scrubber_config_reloads_total", outcome="unchanged") == 1
    finally:
        reloader.stop()


# ---------------------------------------------------------------- shadow


def test_the_sample_is_deterministic_and_near_its_rate() -> None:
    picks = [sampled("logs", p, o, 0.1) for p in range(3) for o in range(10_000)]
    assert picks == [sampled("logs", p, o, 0.1) for p in range(3) for o in range(10_000)]
    assert 0.09 < sum(picks) / len(picks) < 0.11
    assert all(sampled("logs", 0, o, 1.0) for o in range(1000))


def test_shadow_metrics_count_what_the_candidate_would_do(tmp_path: Path) -> None:
    data = _data(shadow={"policies": ["strict"], "sample_rate": 1.0})
    data["policies"] = {"strict": {"policy": {"default": {"type": "redact"}},
                                   "detection": {"score_threshold": 0.3}}}  # fmt: skip
    config = parse_config(data)
    policies = build(config, Maker())
    route = policies.by_topic["in-a"]
    values = [b"a secret and a secret", b"nothing here", b"poison secret", b"one secret"]
    records = [KafkaRecord("in-a", 0, i, None, v, (), 0) for i, v in enumerate(values)]
    live = [Scrubbed(r, None, ()) for r in route.engine.scrub_batch(values)]
    pipeline_metrics = PipelineMetrics("h", "test")
    metrics = ShadowMetrics(pipeline_metrics.registry)
    evaluate(route, records, live, quarantine=config.quarantine, rate=1.0, metrics=metrics)

    def value(name: str, **labels: str) -> float:
        return _value(pipeline_metrics, name, route="a", shadow="strict", **labels)

    assert value("scrubber_shadow_records_total") == 4
    assert value("scrubber_shadow_entities_total", entity_type="SECRET", operator="redact") == 3
    assert value("scrubber_shadow_quarantined_total", reason="detection_error") == 1
    assert value("scrubber_shadow_differing_records_total") == 3  # all but "nothing here"


# ---------------------------------------------------------------- k-anonymity and private view

KANON = {"quasi_identifiers": ["age", "zip"], "k": 3, "window_records": 4,
         "on_breach": "generalize"}  # fmt: skip


def _kanon_policies(**route: Any) -> tuple[Config, Any]:
    data = _data(routes=[{**ROUTES[0], "kanon": {**KANON, **route}}, ROUTES[1]])
    config = parse_config(data)
    return config, build(config, Maker())


def test_kanon_sees_each_output_value_of_its_route_and_may_hand_back_a_coarser_one() -> None:
    config, policies = _kanon_policies()
    route = policies.by_topic["in-a"]
    assert route.kanon is not None and policies.by_topic["in-b"].kanon is None
    values = [json.dumps({"age": 30 + i, "zip": f"9410{i}"}).encode() for i in range(8)]
    records = [KafkaRecord("in-a", 0, i, None, v, (), 0) for i, v in enumerate(values)]
    scrubbed = [Scrubbed(r, None, ()) for r in route.engine.scrub_batch(values)]
    shaped = route.shape(records, scrubbed, config.quarantine)
    assert route.kanon.snapshot().windows == 2  # 8 records, windows of 4: all counted
    first, later = shaped[0].outputs[0].value, shaped[-1].outputs[-1].value
    assert first == values[0]  # before the half-way check: as scrubbed
    assert later != values[-1] and route.kanon.step >= 1  # every class of one: coarser
    assert json.loads(later or b"{}").keys() == {"age", "zip"}


def test_a_reload_keeps_a_routes_windows_unless_its_kanon_changed() -> None:
    _, policies = _kanon_policies()
    same = build(parse_config(_data(routes=[{**ROUTES[0], "kanon": KANON}, ROUTES[1]],
                                    detection={"score_threshold": 0.5})), Maker(), policies)  # fmt: skip
    assert same.by_topic["in-a"].kanon is policies.by_topic["in-a"].kanon
    _, other = _kanon_policies(k=4)
    changed = build(other.config, Maker(), policies)
    assert changed.by_topic["in-a"].kanon is not policies.by_topic["in-a"].kanon


def test_the_private_view_counts_each_output_records_types_once_after_the_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scrubber.pipeline.observe import AfterBatch
    from scrubber.pipeline.privacy import private_counts

    config = parse_config(_data(privacy_metrics={"enabled": True, "suppress_below": 1}))
    private = private_counts(config)
    assert private is not None and ("a", "SECRET") in private.series
    observed: list[tuple[str, set[str]]] = []
    monkeypatch.setattr(private, "observe", lambda r, types: observed.append((r, set(types))))
    policies = build(config, Maker(), private=private)
    route = policies.by_topic["in-a"]
    values = [b"secret secret", b"none", b"one secret"]
    records = [KafkaRecord("in-a", 0, i, None, v, (), 0) for i, v in enumerate(values)]
    scrubbed = [Scrubbed(r, None, ()) for r in route.engine.scrub_batch(values)]
    AfterBatch(PipelineMetrics("h", "test").registry)(policies, [(route, records, scrubbed)])
    assert observed == [("a", {"SECRET"}), ("a", set()), ("a", {"SECRET"})]
    assert build(config, Maker(), policies).private is private  # a reload keeps the one view
