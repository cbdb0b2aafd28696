"""Config sections of `scrubber run`: the Kafka connection, routes, quarantine and batching.

Part of the one YAML file (`Config.kafka`, `.routes`, `.quarantine`, `.pipeline`). Secrets for
the broker (SASL passwords) come from the environment, named here, never written here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from scrubber.config.kanon import KAnonymityConfig
from scrubber.config.policies import NAME_PATTERN
from scrubber.models import Strict

# librdkafka settings that would break the delivery guarantee; refused at start-up.
UNSAFE_SETTINGS = {
    "enable.auto.offset.store": "offsets are stored by Scrubber only after delivery",
    "enable.auto.commit": "Scrubber commits only what was delivered",
    "acks": "anything but acks=all can lose records the scrubber already committed",
    "request.required.acks": "anything but all can lose records",
    "enable.idempotence": "the producer must be idempotent",
    "isolation.level": "set by Scrubber (read_committed with exactly_once)",
    "transactional.id": "derived by Scrubber when exactly_once is on",
    "group.instance.id": "derived by Scrubber from kafka.instance_id and the worker index",
}
# librdkafka's partitioners. Scrubber's default is murmur2_random: a keyed record lands on the
# partition the Java clients would choose (murmur2 of the key), a record without a key anywhere.
PARTITIONERS = frozenset(
    {"random", "consistent", "consistent_random", "murmur2", "murmur2_random", "fnv1a",
     "fnv1a_random"}
)  # fmt: skip


class KafkaConfig(Strict):
    bootstrap_servers: str = "127.0.0.1:9092"
    group_id: str = "scrubber"
    client_id: str = "scrubber"
    # Any other librdkafka setting (security.protocol, sasl.mechanism, session.timeout.ms,
    # linger.ms, ...), except the unsafe. `partitioner` (output records) must name one of
    # librdkafka's: murmur2_random (the Java clients' choice) unless set.
    settings: dict[str, str | int | float | bool] = {}
    # Environment variable holding sasl.password, if SASL is used.
    sasl_password_env: str | None = None
    # Names this process among the replicas of one group: part of its transactional ids and of
    # its consumers' group.instance.id (static membership), which must differ between live
    # processes (a shared id fences the other producer or consumer) and stay the same across
    # restarts (the restarted process then takes its partitions back at once, and aborts its
    # predecessor's transaction). Unset: $SCRUBBER_INSTANCE_ID, else the host name (the pod
    # name in Kubernetes): two processes on one host need an id each.
    instance_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

    @field_validator("settings")
    @classmethod
    def _refuse_unsafe(
        cls, value: dict[str, str | int | float | bool]
    ) -> dict[str, str | int | float | bool]:
        for key, setting in value.items():
            if key in UNSAFE_SETTINGS:
                raise ValueError(f"{key!r} cannot be set: {UNSAFE_SETTINGS[key]}")
            if key == "sasl.password":
                raise ValueError("put the SASL password in an env var named by sasl_password_env")
            if key == "partitioner" and setting not in PARTITIONERS:
                raise ValueError(
                    f"partitioner {setting!r} is not one of librdkafka's: "
                    + ", ".join(sorted(PARTITIONERS))
                )
        return value


class RouteConfig(Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")  # a metric label value
    input: str | tuple[str, ...]
    output: str
    format: Literal["auto", "text", "json"] = "auto"
    # Scrub record keys too (as text); a keyed token keeps partitioning stable.
    scrub_keys: bool = True
    # Header values scrubbed as text; header names are kept.
    scrub_headers: bool = True
    # A name under `policies:` merged over the base config for this route (config/policies.py);
    # its output carries that effective config's hash.
    policy: str | None = Field(default=None, pattern=NAME_PATTERN)
    # Candidate policies tried on a sample of this route's records (None: `shadow.policies`).
    shadow: tuple[str, ...] | None = None
    # k-anonymity of this route's scrubbed output over tumbling windows (docs/kanon.md).
    kanon: KAnonymityConfig | None = None

    @property
    def topics(self) -> tuple[str, ...]:
        return (self.input,) if isinstance(self.input, str) else self.input


class QuarantineConfig(Strict):
    topic: str = "scrubber.quarantine"
    # The raw payload goes to quarantine only if explicitly allowed; by default only metadata.
    include_payload: bool = False
    # Also send a placeholder record (reason only) to the route's output topic.
    placeholder_to_output: bool = True


class PipelineConfig(Strict):
    batch_max_records: int = Field(500, ge=1, le=100_000)
    batch_max_bytes: int = Field(8 << 20, ge=1024)
    # The longest a poll waits for the first record of a batch. A batch is handed on as soon as
    # nothing more is ready (or batch_max_records / batch_max_bytes is reached): at low load
    # batches are small and fast, at full load they fill up.
    batch_max_wait_ms: int = Field(100, ge=1, le=60_000)
    # How long after its first record a batch keeps taking records that arrive (0: only those
    # already fetched). Larger batches cost less CPU per record (batches.py).
    batch_linger_ms: int = Field(0, ge=0, le=1_000)
    # At-least-once: a batch is scrubbed and produced in parts of about this many milliseconds
    # of engine time, so its first records go out while the rest is scrubbed (0: whole batches).
    scrub_budget_ms: int = Field(50, ge=0, le=60_000)
    exactly_once: bool = False
    # SIGTERM: in-flight work must finish (flush, commit) within this many seconds.
    shutdown_grace_seconds: float = Field(30.0, gt=0)
    # How long a delivery may keep retrying (a broker outage is waited out, not fatal).
    delivery_timeout_ms: int = Field(600_000, ge=10_000)
