"""A secret slot's value that only stands for a secret is configuration, not a secret."""

from __future__ import annotations

import pytest

from recognizers.fields import value_is_sensitive


@pytest.mark.parametrize(
    "value",
    ["$API_KEY", "%s", "%(token)s", "{SumoAccessKey}", "<token>", "‹paste token›",
     "insert_key_here", "settings.SECRET", "/run/secrets/db", "${DB_PASSWORD}", "xxxxxxxx"],
)  # fmt: skip
def test_stand_ins_in_a_secret_slot_are_not_secrets(value: str) -> None:
    assert not value_is_sensitive(value, "SECRET")


@pytest.mark.parametrize("value", ["hunter2", "S3cr3t!pass", "Winter357&", "gh7Kd9sPq2xV"])
def test_real_passwords_in_a_secret_slot_are(value: str) -> None:
    assert value_is_sensitive(value, "SECRET")


@pytest.mark.parametrize("value", ["JOHN", "settings.NAME", "Maria Garcia"])
def test_other_types_are_never_second_guessed(value: str) -> None:
    assert value_is_sensitive(value, "PERSON") and value_is_sensitive(value)
