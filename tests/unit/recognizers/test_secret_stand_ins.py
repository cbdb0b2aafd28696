"""A secret slot holding a stand-in is kept as written; a real credential never is."""

from __future__ import annotations

import itertools
import random
import string

import pytest

from benchmarks.secret_variants import Gen
from recognizers.credentials import CREDENTIAL_RECOGNIZERS
from recognizers.fields import hint_for_key, value_is_sensitive
from recognizers.providers import PROVIDER_RECOGNIZERS
from recognizers.secrets import SECRET_RECOGNIZERS
from scrubber.engine import Scrubber
from scrubber.models import Reason

SECRETS = (*PROVIDER_RECOGNIZERS, *SECRET_RECOGNIZERS, *CREDENTIAL_RECOGNIZERS)

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


# ---------------------------------------------------------------------------------------------
# Look-alikes by kind, each beside the near-miss that must stay a secret. Values are generated
# (seeded), so a rule has to hold for the kind, not for one literal.
# ---------------------------------------------------------------------------------------------

TOKEN_KEYS = ["api_key", "API_TOKEN", "accessKey", "client-secret", "auth_token"]
PASSWORD_KEYS = ["password", "DB_PASS", "userPwd", "passphrase"]


def _secret_values(text: str) -> set[str]:
    return {text[f.start : f.end] for r in SECRETS for f in r.scan(text)}


def _found_by_engine(engine: Scrubber, text: str) -> set[str]:
    """The secrets the whole engine finds (patterns and key hints; names are another test's)."""
    [found] = engine.detect_texts([text])
    assert not isinstance(found, Reason)
    return {text[f.start : f.end].strip("\"'") for f in found if f.entity_type == "SECRET"}


@pytest.mark.parametrize("seed", range(12))
def test_typed_values_under_a_token_key_are_stand_ins(seed: int, engine: Scrubber) -> None:
    g = Gen(seed)
    typed = g.pick(("", "sk_", "tok-")) + g.typed_runs()
    key = g.pick(TOKEN_KEYS)
    assert not value_is_sensitive(typed, "SECRET", key)
    line = f"{key}={typed}"
    assert _secret_values(line) == set() and _found_by_engine(engine, line) == set()


@pytest.mark.parametrize("seed", range(12))
def test_typed_values_under_a_password_key_stay_secrets(seed: int, engine: Scrubber) -> None:
    """People do choose `abc123`: after a password key it is a password, however weak."""
    g = Gen(seed)
    typed, key = g.typed_runs(), g.pick(PASSWORD_KEYS)
    assert value_is_sensitive(typed, "SECRET", key)
    assert typed in _found_by_engine(engine, f"{key}={typed}")


@pytest.mark.parametrize("seed", range(12))
def test_a_random_token_with_a_typed_run_inside_stays_a_secret(seed: int, engine: Scrubber) -> None:
    rng = random.Random(seed)
    token = _random_token(rng, 12) + "abcd1234" + _random_token(rng, 12)
    key = rng.choice(TOKEN_KEYS)
    assert value_is_sensitive(token, "SECRET", key)
    assert token in _found_by_engine(engine, f"{key}={token}")


@pytest.mark.parametrize("value", ["abc123", "AbCeFG123", "xyz789", "Abc123!"])
def test_short_runs_stay_secrets_after_a_token_key(value: str) -> None:
    """Shorter runs are how people write weak secrets of their own (`SECRET_KEY=abc123`)."""
    assert value_is_sensitive(value, "SECRET", "secret_key")


@pytest.mark.parametrize(("seed", "version"), list(itertools.product(range(4), (1, 3, 5, 6))))
def test_time_and_name_based_uuids_are_identifiers(
    seed: int, version: int, engine: Scrubber
) -> None:
    g = Gen(seed)
    value, key = g.uuid(version), g.pick(TOKEN_KEYS)
    assert not value_is_sensitive(value, "SECRET", key)
    line = f'{{"{key}": "{value}"}}'
    assert _secret_values(f"{key}={value}") == set() and _found_by_engine(engine, line) == set()


