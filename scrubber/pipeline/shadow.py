"""Shadow policies: candidates scrubbing a sample of the live records, their output never emitted.

After a batch went out, each route's shadow candidates (`shadow:`) scrub the batch's sampled
records (`sampled`: a hash of topic, partition and offset below `shadow.sample_rate`, so the same
records on every run and in every replica) exactly as the live policy does (values, keys and
headers: `records.scrub_parts`, `records.shape`), and the metrics say what each would have done:
its replacements by entity type and operator (as `scrubber_entities_total` counts the live
ones), the records it would quarantine and why, and the records whose output (topic, key, value)
would differ from the live one. The cost is the candidates' engine time on the sample
(`scrubber_shadow_seconds_total`): about `sample_rate` x candidates x the live scrub time, or a
third of that for a candidate that borrows the live detector (one that changes only operators,
field rules, the score threshold or skipped types: `policies.Engines`). A candidate
that fails is logged and skipped; the live records are already out and never wait on it.
Private keys logged line by line are not followed across a shadow's sample (no key-block state).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence

from prometheus_client import CollectorRegistry, Counter

from connectors.kafka.clients import KafkaRecord
from scrubber.config.pipeline import QuarantineConfig
from scrubber.log import get_logger
from scrubber.metrics_common import zero_series
from scrubber.models import Reason
from scrubber.pipeline.policies import Policies, RoutePolicy
from scrubber.pipeline.records import Scrubbed, Shaped, scrub_parts, shape

_SCALE = float(1 << 64)

log = get_logger("scrubber.shadow")


def sampled(topic: str, partition: int, offset: int, rate: float) -> bool:
    """Whether the record at (topic, partition, offset) is in the shadow sample."""
    digest = hashlib.blake2b(f"{topic}/{partition}/{offset}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") < rate * _SCALE


class ShadowMetrics:
    """Per route and shadow policy (label `shadow`: the policy's name): records sampled,
    replacements, would-be quarantines, records that would differ, engine seconds."""

    def __init__(self, registry: CollectorRegistry) -> None:
        r, labels = registry, ["route", "shadow"]
        self.records = Counter(
            "scrubber_shadow_records", "Records a shadow policy scrubbed (the sample)", labels,
            registry=r,
        )  # fmt: skip
        self.entities = Counter(
            "scrubber_shadow_entities",
            "Findings a shadow policy would replace, by entity type and operator",
            [*labels, "entity_type", "operator"], registry=r,
        )  # fmt: skip
        self.quarantined = Counter(
            "scrubber_shadow_quarantined", "Sampled records a shadow policy would quarantine",
            [*labels, "reason"], registry=r,
        )  # fmt: skip
        self.differing = Counter(
            "scrubber_shadow_differing_records",
            "Sampled records whose output under a shadow policy would differ from the live one",
            labels, registry=r,
        )  # fmt: skip
        self.seconds = Counter(
            "scrubber_shadow_seconds", "Engine time spent on shadow policies", labels, registry=r
        )

    def zero(self, policies: Policies) -> None:
        """Every fixed series of a set's shadows at zero (at start and when a reload adds one)."""
        pairs = [(p.route.name, name) for p in policies.routes for name, _ in p.shadows]
        for metric in (self.records, self.differing, self.seconds):
            zero_series(metric, pairs)
        reasons = [r.value for r in Reason]
        zero_series(self.quarantined, [(*pair, reason) for pair in pairs for reason in reasons])


Emitted = tuple[tuple[str, bytes | None, bytes | None], ...]


def _emitted(shaped: Shaped, quarantine_topic: str) -> Emitted:
    """What would go out of the pipeline (topic, key, value), not to quarantine."""
    return tuple((o.topic, o.key, o.value) for o in shaped.outputs if o.topic != quarantine_topic)


def evaluate(
    policy: RoutePolicy,
    records: Sequence[KafkaRecord],
    live: Sequence[Scrubbed],
    *,
    quarantine: QuarantineConfig,
    rate: float,
    metrics: ShadowMetrics,
) -> None:
    """Run the route's shadow candidates on the sampled records of one route's batch."""
    if not policy.shadows:
        return
    picked = [i for i, r in enumerate(records) if sampled(*r.where, rate)]
    if not picked:
        return
    route = policy.route
    chosen = [records[i] for i in picked]
    mine = [_emitted(shape(route, records[i], live[i], quarantine, ""), quarantine.topic)
            for i in picked]  # fmt: skip
    for name, engine in policy.shadows:
        started = time.perf_counter()
        try:
            theirs = scrub_parts(chosen, route, engine.scrub_batch)
        except Exception as exc:  # a candidate never holds up or breaks the live pipeline
            log.warning("shadow_failed", route=route.name, shadow=name, error=type(exc).__name__)
            continue
        labels = (route.name, name)
        metrics.seconds.labels(*labels).inc(time.perf_counter() - started)
        metrics.records.labels(*labels).inc(len(chosen))
        for record, scrubbed, emitted in zip(chosen, theirs, mine, strict=True):
            shaped = shape(route, record, scrubbed, quarantine, "")
            if shaped.reason is not None:
                metrics.quarantined.labels(*labels, shaped.reason.value).inc()
            for (entity_type, operator), count in shaped.entities.items():
                metrics.entities.labels(*labels, entity_type, operator).inc(count)
            if _emitted(shaped, quarantine.topic) != emitted:
                metrics.differing.labels(*labels).inc()


class Shadows:
    """The loop's side of it: after each batch, every route's candidates on its sample."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.metrics = ShadowMetrics(registry)
        self._zeroed: Policies | None = None

    def run(
        self,
        policies: Policies,
        batch: Sequence[tuple[RoutePolicy, Sequence[KafkaRecord], Sequence[Scrubbed]]],
    ) -> None:
        if policies is not self._zeroed:  # the first batch of a set: its series at zero
            self.metrics.zero(policies)
            self._zeroed = policies
        quarantine, rate = policies.config.quarantine, policies.shadow_rate
        for policy, records, scrubbed in batch:
            evaluate(
                policy, records, scrubbed, quarantine=quarantine, rate=rate, metrics=self.metrics
            )
