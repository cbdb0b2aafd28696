"""Field-name hints: in structured records the key often says what the value is.

`{"password": "hunter2"}` or `{"last_name": "Okafor"}` carry no pattern a regex could find in the
value alone; the key tells. A hint makes the whole value a finding of its entity type, unless the
value is clearly not sensitive (empty, a boolean, a placeholder such as `***` or `${VAR}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from recognizers.secret_values import (
    NOT_CREDENTIAL_QUALIFIERS,
    is_described,
    is_example,
    is_filler,
    is_message,
    is_reference,
    not_generated,
)

_WORD_SPLIT = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class FieldHint:
    entity_type: str
    key_pattern: re.Pattern[str]


def _keys(*alternatives: str) -> re.Pattern[str]:
    # Keys are compared after folding camelCase, dashes and dots to `_`-separated lower case.
    return re.compile(rf"^(?:[a-z0-9]+_)*(?:{'|'.join(alternatives)})$")


# Secrets people choose: any value but a stand-in is one, however weak (`hunter2`, `1234`).
_PASSWORD_SLOTS = (
    "password", "passwd", "pwd", "pass", "credentials?", "passphrase",
    # Card security codes and PINs: short digits no pattern could tell from any number.
    "cvv", "cvv2", "cvc", "card_security_code", "pin", "pin_code",
)  # fmt: skip
# Secrets an issuer generates: a typed value or an identifier UUID there is a stand-in.
_TOKEN_SLOTS = (
    "secret", "client_secret", "secret_key", "api_key", "apikey", "access_key", "private_key",
    "token", "access_token", "refresh_token", "id_token", "auth_token", "session_token",
    "bearer", "authorization", "cookie", "set_cookie", "x_api_key", "signature",
)  # fmt: skip
_PASSWORD_SLOT = _keys(*_PASSWORD_SLOTS)
_TOKEN_SLOT = _keys(*_TOKEN_SLOTS)
# `csrf_token`, `next_page_token`, `public_key`: named like a secret, holding none.
_NOT_CREDENTIAL = re.compile(
    rf"^(?:[a-z0-9]+_)*(?:{NOT_CREDENTIAL_QUALIFIERS})_?(?:key_)?(?:token|key|api_key)$"
)

FIELD_HINTS: tuple[FieldHint, ...] = (
    FieldHint("SECRET", _keys(*_PASSWORD_SLOTS, *_TOKEN_SLOTS)),
    FieldHint(
        "PERSON",
        _keys(
            "first_name", "firstname", "last_name", "lastname", "full_name", "fullname",
            "given_name", "family_name", "surname", "middle_name", "display_name",
            "customer_name", "patient_name", "contact_name", "person_name", "cardholder",
            "cardholder_name", "account_holder", "author_name",
        ),
    ),
    FieldHint("EMAIL_ADDRESS", _keys("email", "e_mail", "email_address", "mail")),
    FieldHint("PHONE_NUMBER", _keys("phone", "phone_number", "mobile", "telephone", "msisdn")),
    FieldHint("USERNAME", _keys("username", "user_name", "login", "user_id_name", "ruser")),
    FieldHint("HOSTNAME", _keys("hostname", "host_name", "rhost", "client_host", "remote_host")),
    FieldHint("IP_ADDRESS", _keys("ip", "ip_address", "client_ip", "remote_addr", "remote_ip")),
    FieldHint(
        "DATE_OF_BIRTH", _keys("dob", "date_of_birth", "birth_date", "birthdate", "birthday")
    ),
    FieldHint("US_SSN", _keys("ssn", "social_security_number")),
    FieldHint("POSTAL_CODE", _keys("zip", "zip_code", "zipcode", "postal_code", "postcode")),
    FieldHint("AGE", _keys("age", "age_years")),
    FieldHint("CREDIT_CARD", _keys("card_number", "credit_card", "credit_card_number", "pan")),
    FieldHint("IBAN_CODE", _keys("iban")),
    FieldHint("US_BANK_NUMBER", _keys("account_number", "bank_account", "bank_account_number")),
    FieldHint("PASSPORT", _keys("passport", "passport_number", "passport_no")),
    FieldHint("NATIONAL_ID", _keys("national_id", "national_id_number", "tax_id", "nhs_number",
                                   "nino", "sin", "bsn", "cpf", "pesel", "aadhaar", "nric")),
    FieldHint("US_DRIVER_LICENSE", _keys("driver_license", "drivers_license", "license_number",
                                         "driving_licence", "driving_license")),
    FieldHint("MAC_ADDRESS", _keys("mac", "mac_address")),
    FieldHint("VEHICLE_VIN", _keys("vin")),
    FieldHint("IMEI", _keys("imei")),
    FieldHint("MEDICAL_RECORD_NUMBER", _keys("mrn", "medical_record_number")),
    FieldHint("CRYPTO", _keys("wallet", "wallet_address", "btc_address", "eth_address")),
    # `lat`/`lon` alone only: as a suffix they are latencies (`p99_lat`).
    FieldHint(
        "COORDINATES",
        re.compile(r"^(?:(?:[a-z0-9]+_)*(?:latitude|longitude)|lat|lng|lon|geo_(?:lat|lng|lon))$"),
    ),
    # Last: `email_address`, `mac_address`, `wallet_address` are taken by their own hints above.
    FieldHint("LOCATION", _keys("street", "street_address", "address_line_?[12]?", "address",
                                "city", "town", "village", "county", "province")),
)  # fmt: skip

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_SENSITIVE_VALUES = frozenset(
    {"", "true", "false", "null", "none", "nil", "n/a", "na", "-", "redacted", "[redacted]",
     "***", "****", "*****", "xxx", "xxxx", "<redacted>", "hidden", "masked", "unset"}
)  # fmt: skip


def fold_key(key: str) -> str:
    """`clientSecret`, `client-secret` and `Client.Secret` all become `client_secret`."""
    return _WORD_SPLIT.sub("_", _CAMEL.sub("_", key).lower()).strip("_")


@lru_cache(maxsize=8192)  # bounded: keys can carry ids, and workers run for weeks
def hint_for_key(key: str) -> str | None:
    """The entity type a field of this name holds, if its name says so."""
    folded = fold_key(key)
    if not folded:
        return None
    for hint in FIELD_HINTS:
        if hint.key_pattern.match(folded):
            if hint.entity_type == "SECRET" and _NOT_CREDENTIAL.match(folded):
                return None
            return hint.entity_type
    return None


# `name` and `id` say nothing alone; under a parent that is a person they do. Elastic Common
# Schema and OpenTelemetry log the login as `user.name` and the end user as `enduser.id`.
_PERSON_PARENTS: dict[tuple[str, str], str] = {
    ("user", "name"): "USERNAME",
    ("enduser", "id"): "USERNAME",
    ("enduser", "name"): "USERNAME",
    **{
        (parent, "name"): "PERSON"
        for parent in (
            "person", "customer", "patient", "contact", "author", "owner", "sender", "recipient",
            "employee", "member", "applicant", "cardholder", "account_holder", "beneficiary",
        )
    },
    ("client", "domain"): "HOSTNAME",
    ("source", "domain"): "HOSTNAME",
}  # fmt: skip


@lru_cache(maxsize=8192)  # bounded: keys can carry ids, and workers run for weeks
def hint_for_path(path: str, key: str) -> str | None:
    """The entity type a field holds, from its key (`email`) or its key and parent
    (`user.name`, `customer.name`)."""
    hint = hint_for_key(key)
    if hint is not None:
        return hint
    segments = path.split(".")
    if len(segments) < 2:
        return None
    return _PERSON_PARENTS.get((fold_key(segments[-2]), fold_key(key)))


# Where a value stands for another: `$API_KEY`, `%s`, `%(token)s`, `{SumoAccessKey}`, `<token>`.
_STAND_IN = re.compile(
    r"\$[A-Za-z_][A-Za-z0-9_]*|%[-#0-9.]*[sdr]|%\([a-z_]+\)[sdr]|\{[^{}]*\}|[<‹][^<>‹›]*[>›]"
)


def value_is_sensitive(value: str, entity_type: str | None = None, key: str | None = None) -> bool:
    """False for values that hold nothing to protect: empty, booleans, masks, templates. A
    secret slot's value is also not one when it is a stand-in (`$API_KEY`, `%s`, `{name}`,
    `<token>`), a placeholder (`insert_key_here`, `xxxx`) or a reference to where a secret is
    (`settings.SECRET`, `/run/secrets/db`): such values are configuration, and keeping them keeps
    logs readable. Nor is a message (`"doesn't match"`); and under a token's key (not a
    password's) neither is a typed value (`abc123`, `sk_abcdef123`) or a time- or name-based
    UUID, as the `key=value` patterns judge them.
    Other types are never second-guessed (a name may look like a constant)."""
    stripped = value.strip()
    lowered = stripped.lower()
    if lowered in _NOT_SENSITIVE_VALUES or set(lowered) <= {"*", "x", "#"}:
        return False
    is_template = (stripped.startswith("${") or stripped.startswith("{{")) and stripped.endswith(
        "}"
    )
    if is_template:
        return False
    if entity_type == "SECRET":
        unquoted = stripped.strip("'\"")
        if _secret_stand_in(stripped) or (" " in unquoted and is_message(unquoted)):
            return False
        return key is None or not _is_token_slot(key) or not not_generated(stripped)
    return True


def _is_token_slot(key: str) -> bool:
    """A key that names a generated secret (`api_key`, `DATABRICKS_TOKEN`), not a password."""
    folded = fold_key(key)
    return bool(_TOKEN_SLOT.match(folded)) and not _PASSWORD_SLOT.match(folded)


# An HTTP auth scheme before the credential: `Bearer $API_KEY` is as empty as `$API_KEY`.
_AUTH_SCHEME = re.compile(r"(?i)(?:bearer|basic|token|digest|negotiate|apikey|bot|sso-key)\s+")
# Shell command substitution: the secret is read from elsewhere (`$(cat /run/secrets/db)`).
_COMMAND = re.compile(r"`[^`]*`?|\$\([^)]*\)?")
# `[PASSWORD]`, `[redacted token]`: a bracketed slot name.
_BRACKETED_SLOT = re.compile(r"\[[A-Za-z][A-Za-z _-]*\]")
# What may glue stand-ins together: quotes, formatting operators, separators.
_GLUE = re.compile(r"[\s'\"$%+.,:;()=-]*")
# A vendor prefix (`glc_`, `AIza`, `xoxb-`) before a body that is one or two characters typed
# over and over: a filled-in example. Only for token-length values; passwords are never judged so.
_PREFIXED_RUN = re.compile(r"[A-Za-z]{2,8}[_-]?(.{16,})")


def _secret_stand_in(value: str) -> bool:
    """A secret slot's value that holds no secret: a stand-in, a command that fetches it, a
    placeholder, a reference, a one- or two-digit flag (`PuttyPassword=0`)."""
    unquoted = value.strip("'\"")
    credential = (
        _AUTH_SCHEME.sub("", unquoted, count=1) if _AUTH_SCHEME.match(unquoted) else unquoted
    )
    if (unquoted.isdigit() and len(unquoted) <= 2) or _COMMAND.fullmatch(credential):
        return True
    rest = _BRACKETED_SLOT.sub("", _STAND_IN.sub("", credential))
    if rest != credential and _GLUE.fullmatch(rest):
        return True  # nothing but stand-ins: `%s`, `"%s" % <key>`, `${A}:${B}`, `[PASSWORD]`
    if (run := _PREFIXED_RUN.fullmatch(credential)) and len(set(run.group(1).strip("="))) <= 2:
        return True
    if is_example(credential):  # AWS's documented `AKIAIOSFODNN7EXAMPLE`
        return True
    return is_described(credential) or is_filler(credential) or is_reference(credential)