@pytest.mark.parametrize(("seed", "version"), list(itertools.product(range(4), (4, 7))))
def test_random_uuids_under_a_token_key_stay_secrets(
    seed: int, version: int, engine: Scrubber
) -> None:
    """Version 4 (and 7's random bits) is how Heroku and older npm issue tokens."""
    g = Gen(seed)
    value, key = g.uuid(version), g.pick(TOKEN_KEYS)
    assert value_is_sensitive(value, "SECRET", key)
    assert value in _found_by_engine(engine, f"{key}={value}")


NOT_CREDENTIAL_KEYS = [
    "csrf_token", "X-CSRF-Token", "xsrfToken", "authenticity_token", "next_page_token",
    "pageToken", "continuation-token", "syncToken", "cursor_token", "public_key",
]  # fmt: skip


@pytest.mark.parametrize("key", NOT_CREDENTIAL_KEYS)
def test_anti_forgery_and_paging_tokens_are_not_credentials(key: str, engine: Scrubber) -> None:
    token = _random_token(random.Random(key), 40)
    assert hint_for_key(key) is None
    assert _found_by_engine(engine, f"{key}={token}") == set()


@pytest.mark.parametrize("key", ["page_access_token", "session_token", "publicSecret"])
def test_keys_that_only_start_like_a_paging_token_stay_secret(key: str, engine: Scrubber) -> None:
    token = _random_token(random.Random(key), 40)
    assert hint_for_key(key) == "SECRET"
    assert token in _found_by_engine(engine, f"{key}={token}")


NEGATIONS = ["doesn't", "don't", "didn't", "isn't", "wasn't", "won't", "doesnt", "dont"]


@pytest.mark.parametrize(("negation", "key"), list(itertools.product(NEGATIONS, PASSWORD_KEYS)))
def test_a_quoted_message_after_a_password_key_is_no_password(
    negation: str, key: str, engine: Scrubber
) -> None:
    message = f"{negation} {random.Random(negation + key).choice(('match', 'meet the policy'))}"
    assert not value_is_sensitive(f'"{message}"', "SECRET", key)
    for line in (f'{key} = "{message}"', f'{key}: "{message}"', f'{{"{key}": "{message}"}}'):
        assert _secret_values(line) == set() and _found_by_engine(engine, line) == set(), line


def test_a_quoted_passphrase_is_taken_whole_never_by_its_first_word() -> None:
    assert _secret_values('password = "correct horse battery"') == {"correct horse battery"}
    assert _secret_values('pwd="it\'s mine"') == {"it's mine"}


STAND_IN_WORDS = ["fake", "dummy", "example", "sample", "placeholder"]
WORDS = ["river", "orange", "tooshort", "client", "value", "bridge", "local"]


@pytest.mark.parametrize("seed", range(12))
def test_lower_case_words_with_a_stand_in_word_are_described(seed: int) -> None:
    rng = random.Random(seed)
    words = [rng.choice(STAND_IN_WORDS), *rng.sample(WORDS, rng.randint(1, 3))]
    rng.shuffle(words)
    value = rng.choice("-_").join(words)
    assert not value_is_sensitive(value, "SECRET", rng.choice(PASSWORD_KEYS))
    assert _secret_values(f'{rng.choice(PASSWORD_KEYS)} = "{value}"') == set()


@pytest.mark.parametrize(
    "password",
    ["fake-plastic-trees-1995", "Fake-Plastic-Trees", "x9fakeQ2mPw7", "riverfakeorange",
     "orange-river-bridge"],
)  # fmt: skip
def test_a_stand_in_word_inside_a_password_proves_nothing(password: str) -> None:
    """A digit, a capital or no separator: a person's password that happens to hold the word."""
    assert value_is_sensitive(password, "SECRET", "password")
    assert _secret_values(f"password={password}") == {password}
