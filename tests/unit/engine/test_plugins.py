"""Python plug-ins: a Presidio `EntityRecognizer` subclass named in config, run on free-text
strings only, under the record deadline, failing its record closed, its cost counted."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from scrubber.config import parse_config
from scrubber.engine import Scrubber
from scrubber.engine.explain import explain
from scrubber.engine.plugins import PluginCost
from scrubber.errors import ConfigError
from scrubber.metrics_common import PluginCostCollector
from scrubber.models import Outcome, Reason

HERE = "tests.unit.engine.plugin_recognizers"


def _config(cls: str = "CodenameRecognizer", **extra: Any) -> dict[str, Any]:
    entry = {"name": "codenames", "entity_type": "CODENAME", "python": f"{HERE}:{cls}", **extra}
    return {
        "detection": {"ner": {"enabled": False}},
        "recognizers": [entry],
        "policy": {"entities": {"CODENAME": {"type": "redact", "placeholder": "[CODENAME]"}}},
    }


@pytest.fixture(scope="module")
def plugged(make_engine: Callable[..., Scrubber]) -> Scrubber:
    return make_engine(_config(python_args={"words": ["nightjar"]}, allow_list=["Nightjar-0"]))


def test_it_finds_in_free_text_and_the_policy_applies(plugged: Scrubber) -> None:
    [result] = plugged.scrub_batch(["We ship Project Nightjar tomorrow"], "text")
    assert result.output == "We ship Project [CODENAME] tomorrow"
    assert result.entity_counts == {"CODENAME": 1}


def test_it_does_not_run_on_strings_that_are_not_free_text(plugged: Scrubber) -> None:
    [result] = plugged.scrub_batch(["job=nightjar rc=0"], "text")
    assert result.output == "job=nightjar rc=0"
    [json_result] = plugged.scrub_batch(['{"job": "nightjar", "message": "about nightjar now"}'])
    assert json_result.output == '{"job": "nightjar", "message": "about [CODENAME] now"}'


def test_its_cost_is_counted_and_exported(plugged: Scrubber) -> None:
    before = plugged.plugins.costs["codenames"].calls
    plugged.scrub_batch(["Another sentence about the Nightjar launch"], "text")
    cost = plugged.plugins.costs["codenames"]
    assert cost.calls == before + 1
    assert cost.seconds > 0
    registry = CollectorRegistry()
    registry.register(PluginCostCollector(lambda: plugged.plugins.costs))
    exported = generate_latest(registry).decode()
    assert 'scrubber_recognizer_plugin_calls_total{recognizer="codenames"}' in exported
    assert "scrubber_recognizer_plugin_seconds_total" in exported


def test_the_collector_sums_several_engines_costs() -> None:
    """`serve` has an engine per lane: one series per plug-in, their sum."""
    first = {"codenames": PluginCost(3, 0.25, 1), "tickets": PluginCost(1, 0.5, 0)}
    second = {"codenames": PluginCost(2, 0.5, 0)}
    registry = CollectorRegistry()
    registry.register(PluginCostCollector(lambda: first, lambda: second))
    value = registry.get_sample_value
    assert value("scrubber_recognizer_plugin_calls_total", {"recognizer": "codenames"}) == 5
    assert value("scrubber_recognizer_plugin_seconds_total", {"recognizer": "codenames"}) == 0.75
    assert value("scrubber_recognizer_plugin_failures_total", {"recognizer": "codenames"}) == 1
    assert value("scrubber_recognizer_plugin_calls_total", {"recognizer": "tickets"}) == 1


def test_explain_names_it(plugged: Scrubber) -> None:
    data = explain(plugged, "We ship Project Nightjar tomorrow").as_dict()
    [finding] = data["findings"]
    assert finding["sources"][0]["kind"] == "python"
    assert finding["sources"][0]["recognizer"] == "codenames"


def test_a_failing_plug_in_fails_its_record_closed(make_engine: Callable[..., Scrubber]) -> None:
    engine = make_engine(_config("BrokenRecognizer"))
    results = engine.scrub_batch(["Say hello to Project Nightjar", "plain=line"], "text")
    assert results[0].outcome == Outcome.QUARANTINED
    assert results[0].reason == Reason.DETECTION_ERROR
    assert "Nightjar" not in results[0].output
    assert results[1].output == "plain=line"
    assert engine.plugins.costs["codenames"].failures == 1


def test_it_runs_under_the_record_deadline(make_engine: Callable[..., Scrubber]) -> None:
    data = _config("SlowRecognizer")
    data["limits"] = {"record_deadline_seconds": 0.01}
    [result] = make_engine(data).scrub_batch(["Project Nightjar ships on Monday"], "text")
    assert result.reason == Reason.DEADLINE_EXCEEDED


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"python": f"{HERE}.CodenameRecognizer"}, "write it `package.module:Class`"),
        ({"python": "no_such_module_here:X"}, "No module named 'no_such_module_here'"),
        ({"python": f"{HERE}:Missing"}, "has no attribute 'Missing'"),
        ({"python": f"{HERE}:NotARecognizer"}, "not a presidio_analyzer.EntityRecognizer"),
        ({"python": f"{HERE}:CodenameRecognizer", "patterns": [{"regex": "x"}]},
         "a `python` recognizer takes no patterns"),
        ({"deny_list": ["x"], "python_args": {"a": 1}}, "python_args without `python`"),
    ],
)  # fmt: skip
def test_what_validation_refuses(entry: dict[str, Any], expected: str) -> None:
    data = {"recognizers": [{"name": "p", "entity_type": "CODENAME", **entry}]}
    with pytest.raises(ConfigError) as caught:
        parse_config(data)
    assert expected in str(caught.value)
