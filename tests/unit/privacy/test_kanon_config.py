"""A route's `kanon:` section: exactly one window, k and l at least 2, fields that name one field
each; every refusal names the key and says how to fix it."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from scrubber.config.kanon import KAnonymityConfig

BASE: dict[str, Any] = {"quasi_identifiers": ["user.age", "zip"], "k": 5, "window_records": 100}


def _refusal(**changes: Any) -> tuple[str, str]:
    """(key path, message) of the single error the changed section gives."""
    with pytest.raises(ValidationError) as caught:
        KAnonymityConfig.model_validate({**BASE, **changes})
    [error] = caught.value.errors()
    return ".".join(str(p) for p in error["loc"]), error["msg"]


def test_a_valid_section_and_its_defaults() -> None:
    config = KAnonymityConfig.model_validate({**BASE, "sensitive": "diagnosis", "l": 3})
    assert config.quasi_identifiers == ("user.age", "zip")
    assert (config.k, config.l, config.on_breach, config.window_seconds) == (5, 3, "alert", None)
    timed = KAnonymityConfig.model_validate(
        {"quasi_identifiers": ["zip"], "k": 2, "window_seconds": 60, "on_breach": "generalize"}
    )
    assert (timed.window_records, timed.window_seconds, timed.on_breach) == (None, 60, "generalize")


@pytest.mark.parametrize(
    ("changes", "where", "says"),
    [
        ({"window_seconds": 60}, "", "exactly one of `window_records`"),
        ({"window_records": None}, "", "exactly one of `window_records`"),
        ({"window_records": 3}, "", "make the window larger"),
        ({"k": 1}, "k", "greater than or equal to 2"),
        ({"quasi_identifiers": []}, "quasi_identifiers", "at least 1 item"),
        ({"quasi_identifiers": ["user..age"]}, "quasi_identifiers", "empty key between dots"),
        ({"quasi_identifiers": ["*.zip"]}, "quasi_identifiers", "is a pattern"),
        ({"quasi_identifiers": [" zip"]}, "quasi_identifiers", "write `zip`"),
        ({"quasi_identifiers": ["zip", "zip"]}, "quasi_identifiers", "named twice"),
        ({"sensitive": ""}, "sensitive", "is empty"),
        ({"sensitive": "zip"}, "", "also a quasi-identifier"),
        ({"l": 3}, "", "no `sensitive` field"),
        ({"sensitive": "dx", "l": 1}, "l", "greater than or equal to 2"),
        ({"on_breach": "drop"}, "on_breach", "'alert' or 'generalize'"),
        ({"max_class": 5}, "max_class", "Extra inputs"),
    ],
)
def test_refusals_name_the_key_and_the_fix(changes: dict[str, Any], where: str, says: str) -> None:
    path, message = _refusal(**changes)
    assert path == where
    assert says in message
