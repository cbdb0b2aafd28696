"""Credentials in structures and the fallback: JWTs, PEM keys, headers, URLs, connection strings.

- Structures that carry a credential whatever the key: JWTs (a header, or claims, that decode to
  JSON), PEM private keys (the block, or one body line logged per record with any prefix),
  `Authorization:` headers, `scheme://user:PASS@host`, `;Password=…;`, `.npmrc` auth, curl's
  `-u user:pass`, pre-signed URL signatures.
- A fallback for long random tokens within a few characters after a secret-ish word.

Provider token formats live in `recognizers/providers.py`; keyed values (`password=…`,
`"client_secret": "…"`, CLI flags, SQL) in `recognizers/credentials.py`; what a secret value looks
like in `recognizers/secret_values.py`.
"""

from __future__ import annotations

import base64
import binascii
import json

import re2

from recognizers.base import PatternRecognizer
from recognizers.secret_values import (
    NOT_CREDENTIAL_QUALIFIERS,
    entropy,
    high_entropy,
    is_placeholder,
    password_value,
    random_token,
    secret_pattern,
    shape,
    token_value,
)


def _b64_json_object(part: str) -> bool:
    """True when a base64url segment decodes to a JSON object (a JWT/JWS/JWE header)."""
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return isinstance(json.loads(raw), dict)
    except (binascii.Error, ValueError):
        return False


# Header fields of a JWS/JWE: the same for every token a service issues, so a header alone
# carries nothing to protect.
_JOSE_HEADER_KEYS = frozenset(
    ("alg", "typ", "kid", "cty", "enc", "zip", "crit", "x5t", "x5u", "jku")
)
_JSON_KEY = re2.compile(r'"([A-Za-z0-9_$-]+)"\s*:')


def _b64_json_claims(part: str) -> bool:
    """A base64url segment, maybe cut short, that decodes to JSON text with more than header
    fields (`{"sub":"1234","name":"John Doe"…`)."""
    usable = part[: len(part) - len(part) % 4]
    try:
        text = base64.urlsafe_b64decode(usable).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return False
    if not text.startswith('{"') or sum(c.isprintable() for c in text) < 0.95 * len(text):
        return False
    return not set(_JSON_KEY.findall(text)) <= _JOSE_HEADER_KEYS


def _jwt(value: str) -> bool:
    """A JWT, or a piece of one: a JSON-object header and a non-trivial second segment; or any
    `eyJ` segment of 24+ characters that decodes to claims. Base64 is no encryption: a token cut
    by line wrapping or a broken header still shows its claims (user id, name, email)."""
    parts = value.split(".")
    if len(parts) >= 2 and len(parts[1]) >= 2 and _b64_json_object(parts[0]):
        return True
    return any(p.startswith("eyJ") and len(p) >= 24 and _b64_json_claims(p) for p in parts)


_MASKED = re2.compile(r"[xX]{4}|[*#•●]{3}|\.\.\.")


def _pem_block(value: str) -> bool:
    """A private key block with a body (not an empty BEGIN/END pair or a bare header)."""
    body = value.split("-----", 2)[-1].split("-----END", 1)[0]
    body_chars = sum(c.isalnum() or c in "+/=" for c in body)
    return body_chars >= 32 and not _MASKED.search(body)


_BASE64_LINE_SHAPE = shape(60, 78, mixed_case=True, digit=True)
_PRINTABLE = frozenset(range(32, 127)) | {9, 10, 13}


def _decodes_to_binary(value: str) -> bool:
    """DER key material is binary; base64 of words, JSON or a config decodes to text."""
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return True
    return sum(b in _PRINTABLE for b in raw) < 0.75 * len(raw)


def _pem_body_line(value: str) -> bool:
    """One body line of a key logged on its own: base64, high entropy, binary inside."""
    return _BASE64_LINE_SHAPE(value) and entropy(value) >= 4.5 and _decodes_to_binary(value)


def _url_password(value: str) -> bool:
    """A URL password, unless it is really a port (`host:8080@`) or a placeholder."""
    if value.isdigit() and len(value) <= 5:
        return False
    return not is_placeholder(value) and not value.startswith("$")


# ---------------------------------------------------------------------------------------------
# Structures that carry a credential: JWTs, PEM blocks, headers, URLs, connection strings
# ---------------------------------------------------------------------------------------------

