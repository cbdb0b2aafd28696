"""Config section of `scrubber serve`: `api:` (request limits, documentation pages, the
Presidio-compatible routes)."""

from __future__ import annotations

from pydantic import Field

from scrubber.config.base import Strict


class ApiLimits(Strict):
    """What one caller may ask for, and how long the engine makes callers wait.

    Rates are token buckets per API key (callers without a key: per client address): `rate`
    requests a second (a minute for subject rights) are refilled, up to `burst` at once. Over a
    limit the API answers 429 with Retry-After and writes no audit record. See docs/vault.md
    "Limits".
    """

    scrub_per_second: float = Field(100.0, gt=0)
    scrub_burst: int = Field(200, ge=1)
    restore_per_second: float = Field(25.0, gt=0)
    restore_burst: int = Field(100, ge=1)
    # /v1/subjects/access and /erase share one bucket (each request: up to 100 identifiers).
    subjects_per_minute: float = Field(10.0, gt=0)
    subjects_burst: int = Field(5, ge=1)
    # Distinct tokens in one /v1/restore request; more is a 413 before anything is looked up.
    max_tokens_per_restore: int = Field(1000, ge=1, le=1_000_000)
    # Requests without a valid key (none, or an unknown one) per client address and minute;
    # beyond it: 429, one aggregated audit record per address and minute, a counter.
    bad_keys_per_minute: int = Field(10, ge=1)
    # Scrub requests waiting for the engine (beyond the one it runs); more: 503 `busy`.
    max_queue: int = Field(32, ge=0)
    # Records of at least this many UTF-8 bytes run on a second engine of their own (the large
    # lane), so they never hold the engine the small ones use; null: one engine for all.
    large_record_bytes: int | None = Field(65_536, ge=1024)
    # Large records waiting for the large lane (beyond the one it runs); more: 503 `busy`.
    max_large_queue: int = Field(1, ge=0)
    # Queue wait plus work of one scrub request; beyond it: 503 `busy` (work already started
    # finishes in the background, its result is dropped).
    request_deadline_seconds: float = Field(30.0, gt=0, le=600)


class PresidioApiConfig(Strict):
    """The Presidio-compatible routes (/analyze, /anonymize, ...): see docs/presidio-api.md.

    Presidio's own containers answer anyone; here every route but /health needs an API key whose
    role has `scrub: true` (/analyze is a detection oracle) unless `require_scrub_role: false`.
    """

    enabled: bool = False
    require_scrub_role: bool = True
    # Analyzer results (or anonymizer results) in one /anonymize (/deanonymize) request; more: 422.
    max_items: int = Field(1000, ge=1, le=100_000)


class ApiConfig(Strict):
    """How the HTTP API protects itself and its callers."""

    # The interactive /docs and /redoc pages (they load assets from a CDN): off unless asked for.
    # /openapi.json is always served.
    docs: bool = False
    limits: ApiLimits = ApiLimits()
    presidio: PresidioApiConfig = PresidioApiConfig()
