"""Per-route policies, hot reload under traffic and shadow policies, on the real broker.

Every record is counted in and out by its sequence number; each output record's config header
must name exactly one policy and its content must be what that policy produces.
"""

from __future__ import annotations

import copy
import json
import re
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from benchmarks.corpus import canary_value, mixed_corpus
from scrubber.config import parse_config
from scrubber.models import Reason
from scrubber.pipeline.records import CONFIG_HEADER
from tests.integration.conftest import (
    ConfigMap,
    Kafka,
    ScrubberProcess,
    canaries_in,
    header,
    metric_value,
    pipeline_config,
    tally,
)

pytestmark = pytest.mark.integration

Start = Callable[..., ScrubberProcess]
MSG = "login ok"


def _record(seq: int) -> bytes:
    return json.dumps({"seq": seq, "email": canary_value(seq), "msg": MSG}).encode()


def _policy(mail: str, redact_msg: bool = False) -> dict[str, Any]:
    """A policy whose output tells it apart: the e-mail's replacement, and `msg` kept or not."""
    policy: dict[str, Any] = {"entities": {"EMAIL_ADDRESS": {"type": "replace", "new_value": mail}}}
    if redact_msg:
        policy["fields"] = {"msg": {"type": "redact"}}
    return policy


def _expected(seq: int, mail: str, redact_msg: bool) -> dict[str, Any]:
    return {"seq": seq, "email": mail, "msg": "[REDACTED]" if redact_msg else MSG}


NO_NER = {"ner": {"enabled": False}}  # fast and exact: these tests are about the policy


