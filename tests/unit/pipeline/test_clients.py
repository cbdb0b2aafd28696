"""The Kafka clients' settings without a broker: Java-compatible partitioning by default (and
only librdkafka's partitioners), static membership from the instance id, tuning the user may
override, guarantees nobody may, librdkafka's logs through structlog, broker reachability."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from confluent_kafka import Producer
from structlog.testing import capture_logs

from connectors.kafka import clients
from connectors.kafka.clients import broker_reachable, kafka_logger, make_producer
from connectors.kafka.transactions import transactional_id_for
from scrubber.config import parse_config
from scrubber.errors import ConfigError


def _config(**kafka: Any) -> Any:
    return parse_config({"kafka": kafka})


def _settings(monkeypatch: pytest.MonkeyPatch, make: str, **kafka: Any) -> dict[str, Any]:
    """What the client constructor was given."""
    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, settings: dict[str, Any]) -> None:
            seen.update(settings)

        def subscribe(self, *_args: Any, **_kw: Any) -> None:
            pass

    monkeypatch.setattr(clients, "Producer", Recorder)
    monkeypatch.setattr(clients, "Consumer", Recorder)
    config = _config(**kafka)
    if make == "producer":
        clients.make_producer(config.kafka, config.pipeline, None)
    else:
        hooks = dict.fromkeys(("on_assign", "on_revoke", "on_lost", "on_commit"), print)
        clients.make_consumer(
            config.kafka, config.pipeline, worker=3, on_stats=print, topics=["in"], **hooks
        )
    return seen


def test_producer_partitions_like_java_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = _settings(monkeypatch, "producer")
    assert settings["partitioner"] == "murmur2_random"
    assert (settings["acks"], settings["enable.idempotence"]) == ("all", True)
    chosen = _settings(monkeypatch, "producer", settings={"partitioner": "fnv1a", "linger.ms": 50})
    assert (chosen["partitioner"], chosen["linger.ms"]) == ("fnv1a", 50)


def test_an_unknown_partitioner_is_refused_with_the_choices() -> None:
    with pytest.raises(ConfigError, match="murmur2_random"):
        _config(settings={"partitioner": "java"})


@pytest.mark.parametrize("name", ["group.instance.id", "transactional.id", "acks"])
def test_settings_scrubber_derives_or_needs_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match=name):
        _config(settings={name: "x"})


def test_consumers_are_static_members_named_by_instance_and_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SCRUBBER_INSTANCE_ID", "pod-7")
    settings = _settings(
        monkeypatch, "consumer", group_id="g", settings={"session.timeout.ms": 45000}
    )
    assert settings["group.instance.id"] == "pod-7-3"
    assert settings["session.timeout.ms"] == 45000  # tuning stays the user's
    assert settings["enable.auto.commit"] is False
    assert settings["logger"] is kafka_logger()
    # The same source as the transactional id; the config's instance_id wins over the env.
    assert transactional_id_for(_config(group_id="g").kafka, 3) == "g-pod-7-3"
    named = _settings(monkeypatch, "consumer", instance_id="a-1")
    assert named["group.instance.id"] == "a-1-3"


def test_librdkafka_log_lines_become_structlog_events() -> None:
    config = _config(bootstrap_servers="127.0.0.1:1")  # nothing listens: it logs a failure
    with capture_logs() as events:
        producer: Producer = make_producer(config.kafka, config.pipeline, None)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not events:
            producer.poll(0.2)
    assert events, "librdkafka logged nothing within 10 s"
    event = events[0]
    assert event["event"] == "librdkafka_log"
    assert {"facility", "client", "detail"} <= set(event)
    assert "127.0.0.1:1" in event["detail"]


def test_broker_reachable_from_statistics() -> None:
    def stats(*states: tuple[str, str]) -> str:
        brokers = {f"b{i}": {"state": s, "source": src} for i, (s, src) in enumerate(states)}
        return json.dumps({"brokers": brokers})

    assert broker_reachable(stats(("UP", "learned"), ("UP", "logical"))) is True
    assert broker_reachable(stats(("DOWN", "learned"), ("UP", "logical"))) is False
    assert broker_reachable(stats(("CONNECT", "configured"))) is False
    assert broker_reachable("not json") is False
