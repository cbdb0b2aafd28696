"""Config sections of `scrubber run`: the Kafka connection, routes, quarantine and batching.

Part of the one YAML file (`Config.kafka`, `.routes`, `.quarantine`, `.pipeline`). Secrets for
the broker (SASL passwords) come from the environment, named here, never written here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

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
}


class KafkaConfig(Strict):
    bootstrap_servers: str = "127.0.0.1:9092"
    group_id: str = "scrubber"
    client_id: str = "scrubber"
    # Any other librdkafka setting (security.protocol, sasl.mechanism, ...), except the unsafe.
    settings: dict[str, str | int | float | bool] = {}
    # Environment variable holding sasl.password, if SASL is used.
    sasl_password_env: str | None = None
    # Names this process among the replicas of one group: part of its transactional ids, which
    # must differ between live processes (a shared id fences the other producer) and stay the
    # same across restarts (the restarted process then aborts its predecessor's transaction).
    # Unset: $SCRUBBER_INSTANCE_ID, else the host name (the pod name in Kubernetes).
    instance_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")

    @field_validator("settings")
    @classmethod
    def _refuse_unsafe(
        cls, value: dict[str, str | int | float | bool]
    ) -> dict[str, str | int | float | bool]:
        for key in value:
            if key in UNSAFE_SETTINGS:
                raise ValueError(f"{key!r} cannot be set: {UNSAFE_SETTINGS[key]}")
            if key == "sasl.password":
                raise ValueError("put the SASL password in an env var named by sasl_password_env")
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
    batch_max_wait_ms: int = Field(100, ge=1, le=60_000)
    exactly_once: bool = False
    # SIGTERM: in-flight work must finish (flush, commit) within this many seconds.
    shutdown_grace_seconds: float = Field(30.0, gt=0)
    # How long a delivery may keep retrying (a broker outage is waited out, not fatal).
    delivery_timeout_ms: int = Field(600_000, ge=10_000)