def _wait(what: str, check: Callable[[], bool], scrubber: ScrubberProcess, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not check():
        scrubber.assert_alive()
        assert time.monotonic() < deadline, (
            f"{what}: not within {timeout}s\n{scrubber.logs()[-3000:]}"
        )
        time.sleep(0.2)


class Traffic:
    """Produces records continuously (round-robin over the partitions) until stopped."""

    def __init__(self, kafka: Kafka, topic: str, partitions: int) -> None:
        self.sent = 0
        self._stop = threading.Event()
        self._producer = kafka.producer()
        self._topic, self._partitions = topic, partitions
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            for _ in range(10):
                seq = self.sent
                self._producer.produce(self._topic, _record(seq), partition=seq % self._partitions)
                self.sent += 1
            self._producer.poll(0)
            time.sleep(0.02)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        assert self._producer.flush(60) == 0
        return self.sent


def test_reload_under_traffic_swaps_whole_policies_at_batch_boundaries(
    kafka: Kafka, scrubbers: Start, tmp_path: Path
) -> None:
    source = kafka.topic("reload-in", partitions=2)
    output = kafka.topic("reload-out", partitions=2)
    quarantine = kafka.topic("reload-q")
    group = f"it-group-{source}"
    first = pipeline_config(kafka.bootstrap, group, source, output, quarantine,
                            extra={"policy": _policy("<MAIL-A>"), "detection": NO_NER})  # fmt: skip
    second = {**first, "policy": _policy("<MAIL-B>", redact_msg=True)}
    hash_a, hash_b = parse_config(first).digest(), parse_config(second).digest()
    mount = ConfigMap(tmp_path / "mount", first)
    scrubber = scrubbers(first, workers=2, config_file=mount.path)
    scrubber.wait_ready()
    traffic = Traffic(kafka, source, 2)

    def metric(name: str, **labels: str) -> float:
        """Summed over both workers; NaN (no comparison holds) while one does not answer."""
        text = scrubber.metrics_text()
        if metric_value(text, "scrubber_workers", state="reporting") != 2:
            return float("nan")
        return metric_value(text, name, **labels)

    time.sleep(3)
    mount.update(second)  # the ConfigMap changes, and the operator sends SIGHUP
    scrubber.process.send_signal(signal.SIGHUP)
    _wait("both workers built B", lambda: metric("scrubber_config_reloads_total", outcome="ok") == 2,
          scrubber)  # fmt: skip
    _wait("B in force", lambda: metric("scrubber_build_info", config_hash=hash_b) >= 1, scrubber)
    time.sleep(2)
    mount.update("policy: {entities: {EMAIL: {type: redact}}}\n")  # invalid: kept, gauge up
    _wait("the invalid file refused", lambda: metric("scrubber_config_reload_failed") == 2,
          scrubber)  # fmt: skip
    time.sleep(2)
    restart = copy.deepcopy(second)
    restart["kafka"]["client_id"] = "another-client"
    restart["pipeline"] = {"batch_max_records": 50}
    mount.update(restart)
    scrubber.process.send_signal(signal.SIGHUP)
    _wait(
        "the restart-only change refused",
        lambda: metric("scrubber_config_reloads_total", outcome="restart_needed") >= 2,
        scrubber,
    )
    time.sleep(2)
    mount.update(second)  # back to what is in force: a good reload, the gauge falls
    _wait("the gauge cleared", lambda: metric("scrubber_config_reload_failed") == 0, scrubber)
    unchanged = metric("scrubber_config_reloads_total", outcome="unchanged")
    scrubber.process.send_signal(signal.SIGHUP)  # nothing changed: each worker says so
    _wait("SIGHUP reached both workers",
          lambda: metric("scrubber_config_reloads_total", outcome="unchanged") >= unchanged + 2,
          scrubber)  # fmt: skip
    time.sleep(1)
    sent = traffic.stop()
    kafka.wait_committed(group, source, alive=scrubber.assert_alive)
    metrics = scrubber.metrics_text()
    assert scrubber.terminate() == 0
    logs = scrubber.logs()

    out = kafka.read_all(output)
    seen = tally(out)
    assert seen.missing(range(sent)) == []
    assert seen.duplicates() == {}
    assert len(out) == sent
    by_partition: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    for message in out:
        digest = header(message, CONFIG_HEADER)
        body = json.loads(message.value())
        if digest == hash_a.encode():
            assert body == _expected(body["seq"], "<MAIL-A>", False)
        else:
            assert digest == hash_b.encode(), digest
            assert body == _expected(body["seq"], "<MAIL-B>", True)
        # Keyless output lands on any partition: order by the source (partition seq % 2).
        by_partition[body["seq"] % 2].append((body["seq"], digest))
    for partition, found in by_partition.items():
        hashes = [digest for _, digest in sorted(found)]
        switch = hashes.index(hash_b.encode())
        assert switch > 0, f"partition {partition}: no record under A"
        assert set(hashes[switch:]) == {hash_b.encode()}, f"partition {partition}: went back"
    print(f"\nreload under traffic: {sent} records, A then B on each partition, "
          f"switch at {[[d for _, d in sorted(f)].index(hash_b.encode()) for f in by_partition.values()]}")  # fmt: skip
    # Info series are not summed over the workers (aggregate: max); the start-up hash is gone.
    assert metric_value(metrics, "scrubber_build_info", config_hash=hash_b) == 1
    assert metric_value(metrics, "scrubber_build_info", config_hash=hash_a) == 0
    assert metric_value(metrics, "scrubber_route_config_info", route="it", config_hash=hash_b) == 1
    assert metric_value(metrics, "scrubber_route_config_info", route="it", config_hash=hash_a) == 0
    refusals = [line for line in logs.splitlines() if "config_reload_refused" in line]
    assert any("restart needed" in line and "kafka" in line and "pipeline" in line
               for line in refusals), refusals  # fmt: skip
    assert any("unknown entity type 'EMAIL'" in line for line in refusals), refusals
    assert canaries_in(logs) == [] and canaries_in(metrics) == []


def test_each_route_is_scrubbed_by_its_own_policy_and_carries_its_hash(
    kafka: Kafka, scrubbers: Start
) -> None:
    inputs = [kafka.topic("route-a-in"), kafka.topic("route-b-in")]
    outputs = [kafka.topic("route-a-out"), kafka.topic("route-b-out")]
    quarantine = kafka.topic("route-q")
    config = pipeline_config(kafka.bootstrap, f"it-group-{inputs[0]}", inputs[0], outputs[0],
                             quarantine, extra={"policy": _policy("<MAIL-BASE>"),
                                                "detection": NO_NER})  # fmt: skip
    config["routes"] = [
        {"name": "plain", "input": inputs[0], "output": outputs[0]},
        {"name": "strict", "input": inputs[1], "output": outputs[1], "policy": "tight"},
    ]
    config["policies"] = {"tight": {"policy": _policy("<MAIL-TIGHT>", redact_msg=True)}}
    parsed = parse_config(config)
    hashes = [parsed.effective(None).digest(), parsed.effective("tight").digest()]
    assert hashes[0] != hashes[1]
    count = 300
    for topic in inputs:
        kafka.produce(topic, [_record(seq) for seq in range(count)])
    scrubber = scrubbers(config)
    scrubber.wait_ready()
    for topic in inputs:
        kafka.wait_committed(config["kafka"]["group_id"], topic, alive=scrubber.assert_alive)
    metrics = scrubber.metrics_text()
    assert scrubber.terminate() == 0

    expected = [("<MAIL-BASE>", False), ("<MAIL-TIGHT>", True)]
    for topic, digest, (mail, redact_msg) in zip(outputs, hashes, expected, strict=True):
        out = kafka.read_all(topic)
        assert tally(out).missing(range(count)) == [] and len(out) == count
        assert {header(m, CONFIG_HEADER) for m in out} == {digest.encode()}
        for message in out:
            body = json.loads(message.value())
            assert body == _expected(body["seq"], mail, redact_msg)
    for route, digest in zip(("plain", "strict"), hashes, strict=True):
        assert metric_value(metrics, "scrubber_route_config_info", route=route,
                            config_hash=digest) == 1  # fmt: skip
    assert metric_value(metrics, "scrubber_build_info", config_hash=parsed.digest()) == 1


# ---------------------------------------------------------------- shadow

CANDIDATE = {
    "policy": {"entities": {"PERSON": {"type": "redact"}, "PHONE_NUMBER": {"type": "mask"}}},
    "detection": {"skip_entities": [], "score_threshold": 0.6},
    "limits": {"max_json_depth": 2},  # the nested inference requests would be quarantined
}
# Detection differs only in the filters: the candidate borrows the live engine's detector.
FILTERS_ONLY = {
    "policy": {"entities": {"PERSON": {"type": "redact"}}},
    "detection": {"skip_entities": [], "score_threshold": 0.3},
}


def _entities(metrics: str, name: str, **labels: str) -> Counter[tuple[str, str]]:
    """{(entity_type, operator): count} of a counter family, samples filtered by `labels`."""
    found: Counter[tuple[str, str]] = Counter()
    pattern = re.compile(rf"^{name}\{{(.*)\}} (\S+)$")
    for line in metrics.splitlines():
        if match := pattern.match(line):
            pairs = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
            if all(pairs.get(k) == v for k, v in labels.items()) and float(match.group(2)):
                found[(pairs["entity_type"], pairs["operator"])] += int(float(match.group(2)))
    return found


@pytest.mark.parametrize("policy", [CANDIDATE, FILTERS_ONLY], ids=["own-detector", "borrowed"])
def test_shadow_metrics_equal_the_candidate_run_live_on_the_same_records(
    kafka: Kafka, scrubbers: Start, policy: dict[str, Any]
) -> None:
    count = 1500
    source = kafka.topic("shadow-in")
    kafka.produce(source, [text.encode() for text in mixed_corpus(count, seed=515)])
    runs: list[tuple[str, list[Any], dict[str, Any]]] = []
    for name, route_extra, extra in (
        ("shadowed", {}, {"shadow": {"policies": ["candidate"], "sample_rate": 1.0}}),
        ("candidate-live", {"policy": "candidate"}, {}),
    ):
        output, quarantine = kafka.topic(f"{name}-out"), kafka.topic(f"{name}-q")
        config = pipeline_config(kafka.bootstrap, f"it-group-{output}", source, output,
                                 quarantine, extra={"policies": {"candidate": policy}, **extra})  # fmt: skip
        config["routes"][0].update(route_extra)
        scrubber = scrubbers(config, name=name)
        scrubber.wait_ready()
        kafka.wait_committed(config["kafka"]["group_id"], source, alive=scrubber.assert_alive)
        runs.append((scrubber.metrics_text(), kafka.read_all(output), config))
        assert scrubber.terminate() == 0
    (shadowed, live_out, config), (candidate, candidate_out, _) = runs
    labels = {"route": "it", "shadow": "candidate"}

    assert metric_value(shadowed, "scrubber_shadow_records_total", **labels) == count
    would = _entities(shadowed, "scrubber_shadow_entities_total", **labels)
    did = _entities(candidate, "scrubber_entities_total", route="it")
    assert would == did and sum(did.values()) > count
    for reason in Reason:
        assert metric_value(shadowed, "scrubber_shadow_quarantined_total", reason=reason.value,
                            **labels) == metric_value(candidate, "scrubber_records_quarantined_total",
                                                      route="it", reason=reason.value), reason  # fmt: skip
    if "limits" in policy:  # the quarantines are compared too
        assert metric_value(candidate, "scrubber_records_quarantined_total", route="it") > 0
    assert len(live_out) == len(candidate_out) == count  # one partition: output order = input
    differ = sum(a.value() != b.value() for a, b in zip(live_out, candidate_out, strict=True))
    assert 0 < differ < count
    assert metric_value(shadowed, "scrubber_shadow_differing_records_total", **labels) == differ
    # The candidate's output never went out: the shadowed run's output is the base policy's.
    base = parse_config(config).effective(None).digest()
    assert {header(m, CONFIG_HEADER) for m in live_out} == {base.encode()}
    print(
        f"\nshadow: {sum(did.values())} replacements, {differ} records differ, "
        f"{metric_value(candidate, 'scrubber_records_quarantined_total', route='it'):.0f} "
        "quarantined, equal to the candidate run live"
    )
