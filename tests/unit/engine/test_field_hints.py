"""Key hints: in a structured record the key says what a value is, numbers included."""

from __future__ import annotations

import json

import pytest

from recognizers.fields import fold_key, hint_for_key, hint_for_path, value_is_sensitive
from scrubber.config import parse_config
from scrubber.engine import Scrubber


@pytest.mark.parametrize(
    ("key", "entity_type"),
    [
        ("password", "SECRET"), ("clientSecret", "SECRET"), ("cvv", "SECRET"), ("pin", "SECRET"),
        ("last_name", "PERSON"), ("email", "EMAIL_ADDRESS"), ("billing.city", "LOCATION"),
        ("zipCode", "POSTAL_CODE"), ("age", "AGE"), ("iban", "IBAN_CODE"),
        ("passport_number", "PASSPORT"), ("nhs_number", "NATIONAL_ID"), ("vin", "VEHICLE_VIN"),
        ("imei", "IMEI"), ("mrn", "MEDICAL_RECORD_NUMBER"), ("wallet_address", "CRYPTO"),
        ("lat", "COORDINATES"), ("userLatitude", "COORDINATES"), ("mac_address", "MAC_ADDRESS"),
    ],
)  # fmt: skip
def test_keys_name_their_entity(key: str, entity_type: str) -> None:
    assert hint_for_key(key.rsplit(".", 1)[-1]) == entity_type


@pytest.mark.parametrize(
    "key",
    ["page", "usage", "velocity", "gzip", "ping", "spin", "span", "p99_lat", "hmac", "state",
     "country", "token_count", "password_reset", "message", "id", "status"],
)  # fmt: skip
def test_keys_that_only_contain_a_hint_word_are_not_hints(key: str) -> None:
    assert hint_for_key(key) is None


def test_fold_key_and_non_sensitive_values() -> None:
    assert fold_key("Client.Secret") == fold_key("client-secret") == "client_secret"
    assert not value_is_sensitive("***") and not value_is_sensitive("${DB_PASSWORD}")
    assert value_is_sensitive("4821")


def test_hinted_fields_are_scrubbed_whole_and_others_kept() -> None:
    engine = Scrubber(parse_config({}))
    record = {
        "user": {"age": 34, "city": "Tampere", "zip": "33100", "lat": 61.4978, "lng": 23.761},
        "card": {"cvv": "123", "pin": 4821},
        "device": {"imei": "490154203237518", "mac": "3c:22:fb:12:34:56"},
        "metrics": {"p99_lat": 12.5, "retries": 3, "state": "RUNNING"},
    }
    out = json.loads(engine.scrub_batch([json.dumps(record)])[0].output)
    assert out["user"] == {
        "age": "<AGE>", "city": "<LOCATION>", "zip": "<POSTAL_CODE>",
        "lat": "<COORDINATES>", "lng": "<COORDINATES>",
    }  # fmt: skip
    assert out["card"] == {"cvv": "<SECRET>", "pin": "<SECRET>"}
    assert out["device"] == {"imei": "<IMEI>", "mac": "<MAC_ADDRESS>"}
    assert out["metrics"] == record["metrics"]


@pytest.mark.parametrize(
    ("path", "entity_type"),
    [
        ("user.name", "USERNAME"), ("client.user.name", "USERNAME"), ("enduser.id", "USERNAME"),
        ("customer.name", "PERSON"), ("order.recipient.name", "PERSON"),
        ("source.domain", "HOSTNAME"), ("user.email", "EMAIL_ADDRESS"),
        ("service.name", None), ("host.name", None), ("user.id", None), ("name", None),
        ("event.dataset", None),
    ],
)  # fmt: skip
def test_name_and_id_take_their_meaning_from_the_parent(path: str, entity_type: str | None) -> None:
    assert hint_for_path(path, path.rsplit(".", 1)[-1]) == entity_type


def test_ecs_and_otel_records_lose_the_person_and_keep_the_service() -> None:
    engine = Scrubber(parse_config({}))
    record = {
        "user": {"name": "jdoe", "id": "4711"},
        "service": {"name": "checkout"},
        "host": {"name": "web-01"},
        "enduser": {"id": "mgarcia"},
    }
    out = json.loads(engine.scrub_batch([json.dumps(record)])[0].output)
    assert out["user"] == {"name": "<USERNAME>", "id": "4711"}
    assert out["enduser"] == {"id": "<USERNAME>"}
    assert out["service"] == record["service"] and out["host"] == record["host"]
