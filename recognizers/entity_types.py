"""Every entity type Scrubber can report: the names a config may use and the docs list.

Declared here rather than collected from the recognizers, so that validating a config does not
compile every pattern; tests/unit/test_config.py checks that this list and what the recognizers,
the key hints, the proper-noun pass and NER report are the same set.
"""

from __future__ import annotations

# Pattern recognizers (`PatternRecognizer.entity_type`) and key hints (`fields.FIELD_HINTS`).
PATTERN_ENTITY_TYPES: tuple[str, ...] = (
    # people and places
    "PERSON", "LOCATION", "AGE", "DATE_OF_BIRTH", "POSTAL_CODE", "COORDINATES",
    # contact and online
    "EMAIL_ADDRESS", "PHONE_NUMBER", "URL", "USERNAME", "HOSTNAME", "SERVER_HOSTNAME",
    "IP_ADDRESS", "MAC_ADDRESS", "IMEI",
    # money
    "CREDIT_CARD", "IBAN_CODE", "US_BANK_NUMBER", "ABA_ROUTING_NUMBER", "CRYPTO",
    # identity documents
    "US_SSN", "US_ITIN", "US_PASSPORT", "PASSPORT", "US_DRIVER_LICENSE", "UK_NHS", "UK_NINO",
    "CA_SIN", "ES_NIF", "ES_NIE", "IT_FISCAL_CODE", "FR_NIR", "DE_TAX_ID", "NL_BSN", "BR_CPF",
    "PL_PESEL", "SG_NRIC_FIN", "IN_PAN", "IN_AADHAAR", "NATIONAL_ID", "VEHICLE_VIN",
    # health
    "MEDICAL_RECORD_NUMBER", "MEDICAL_LICENSE",
    # credentials
    "SECRET",
)  # fmt: skip

# The lexical pass over prose (`proper_nouns.ProperNounRecognizer`).
PROPER_NOUN_ENTITY_TYPES: tuple[str, ...] = ("PERSON", "LOCATION")

# spaCy's labels as Presidio maps them (PERSON; LOC, GPE; NORP), the ones the engine keeps
# (scrubber/engine/ner.py ignores ORG and the rest): `detection.ner.entities` may name these.
NER_ENTITY_TYPES: tuple[str, ...] = ("PERSON", "LOCATION", "NRP")

# spaCy's DATE and TIME labels: reported only with `detection.redact_timestamps: true` (or with
# DATE_TIME under `detection.ner.entities`).
TIMESTAMP_ENTITY_TYPE = "DATE_TIME"

# A value replaced by a field-path rule (`policy.fields`): counted, vaulted and revealed under
# this type, but never detected, so it takes the rule's operator, not one of `policy.entities`.
FIELD_ENTITY_TYPE = "FIELD"


def detected_entity_types() -> frozenset[str]:
    """What detection can report (patterns, key hints, proper nouns, NER), DATE_TIME aside."""
    return frozenset((*PATTERN_ENTITY_TYPES, *PROPER_NOUN_ENTITY_TYPES, *NER_ENTITY_TYPES))


def entity_types() -> frozenset[str]:
    """Every entity type a finding, a replacement, a metric label or a vault token can carry."""
    return detected_entity_types() | {TIMESTAMP_ENTITY_TYPE, FIELD_ENTITY_TYPE}
