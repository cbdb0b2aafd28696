"""Shared fixtures: engines are costly to build (spaCy), so tests share them per session; the
fake LLM upstream the gateway tests (unit and integration) point at, one per module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from scrubber.config import parse_config
from scrubber.engine import Scrubber
from tests.keys import key
from tests.unit.gateway.fake_upstream import FakeUpstream

TEST_KEY = key("test")
OTHER_KEY = key("other")


@pytest.fixture(scope="session")
def engine() -> Scrubber:
    """The embedded default policy: every finding replaced by its type label."""
    return Scrubber(parse_config({}))


@pytest.fixture(scope="session")
def token_engine() -> Scrubber:
    config = parse_config(
        {
            "policy": {"default": {"type": "token"}},
            "keys": {"default": {"env": "SCRUBBER_TEST_KEY"}},
        }
    )
    return Scrubber(config, environ={"SCRUBBER_TEST_KEY": TEST_KEY})


@pytest.fixture(scope="session")
def make_engine() -> Callable[..., Scrubber]:
    def build(
        data: dict[str, Any], environ: dict[str, str] | None = None, **kwargs: Any
    ) -> Scrubber:
        return Scrubber(parse_config(data), environ=environ or {}, **kwargs)

    return build


@pytest.fixture(scope="module")
def upstream() -> Iterator[FakeUpstream]:
    fake = FakeUpstream().start()
    yield fake
    fake.stop()