_STRUCTURED_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    secret_pattern("jwt", r"\beyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){0,4}", ("eyj",), _jwt),
    secret_pattern(
        "pem_private_key",
        # The whole block; or, when the record ends before END, the header and its body so far.
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[ A-Z0-9]*PRIVATE "
        r"KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,.-]*)",
        ("-----begin",),
        _pem_block,
        score=0.95,
    ),
    secret_pattern(
        "pem_body_line",
        # A key printed one line per log record: the BEGIN line is caught above, but each body
        # line (64 base64 characters, 76 in MIME) is a record of its own, after whatever the
        # logger, build step or source line puts before it (a time stamp, `+ "`, a quote).
        # Certificates (public) and labelled digests (`sha384:`, `digest`, `integrity=`) are
        # taken whole by the first alternative, which has no value group.
        # SSH public keys (`ssh-ed25519 AAAA…`) are public too.
        r"(?:-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----|"
        r"(?i:digest|hash|sha-?\d+|checksum|integrity|fingerprint|etag|md5)[^\r\n]{0,12}?"
        r"[\s:=\"'-]+[A-Za-z0-9+/]{60,76}={0,2}|"
        r"(?:ssh-[a-z0-9]+|ecdsa-sha2-[a-z0-9]+|sk-ssh-[a-z0-9@.]+)[ \t]+AAAA[A-Za-z0-9+/]+={0,3}|"
        r"(?:^|[\s\"'`=:>(,|\]])([A-Za-z0-9+/]{60,76}={0,2})(?:$|[\s\"'`,;)|\\]))",
        (),
        _pem_body_line,
        value_group=1,
        needs_digit=True,
    ),
    secret_pattern(
        "aws_secret_access_key",
        r"(?i)(?:aws[_.-]?secret(?:[_.-]?access)?[_.-]?key|secret[_.-]?access[_.-]?key)\\?[\"']?"
        r"[ \t]*(?:=>|:?=|:)[ \t]*\\?[\"']?([A-Za-z0-9/+=]+)",
        ("secret",),
        lambda v: len(v) == 40 and random_token(v),
        value_group=1,
    ),
    secret_pattern(
        "http_authorization",
        # `Authorization: Bearer X`, `Basic X`, `Token X`, or a bare `Authorization: X`.
        r"(?i)\b(?:proxy-)?authorization\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?"
        r"(?:[A-Za-z][A-Za-z0-9_-]*[ \t]+)?([^\s\"'\\,;{\[<(][^\s\"'\\,;]*)",
        ("authorization",),
        lambda v: len(v) >= 8 and token_value(v),
        value_group=1,
    ),
    secret_pattern(
        "url_password",
        r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@\"'<>]*:([^\s/#\"'<>]+)@",
        ("://",),
        _url_password,
        value_group=1,
    ),
    secret_pattern(
        "connection_string_secret",
        # ADO.NET/ODBC/Azure: `...;Password=two words;` or `AccountKey=...==`; ends at `;`/quote.
        r"(?i)(?:^|[\"']|;[ \t]*)(?:password|pwd|accountkey|sharedaccesskey|sharedsecret)"
        r"[ \t]*=[ \t]*([^;\"'\s{$%<](?:[^;\"'\r\n]*[^;\"'\s])?)[ \t]*[;\"']",
        ("password", "pwd", "accountkey", "sharedaccesskey", "sharedsecret"),
        password_value,
        value_group=1,
    ),
    secret_pattern(
        "npmrc_auth",
        r"//[^\s/:]+(?:/[^\s:]*)?/:_(?:authToken|auth|password)[ \t]*=[ \t]*[\"']?([^\s\"']+)",
        (":_auth", ":_password"),
        password_value,
        value_group=1,
    ),
    secret_pattern(
        "bundler_credentials",
        # Bundler gem-server credentials: `BUNDLE_GEMS__EXAMPLE__COM=user:password`.
        r"\bBUNDLE_[A-Z0-9_]*__[A-Z0-9_]+\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?"
        r"([^\s\"':]+:[^\s\"';&]+)",
        ("bundle_",),
        lambda v: not is_placeholder(v) and "$" not in v,
        value_group=1,
    ),
    secret_pattern(
        "cli_basic_auth_password",
        # `curl -u user:pass`, `--user "user":"pass"`: the password part (not `<user:pass>`).
        r"(?:^|\s)(?:-u|--user)(?:[ \t]+|=)[\"']?(?:[^\s\"':<[][^\s\"':]*)?[\"']?:"
        r"[\"']?([^\s\"']+)",
        ("-u", "--user"),
        lambda v: not v.isdigit() and password_value(v.strip("{}")),
        value_group=1,
    ),
    secret_pattern(
        "cli_basic_auth_token_user",
        # `curl -u sk_test_…:` - an API key as user name with an empty password.
        r"(?:^|\s)(?:-u|--user)(?:[ \t]+|=)[\"']?([^\s\"':]+):(?:[\"']|\s|$)",
        ("-u", "--user"),
        lambda v: token_value(v) and entropy(v) >= 3.0,
        value_group=1,
    ),
    secret_pattern(
        "signed_url_signature",
        # Pre-signed URLs are bearer credentials until they expire (S3, GCS, Azure SAS).
        r"(?i)[?&](?:x-amz-signature|x-goog-signature|sig)=([A-Za-z0-9%+/_~.-]{16,})",
        ("signature=", "sig="),
        random_token,
        value_group=1,
    ),
)

_FALLBACK_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    secret_pattern(
        "high_entropy_near_keyword",
        # The first alternative (no value group) swallows anti-CSRF, paging and public tokens and
        # `token_id`-style names.
        rf"(?i)(?:(?:{NOT_CREDENTIAL_QUALIFIERS})[_.-]?(?:token|key)|"
        r"(?:credentials?|token|key|secret)[_.-]?(?:ids?|names?|types?|length|size|count|url|uri)"
        r"\b)[^\r\n]{0,40}?[\s\"'=:(\[,|>][A-Za-z0-9+/_~.-]{20,}|"
        r"(?:secret|token|passw(?:or)?d|credential|api[ _-]?key|apikey|bearer|auth)"
        r"[^\r\n]{0,40}?[\s\"'=:(\[,|>]"
        # Key fingerprints (`SHA256:…`, `MD5:…`) are public: taken whole, without a value group.
        r"(?:(?:sha\d*|md5):[A-Za-z0-9+/:=]+|([A-Za-z0-9+/_~.-]{20,}={0,2}))",
        ("secret", "token", "passw", "credential", "api", "bearer", "auth"),
        high_entropy,
        value_group=1,
        score=0.6,
        needs_digit=True,
        ignore_case=True,
    ),
)

SECRET_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    *_STRUCTURED_RECOGNIZERS,
    *_FALLBACK_RECOGNIZERS,
)
