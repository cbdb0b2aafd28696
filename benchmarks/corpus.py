"""A reproducible mixed corpus: text logs, JSON logs and chat-style inference requests.

Seeded, so every run and every machine sees the same records. Log templates repeat (as real logs
do) while IDs, timestamps and planted PII vary. Every record carries its sequence number and may
carry a unique canary (`canary_value(seq)`), so tests can count records and hunt for leaks.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator

FIRST = ["Maria", "John", "Aisha", "Wei", "Olga", "Carlos", "Priya", "Liam", "Fatima", "Kenji",
         "Sofia", "Ahmed", "Emma", "Noah", "Chloe", "Mateo", "Hannah", "Ivan", "Zara", "Lucas"]  # fmt: skip
LAST = ["Garcia", "Smith", "Okafor", "Chen", "Petrova", "Silva", "Patel", "Murphy", "Haddad",
        "Tanaka", "Rossi", "Nasser", "Johnson", "Brown", "Martin", "Lopez", "Schmidt", "Ivanov"]  # fmt: skip
CITIES = ["Boston", "Berlin", "Lagos", "Osaka", "Lisbon", "Toronto", "Madrid", "Chicago"]
SERVICES = ["auth-service", "billing", "orders-api", "gateway", "search", "notifier"]


def canary_value(seq: int) -> str:
    """A unique e-mail address per record: detectable, and greppable in any output."""
    return f"canary{seq:07d}@leakcheck.example.com"


def _luhn(digits: str) -> str:
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return digits + str((10 - total % 10) % 10)


def _ts(rng: random.Random) -> str:
    return f"2026-11-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z"


def _person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _email(rng: random.Random) -> str:
    return f"{rng.choice(FIRST).lower()}.{rng.choice(LAST).lower()}{rng.randint(1, 99)}@example.org"


def _ip(rng: random.Random) -> str:
    return (
        f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def text_log(rng: random.Random, seq: int, canary: str) -> str:
    templates = [
        lambda: (
            f"{_ts(rng)} INFO  {rng.choice(SERVICES)} request_id={_uuid(rng)} GET /api/v1/orders/{rng.randint(1, 99999)} 200 {rng.randint(100, 9999)} bytes in {rng.randint(1, 900)} ms"
        ),
        lambda: (
            f"{_ts(rng)} WARN  billing charge failed for card {_luhn('4' + str(rng.randint(10**13, 10**14 - 1)))} customer {_person(rng)}"
        ),
        lambda: (
            f"Nov 24 08:15:{rng.randint(10, 59)} bastion sshd[{rng.randint(1000, 65000)}]: Failed password for invalid user {rng.choice(['admin', 'oracle', 'test', 'deploy'])} from {_ip(rng)} port {rng.randint(1024, 65000)} ssh2"
        ),
        lambda: (
            f"{_ts(rng)} INFO  auth-service user={rng.choice(FIRST).lower()}{rng.randint(1, 99)} login ok from {_ip(rng)}"
        ),
        lambda: (
            f"{_ts(rng)} DEBUG cache hit ratio={rng.random():.3f} keys={rng.randint(1, 10**6)} evicted={rng.randint(0, 999)} version=2.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
        ),
        lambda: (
            f"{_ts(rng)} ERROR notifier could not deliver mail to {_email(rng)}: 550 mailbox unavailable"
        ),
    ]
    return f"{rng.choice(templates)()} seq={seq} contact={canary}"


def json_log(rng: random.Random, seq: int, canary: str) -> str:
    record = {
        "ts": _ts(rng),
        "level": rng.choice(["info", "warn", "error", "debug"]),
        "service": rng.choice(SERVICES),
        "trace_id": f"{rng.getrandbits(128):032x}",
        "seq": seq,
        "msg": rng.choice(["profile updated", "order placed", "payment declined", "login ok"]),
        "user": {"id": rng.randint(1, 10**6), "email": _email(rng), "name": _person(rng),
                 "phone": f"+1 {rng.randint(200, 999)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}"},
        "http": {"method": "POST", "path": "/api/v1/profile", "status": 200,
                 "client_ip": _ip(rng), "duration_ms": rng.randint(1, 500)},
        "note": f"ticket from {_person(rng)} in {rng.choice(CITIES)}, reply to {canary}",
    }  # fmt: skip
    return json.dumps(record, separators=(",", ":"))


def inference_request(rng: random.Random, seq: int, canary: str) -> str:
    prompt = (
        f"Hi, I'm {_person(rng)} from {rng.choice(CITIES)}. My card {_luhn('5' + str(rng.randint(10**13, 10**14 - 1)))} "
        f"was charged twice; please email me at {canary} or call +44 20 7946 {rng.randint(1000, 9999)}. "
        "Can you draft a short complaint letter to the bank and summarise what happened?"
    )
    request = {
        "model": "gpt-4o-mini",
        "seq": seq,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant for a retail bank."},
            {"role": "user", "content": prompt},
        ],
        "temperature": 0.2,
    }
    return json.dumps(request)


KINDS = (text_log, json_log, inference_request)


def mixed_corpus(count: int, seed: int = 7, canaries: bool = True) -> Iterator[str]:
    """`count` records: half text logs, a third JSON logs, the rest inference requests."""
    rng = random.Random(seed)
    for seq in range(count):
        kind = rng.choices(KINDS, weights=(3, 2, 1))[0]
        yield kind(rng, seq, canary_value(seq) if canaries else "ops@example.net")
