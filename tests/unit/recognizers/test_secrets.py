"""Table-driven tests for the secrets pack: hits with exact value spans, and near-misses.

Every credential here is built at import time from a hash, so no token-shaped literal sits in the
repository for a secret scanner to flag, and none of them is anyone's real key.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from recognizers.base import PatternRecognizer
from recognizers.credentials import CREDENTIAL_RECOGNIZERS
from recognizers.providers import PROVIDER_RECOGNIZERS
from recognizers.secrets import SECRET_RECOGNIZERS

ALL_SECRETS = (*PROVIDER_RECOGNIZERS, *SECRET_RECOGNIZERS, *CREDENTIAL_RECOGNIZERS)

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
LOWER_HEX = "0123456789abcdef"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
B64URL = ALNUM + "-_"


def fake(label: str, length: int, alphabet: str = ALNUM) -> str:
    """Deterministic, random-looking characters: sha256 of the label, stretched."""
    out: list[str] = []
    counter = 0
    while len(out) < length:
        digest = hashlib.sha256(f"{label}/{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in digest)
        counter += 1
    return "".join(out[:length])


def b64url(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


AWS_KEY_ID = "AKIA" + fake("aws-id", 16, UPPER_DIGITS)
AWS_SESSION_KEY_ID = "ASIA" + fake("aws-sts", 16, UPPER_DIGITS)
AWS_SECRET = fake("aws-secret", 40, ALNUM + "/+")
GITHUB_PAT = "ghp_" + fake("ghp", 36)
GITHUB_APP = "ghs_" + fake("ghs", 36)
GITHUB_FINE = "github_pat_" + fake("gh-fine-1", 22) + "_" + fake("gh-fine-2", 59)
GITLAB_PAT = "glpat-" + fake("glpat", 20, B64URL.replace("-", "x"))
SLACK_BOT = "xoxb-" + fake("sl-1", 12, "123456789") + "-" + fake("sl-2", 13, "123456789") + "-"
SLACK_BOT += fake("sl-3", 24)
SLACK_HOOK_PATH = "T" + fake("hook-t", 8, UPPER_DIGITS) + "/B" + fake("hook-b", 8, UPPER_DIGITS)
SLACK_HOOK_PATH += "/" + fake("hook-s", 24)
STRIPE_LIVE = "sk_live_" + fake("stripe-live", 24)
STRIPE_RESTRICTED = "rk_test_" + fake("stripe-rk", 99)
GOOGLE_KEY = "AIza" + fake("google", 35, B64URL)
OPENAI_KEY = "sk-proj-" + fake("openai", 120, B64URL)
ANTHROPIC_KEY = "sk-ant-api03-" + fake("anthropic", 93, B64URL) + "AA"
NPM_TOKEN = "npm_" + fake("npm", 36)
PYPI_TOKEN = "pypi-AgEIcHlwaS5vcmc" + fake("pypi", 160, B64URL)
SENDGRID_KEY = "SG." + fake("sg-1", 22, B64URL) + "." + fake("sg-2", 43, B64URL)
TWILIO_KEY = "SK" + fake("twilio", 32, LOWER_HEX)
HF_TOKEN = "hf_" + fake("hf", 34, LETTERS)
SHOPIFY_TOKEN = "shpat_" + fake("shopify", 32, LOWER_HEX)
DATABRICKS_TOKEN = "dapi" + fake("databricks", 32, LOWER_HEX)
JWT = ".".join(
    (
        b64url({"alg": "HS256", "typ": "JWT"}),
        b64url({"sub": "1234567890", "name": "Test User", "iat": 1700000000}),
        fake("jwt-sig", 43, B64URL),
    )
)
JWT_CLAIMS = b64url({"sub": "1234567890", "email": "test.user@example.com", "iat": 1700000000})
# A token cut by line wrapping: header gone, claims and part of the signature left.
JWT_CUT = JWT_CLAIMS + "." + fake("jwt-cut", 12, B64URL)
PEM_HEADER = "-----BEGIN " + "RSA PRIVATE" + " KEY-----"
PEM_FOOTER = "-----END " + "RSA PRIVATE" + " KEY-----"
PEM_BODY = "\n".join(fake(f"pem-{i}", 64, ALNUM + "+/") for i in range(4))
PEM_BLOCK = f"{PEM_HEADER}\n{PEM_BODY}\n{PEM_FOOTER}"
# A DER body line: base64 of binary (a hash digest's bytes stand in for key material).
PEM_LINE = base64.b64encode(
    b"".join(hashlib.sha256(b"pem/%d" % i).digest() for i in range(2))[:48]
).decode()
B64_WORDS = base64.b64encode(b"the quick brown fox jumps over the lazy dog, twice a day").decode()
RANDOM_24 = fake("generic-24", 24)
RANDOM_32 = fake("generic-32", 32)
UUID_VALUE = "-".join(fake(f"uuid-{n}", n, LOWER_HEX) for n in (8, 4, 4, 4, 12))
VAULT_BODY = fake("vault", 24)
URL_PASSWORD = fake("url-pw", 10) + "!"
CLI_PASSWORD = fake("cli-pw", 10) + "-"
BASIC_VALUE = base64.b64encode(b"deploy:" + fake("basic", 16).encode()).decode()

Hit = tuple[str, str]

HITS: list[tuple[str, list[Hit]]] = [
    # Vendor formats, alone or in context; the token is the finding.
    (f"aws_access_key_id = {AWS_KEY_ID}", [("aws_access_key_id", AWS_KEY_ID)]),
    (
        f"assumed role, key {AWS_SESSION_KEY_ID} expires soon",
        [("aws_access_key_id", AWS_SESSION_KEY_ID)],
    ),
    (f"export AWS_SECRET_ACCESS_KEY={AWS_SECRET}", [("aws_secret_access_key", AWS_SECRET)]),
    (f"git clone https://{GITHUB_PAT}@github.com/org/repo.git", [("github_token", GITHUB_PAT)]),
    (f"installation token {GITHUB_APP} issued", [("github_token", GITHUB_APP)]),
    (f'{{"token": "{GITHUB_FINE}"}}', [("github_fine_grained_pat", GITHUB_FINE)]),
    (f"CI_JOB: using {GITLAB_PAT} to push", [("gitlab_token", GITLAB_PAT)]),
    (f"slack bot {SLACK_BOT} connected", [("slack_token", SLACK_BOT)]),
    (
        f"POST https://hooks.slack.com/services/{SLACK_HOOK_PATH} 200",
        [("slack_webhook_url", SLACK_HOOK_PATH)],
    ),
    (f"stripe.api_key = '{STRIPE_LIVE}'", [("stripe_secret_key", STRIPE_LIVE)]),
    (f"STRIPE_KEY={STRIPE_RESTRICTED}", [("stripe_secret_key", STRIPE_RESTRICTED)]),
    (f"GET /maps/api/geocode/json?address=x&key={GOOGLE_KEY}", [("google_api_key", GOOGLE_KEY)]),
    (f"Use this key: {OPENAI_KEY} for the call", [("openai_api_key", OPENAI_KEY)]),
    (f"x-api-key: {ANTHROPIC_KEY}", [("anthropic_api_key", ANTHROPIC_KEY)]),
    (f"//registry.npmjs.org/:_authToken={NPM_TOKEN}", [("npm_token", NPM_TOKEN)]),
    (f"twine upload -p {PYPI_TOKEN} dist/*", [("pypi_upload_token", PYPI_TOKEN)]),
    (f"sendgrid: {SENDGRID_KEY}", [("sendgrid_api_key", SENDGRID_KEY)]),
    (f"twilio api key {TWILIO_KEY}", [("twilio_key_or_sid", TWILIO_KEY)]),
    (f"huggingface-cli login {HF_TOKEN}", [("huggingface_token", HF_TOKEN)]),
    (f"shop: {SHOPIFY_TOKEN}", [("shopify_access_token", SHOPIFY_TOKEN)]),
    (f"databricks configure {DATABRICKS_TOKEN}", [("databricks_token", DATABRICKS_TOKEN)]),
    (f"session cookie {JWT}; Path=/", [("jwt", JWT)]),
    (f"token tail: {JWT_CUT}", [("jwt", JWT_CUT)]),
    (f"claims={JWT_CLAIMS[:40]}", [("jwt", JWT_CLAIMS[:40])]),
    # PEM: the whole block, multi-line, inside a JSON-ish string too; a body line logged alone,
    # after whatever the logger, the build step or the source code puts before it.
    (PEM_LINE, [("pem_body_line", PEM_LINE)]),
    (f"2024-05-01T10:00:00.123Z {PEM_LINE}", [("pem_body_line", PEM_LINE)]),
    (f"[build 12] step 3/7: {PEM_LINE}", [("pem_body_line", PEM_LINE)]),
    (f'    + "{PEM_LINE}\\n"', [("pem_body_line", PEM_LINE)]),
    (f'    "{PEM_LINE}",', [("pem_body_line", PEM_LINE)]),
    (PEM_BLOCK, [("pem_private_key", PEM_BLOCK)]),
    (f'"private_key": "{PEM_BLOCK}",', [("pem_private_key", PEM_BLOCK)]),
    # Authorization headers: the value only.
    (f"Authorization: Bearer {RANDOM_32}", [("http_authorization", RANDOM_32)]),
    (f"-H 'authorization: Basic {BASIC_VALUE}'", [("http_authorization", BASIC_VALUE)]),
    (f'"Authorization": "Bearer {JWT}"', [("jwt", JWT), ("http_authorization", JWT)]),
    # Credentials in URLs and connection strings: the password only.
    (
        f"postgres://app:{URL_PASSWORD}@db.internal:5432/orders",
        [("url_password", URL_PASSWORD)],
    ),
    ("redis://:k9Hq2vLm@cache:6379/0", [("url_password", "k9Hq2vLm")]),
    (
        "Server=db;Database=orders;User Id=app;Password=blue Moon 42;Encrypt=true;",
        [("connection_string_secret", "blue Moon 42")],
    ),
    (
        f"AccountName=acct;AccountKey={RANDOM_32}==;",
        [("connection_string_secret", RANDOM_32 + "==")],
    ),
    # Keyed secrets in the forms configs, env files, JSON, YAML, logfmt and CLIs use.
    ("password=hunter2x", [("generic_password", "hunter2x")]),
    ("db.password: 'Tr0ub4dor'", [("generic_password", "Tr0ub4dor")]),
    ('{"passwd": "s3cr3t-Value"}', [("generic_password", "s3cr3t-Value")]),
    ('{\\"password\\":\\"s3cr3t-Value\\"}', [("generic_password", "s3cr3t-Value")]),
    ("pwd := 'x9!mQ2#p'", [("generic_password", "x9!mQ2#p")]),
    (
        'password: "correct horse battery staple"',
        [("generic_password_quoted", "correct horse battery staple")],
    ),
    ("mysql --password hunter2x --host db", [("generic_password", "hunter2x")]),
    (f"export APP_SECRET={RANDOM_24}", [("generic_secret", RANDOM_24)]),
    (f"client_secret: {RANDOM_24}", [("generic_secret", RANDOM_24)]),
    (f"level=info user=bob token={RANDOM_24} took=3ms", [("generic_secret", RANDOM_24)]),
    (f"GET /v1/items?api_key={RANDOM_24}&page=2", [("generic_secret", RANDOM_24)]),
    (f"apikey: {UUID_VALUE}", [("generic_secret", UUID_VALUE)]),
    (f"X-Auth-Token: {RANDOM_24}", [("generic_secret", RANDOM_24)]),
    (f"private_key={RANDOM_32}", [("generic_secret", RANDOM_32)]),
    (f"ACCESS_KEY ?= {RANDOM_24}", [("generic_secret", RANDOM_24)]),
    (f'os.getenv("API_TOKEN", "{RANDOM_24}")', [("generic_secret", RANDOM_24)]),
    (f'<add key="DbPassword" value="{RANDOM_24}" />', [("generic_password", RANDOM_24)]),
    (f"cli login --token {RANDOM_24}", [("generic_secret", RANDOM_24)]),
    (f'HEROKU_KEY = "{UUID_VALUE}"', [("generic_vendor_key", UUID_VALUE)]),
    (f"<password>{RANDOM_24}</password>", [("xml_secret_element", RANDOM_24)]),
    (
        f"curl -u deploy:{CLI_PASSWORD} https://ci.example.com",
        [("cli_basic_auth_password", CLI_PASSWORD)],
    ),
    ('required username="alice" password="alice-secret";', [("generic_password", "alice-secret")]),
    (f'"access_token": "Bearer {RANDOM_24}"', [("generic_secret", RANDOM_24)]),
    (f"token: s.{VAULT_BODY}", [("generic_secret", f"s.{VAULT_BODY}")]),
    # Prompts and chat.
    ("my password is Tr0ub4dor&3 please keep it", [("prose_secret", "Tr0ub4dor&3")]),
    # The fallback: a generated token a few words after a secret-ish word.
    (f"here is the token for staging {RANDOM_32} ok", [("high_entropy_near_keyword", RANDOM_32)]),
]

NEAR_MISSES: list[str] = [
    # Placeholders, templates, masks and empty values.
    "password=<redacted>",
    "password=${DB_PASSWORD}",
    "password: {{ db_password }}",
    "token: ${{ secrets.GITHUB_TOKEN }}",
    "password=****",
    "password=xxx",
    "password=changeme",
    "password=",
    'password: ""',
    "password: null",
    "password = %(db_password)s",
    "password: [FILTERED]",
    "password: !vault |",
    "Authorization: Bearer <your token>",
    "Authorization: Bearer $API_KEY",
    "Authorization: Token **********",
    "api_key: YOUR_API_KEY_HERE",
    "ghp_" + "x" * 36,
    "AKIA" + "X" * 16,
    "AIzaSy" + "abcdefghijklmnopqrstuvwxyz0123456",
    "curl -u user:pass https://example.com",
    "curl -u $USER:$TOKEN https://example.com",
    # Booleans, counts, short words and names of other secrets.
    "password_reset=true",
    "token_count=42",
    "max_tokens: 4096",
    "passwordless login enabled",
    "auth: true",
    "token_type: bearer",
    "secret: my-app-secret",
    "secretName: my-app-secret",
    "token: GITHUB_TOKEN",
    "The password is incorrect",
    "password must be at least 8 characters",
    # Paths, code and type annotations.
    "pwd=/home/runner/work",
    "password = getPassword()",
    "user.getPassword()",
    "password = settings.DB_PASSWORD",
    "password: Optional[str] = None",
    "password: SecretStr",
    "auth: AuthTypes | None = None",
    '"cachemgr_passwd", "cache_peer",',
    "PuttyPassword=0",
    "s3_key: uploads/2024/01/file-abc123.png",
    "ssh_key: ssh-rsa AAAAB3NzaC1yc2E",
    "key_length = XSalsa20.key_length",
    # Keys that end like a secret but hold something else.
    f"csrf_token={RANDOM_32}",
    f"page_token={RANDOM_32}",
    f'publicToken = "{RANDOM_32}"',
    f"idempotency_key: {UUID_VALUE}",
    f"request_id={UUID_VALUE} trace_id={fake('trace', 32, LOWER_HEX)}",
    "sessionid: 0x14ede63a5a70002",
    "notes = io.jsonwebtoken:jjwt-jackson-0.11.2",
    # Hashes, fingerprints, numbers and ports in a credential-shaped position.
    "Accepted publickey for root from 10.0.0.5 port 22 ssh2: RSA SHA256:"
    + fake("fingerprint", 43, ALNUM + "+/"),
    "commit " + fake("sha", 40, LOWER_HEX),
    "docker run -u 1000:1000 alpine",
    "docker login -u bob --password-stdin registry.example.com",
    "mysql --password --user bob",
    "Failed password for invalid user admin from 10.0.0.5 port 22 ssh2",
    "https://url:8000 @something else",
    # Look-alike structures.
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",  # a bare header: the same in every token
    "A" * 64,
    "digest " + fake("b64-digest", 64, ALNUM + "+/"),  # a labelled digest
    f'<script integrity="sha384-{fake("sri", 64, ALNUM + "+/")}"></script>',
    B64_WORDS,  # base64 of words: text inside, not key material
    "public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI" + fake("ssh-pub", 43, ALNUM + "+/"),
    fake("sha256-b64", 43, ALNUM + "+/") + "=",  # a SHA-256 digest in base64: 44 characters
    # Android object descriptors in token slots.
    "opening app wtoken = AppWindowToken{9f4ef63 token=Token{a64f992 ActivityRecord{de9231d}}}",
    "kid " + b64url({"alg": "RS256", "typ": "JWT", "kid": "2024-key"}),
    "cursor=" + b64url({"o": 1}),  # too short to hold claims
    "-----BEGIN OPENSSH PRIVATE KEY----------END OPENSSH PRIVATE KEY-----",
    "-----BEGIN CERTIFICATE-----\n" + PEM_BODY + "\n-----END CERTIFICATE-----",
    "xoxb-12345-abcd234",
    "glpat-hello world",
]


def scan(text: str, recognizers: tuple[PatternRecognizer, ...] = ALL_SECRETS) -> set[Hit]:
    return {(f.recognizer, text[f.start : f.end]) for r in recognizers for f in r.scan(text)}


@pytest.mark.parametrize(("text", "expected"), HITS)
def test_secret_is_found_and_only_the_value_is_taken(text: str, expected: list[Hit]) -> None:
    found = scan(text)
    assert set(expected) <= found
    # Other recognizers may agree or take part of a value, but none may reach past it: the key
    # and the rest of the line survive.
    for recognizer, value in found:
        assert any(value in wanted for _, wanted in expected), (recognizer, value)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_look_alike_is_left_alone(text: str) -> None:
    assert scan(text) == set()


def test_every_recognizer_reports_secret_with_a_unique_name() -> None:
    names = [r.name for r in ALL_SECRETS]
    assert len(names) == len(set(names))
    assert {r.entity_type for r in ALL_SECRETS} == {"SECRET"}


def test_triggers_are_lower_case_so_the_pre_check_can_match() -> None:
    for recognizer in ALL_SECRETS:
        assert all(t == t.lower() for t in recognizer.triggers), recognizer.name


def test_line_without_triggers_runs_almost_no_pattern() -> None:
    text = "2024-05-01T10:00:00Z INFO worker-3 processed batch 1842 in 35 ms"
    lowered = text.lower()
    running = [r.name for r in ALL_SECRETS if r.applies(text, lowered, True)]
    assert len(running) <= 4, running


def test_multiple_secrets_on_one_line_are_all_found() -> None:
    text = f"token={RANDOM_24} password=hunter2x key={GOOGLE_KEY}"
    values = {value for _, value in scan(text)}
    assert values == {RANDOM_24, "hunter2x", GOOGLE_KEY}


def test_access_key_ids_in_keyed_slots_are_scrubbed() -> None:
    access_id = "su" + "K3mP9xQ2vL7w"
    text = f'sumologic.accessId = "{access_id}"'
    values = {text[f.start : f.end] for r in ALL_SECRETS for f in r.scan(text)}
    assert access_id in values
