"""Config section `privacy_metrics:`: the differentially private view of the per-entity counters.

See docs/privacy-metrics.md. Off by default; when on, `scrubber run` serves it on its own port
(not a path beside the operators' /metrics), so a NetworkPolicy can open that port alone to
tenants and dashboards while the raw counters stay reachable only from the operators' side.
"""

from __future__ import annotations

import math

from pydantic import Field, model_validator

from scrubber.config.base import Strict

# Above this a release protects next to nothing: e^10 is a likelihood ratio of 22026.
MAX_EPSILON_PER_RELEASE = 10.0


class PrivateMetricsConfig(Strict):
    """A noisy count per (route, entity type) and tumbling window, released once per window."""

    enabled: bool = False
    # Its own port: the operators' /metrics is on `scrubber run --metrics-port` (9400).
    port: int = Field(9401, ge=1, le=65535)
    # The privacy loss of one window's release of one series, for a record that is in it or
    # not (the Laplace scale is 1 / epsilon: each record adds at most 1 to each series).
    epsilon_per_release: float = Field(0.5, gt=0, le=MAX_EPSILON_PER_RELEASE)
    # The tumbling window: one release per window, of the records observed in it.
    window_seconds: float = Field(60.0, ge=1, le=86_400)
    # Series whose noisy count is below this are left out of the release (not published as 0).
    suppress_below: int = Field(10, ge=1)
    # The most epsilon one series may spend in a budget horizon; when the next release would
    # pass it the series is no longer published (scrubber_dp_budget_exhausted says so) until
    # the horizon ends. Unset: no cap (spent still grows and is exported).
    max_epsilon_per_series: float | None = Field(None, gt=0)
    # The budget's horizon, a whole number of windows; unset: the life of the process.
    budget_horizon_seconds: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _budget_fits(self) -> PrivateMetricsConfig:
        if self.max_epsilon_per_series is not None and (
            self.max_epsilon_per_series < self.epsilon_per_release
        ):
            raise ValueError(
                f"max_epsilon_per_series ({self.max_epsilon_per_series}) is below "
                f"epsilon_per_release ({self.epsilon_per_release}): nothing could ever be "
                "published; raise the budget or lower epsilon_per_release"
            )
        if self.budget_horizon_seconds is not None:
            if self.max_epsilon_per_series is None:
                raise ValueError(
                    "budget_horizon_seconds renews a budget: set max_epsilon_per_series too"
                )
            windows = self.budget_horizon_seconds / self.window_seconds
            if windows < 1 or not math.isclose(windows, round(windows)):
                raise ValueError(
                    f"budget_horizon_seconds ({self.budget_horizon_seconds}) must be a whole "
                    f"number of windows of {self.window_seconds} s"
                )
        return self

    @property
    def windows_per_horizon(self) -> int | None:
        if self.budget_horizon_seconds is None:
            return None
        return round(self.budget_horizon_seconds / self.window_seconds)
