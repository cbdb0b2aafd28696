"""A secret slot holding a stand-in is kept as written; a real credential never is."""

from __future__ import annotations

import itertools
import random
import string

import pytest

from recognizers.fields import value_is_sensitive

STAND_INS = [
    "$API_KEY", "${DB_PASSWORD}", "%s", "%(token)s", "{api_key}", "<Openverse API token>",
    "<token>", "[PASSWORD]", "[redacted token]", '"%s" % <softlayer_api_key>', "${USER}:${PASS}",
    "`etcdctl get /sumologic_secret`", "$(cat /run/secrets/db)", "`vault read -field=pw x`",
    "0", "1", "AKIAIOSFODNN7EXAMPLE", "glc_111111111111111111111111111111111111111111=",
    "AIzaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "xoxb-0000000000000000000000",
]  # fmt: skip
SCHEMES = ["", "Bearer ", "Basic ", "Token ", "bearer "]


@pytest.mark.parametrize(("scheme", "value"), list(itertools.product(SCHEMES, STAND_INS)))
def test_stand_ins_are_not_secrets(scheme: str, value: str) -> None:
    if scheme and value in ("0", "1"):
        return  # `Bearer 0` is no flag
    assert not value_is_sensitive(scheme + value, "SECRET")


def _random_token(rng: random.Random, length: int) -> str:
    return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(length))


@pytest.mark.parametrize("seed", range(40))
def test_real_credentials_stay_secrets(seed: int) -> None:
    rng = random.Random(seed)
    token = _random_token(rng, rng.randrange(20, 60))
    for value in (token, f"Bearer {token}", f"Basic {token}=", f"'{token}'", f"sk_live_{token}"):
        assert value_is_sensitive(value, "SECRET"), value


@pytest.mark.parametrize(
    "password",
    ["aaaa1111", "abc123", "Password123", "hunter2", "qwerty", "12345678", "S3cr3t!",
     "correct horse battery staple", "p@ss w0rd", "{weird}pass", "S3cr3t$99"],
)  # fmt: skip
def test_weak_passwords_people_type_stay_secrets(password: str) -> None:
    """(Known limit: a password written as a shell variable, `$ecret99`, reads as one.)"""
    assert value_is_sensitive(password, "SECRET")
