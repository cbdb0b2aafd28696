"""What runs once a batch went out, never after an aborted transaction (whose records are read
again): the shadow candidates on its sample (`shadow`), and each output record's entity types
into the private view (`privacy_metrics`, scrubber.privacy.dp_view), so that a record read once
adds at most one to each of its route's series."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import CollectorRegistry

from connectors.kafka.clients import KafkaRecord
from scrubber.pipeline.policies import Policies, RoutePolicy
from scrubber.pipeline.records import Scrubbed, shape
from scrubber.pipeline.shadow import Shadows

Batch = Sequence[tuple[RoutePolicy, Sequence[KafkaRecord], Sequence[Scrubbed]]]


class AfterBatch:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.shadows = Shadows(registry)

    def __call__(self, live: Policies, batch: Batch) -> None:
        self.shadows.run(live, batch)
        if live.private is None:
            return
        quarantine = live.config.quarantine
        for policy, records, scrubbed in batch:
            for record, parts in zip(records, scrubbed, strict=True):
                shaped = shape(policy.route, record, parts, quarantine, "")
                if shaped.reason is None:  # a placeholder holds no entity
                    found = {entity_type for entity_type, _ in shaped.entities}
                    live.private.observe(policy.route.name, found)
