"""Credentials: vendor tokens, private keys, auth headers, URL passwords and `key=value` secrets.

Three families, from most to least certain:
- Vendor formats (`ghp_…`, `AKIA…`, `xoxb-…`, `sk_live_…`, JWTs, PEM blocks). The prefix says what
  the token is; the validator checks the real length and rejects obvious fakes (`ghp_xxxx…`,
  `AIza` + the alphabet), because nothing else vouches for an unkeyed match.
- Keyed values: `password=…`, `"client_secret": "…"`, `export API_TOKEN=…`, `--token …`,
  `Authorization: Bearer …`, `scheme://user:PASS@host`, `;Password=…;`. The value is the finding and
  the key survives. The key vouches for the value, so only explicit non-secrets are rejected:
  templates (`${VAR}`, `{{ var }}`, `<redacted>`, `%(pw)s`), masks (`****`, `xxxx`), booleans and
  type names, descriptive placeholders (`changeme`, `your_token_here`), file paths, code
  (`getPassword()`, `settings.SECRET`, `SecretStr`) and names of other secrets (`DB_PASSWORD`; in
  token slots also `my-app-secret`). `changeme` and a value equal to its slot name
  (`password=password`, `user:pass@`) count as placeholders: published defaults protect nothing.
- A fallback for long random tokens within a few characters after a secret-ish word.

RE2 has no look-around, so keys that end in a secret word but hold no secret (`csrf_token`,
`public_key`, `page_token`) are matched by a first alternative that has no value group: RE2 prefers
the first alternative at a position, the match consumes the key, and `find` skips it because the
value group did not take part. Key words must end the key (`password_reset`, `token_count`,
`passwordless` never match) and values stop at whitespace, quotes, `,;&` and closing brackets.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections import Counter
from itertools import groupby, pairwise

import re2

from recognizers.base import PatternRecognizer, Validator

_ENTITY = "SECRET"

# ---------------------------------------------------------------------------------------------
# Value checks
# ---------------------------------------------------------------------------------------------

# Slot fillers that are not secrets: booleans, nulls, type names, slot names, placeholder words.
_NOT_SECRET_WORDS = frozenset(
    (
        "true", "false", "yes", "no", "on", "off", "null", "nil", "none", "undefined", "empty",
        "blank", "required", "optional", "string", "str", "int", "integer", "bool", "boolean",
        "number", "object", "any", "bytes", "text", "char", "varchar", "secretstr", "unknown",
        "unset", "notset", "default", "value", "env", "todo", "tbd", "fixme", "n/a", "na",
        "password", "passwd", "pass", "pwd", "passphrase", "secret", "secrets", "token", "tokens",
        "key", "apikey", "api_key", "credential", "credentials", "auth", "redacted", "hidden",
        "masked", "removed", "filtered", "omitted", "sanitized", "censored", "protected",
        "changeme", "changeit", "change_me", "example", "sample", "placeholder", "dummy", "test",
        "testing", "foo", "bar", "baz", "foobar", "qwerty", "enter", "confirm", "new", "old",
        "current", "repeat", "show", "hide", "forgot", "reset", "login", "submit", "cancel",
        "save", "and", "or", "to", "for", "with", "of", "in", "is", "are", "was", "the", "option",
        "options", "flag", "flags", "argument", "arguments", "parameter", "parameters", "field",
        "fields",
    )
)  # fmt: skip
# Substrings that mark a value as a described slot rather than a filled one.
_DESCRIPTIVE = (
    "changeme", "change_me", "change-me", "placeholder", "redacted", "replace_me", "replace-me",
    "replaceme", "example", "dummy", "insert_", "insert-", "your_", "your-", "yourpass",
    "yourtoken", "yoursecret", "yourkey", "my_password", "mypassword", "my_secret", "mysecret",
    "my_token", "my_key", "_here", "-here", "<", ">",
)  # fmt: skip
# Unkeyed vendor tokens must also avoid these: a real random token spells no English word.
_DESCRIPTIVE_TOKEN = (*_DESCRIPTIVE, "here", "your")

_MASK_RUN = re2.compile(r"[xX]{4}|[*#•●]{3}|\.\.\.|_{6}")
_TEMPLATE = re2.compile(
    r"\$\{|\{\{|\}\}|<%|%>|#\{|\$\(|%\(|\[\[|@\{|"  # template / interpolation openers
    r"^\$\w+$|^%\w+%$|^\{[A-Za-z_. -]*\}$|^\[[A-Za-z_. -]*\]$|^:[A-Za-z_]\w*$|^@[A-Za-z_]\w*$|"
    r"^!\w+"
)
# `settings.SECRET`, `var.db_password`, `getPassword()`, `Optional[str]`, `List<String>`.
_DOTTED_NAME = re2.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
_CALL_OR_TYPE = re2.compile(r"^[A-Za-z_][\w.]*[\[(<]")
# Java/Android object descriptors: `AppWindowToken{9f4ef63 …}`, `Token{a64f992`.
_OBJECT_DESCRIPTOR = re2.compile(r"^[A-Za-z_][\w.$]*\{[0-9a-f]{6,8}\b")
# `USE_CLIENT_DEFAULT`, `USERNAME`: constant and variable names, not values.
_CONSTANT = re2.compile(r"^[A-Z][A-Z]+(?:_[A-Z]+)*$")
# `SecretBytes`, `clientAuth`, `index_info`: words glued into a name (see _is_identifier).
_LETTERS_ONLY = re2.compile(r"^_?[A-Za-z][A-Za-z_]*$")
_NAME_WORD = re2.compile(r"[A-Z]?[a-z]{2,}")
# `country_code=680` after `id='PW', `: the next assignment, not a value.
_NEXT_ASSIGNMENT = re2.compile(r"^[A-Za-z_][\w.-]*=[^=]")
_NUMBER_OR_VERSION = re2.compile(r"^0[xX][0-9A-Fa-f]+$|\d\.\d+\.\d")
# Absolute, home, relative or drive paths; or `dir/dir/file.ext`.
_PATH = re2.compile(
    r"^(?:~?/|\.\.?/|[A-Za-z]:[\\/])[\w./~ -]*$|^[\w.-]+(?:/[\w.-]+)+\.[A-Za-z0-9]{1,5}$"
)
_UUID = re2.compile(r"^[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$")
# `DB_PASSWORD` (an env var) or `github-token` (a Kubernetes secret or key name).
_ENV_NAME = re2.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_KEBAB_OR_SNAKE_NAME = re2.compile(r"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+$")
_SECRET_WORDS = ("pass", "pwd", "secret", "token", "key", "cred", "auth")
_MESSAGE_WORDS = frozenset(
    (
        "must", "should", "cannot", "can't", "please", "enter", "field", "required", "invalid",
        "incorrect", "wrong", "expired", "missing", "not", "too", "characters", "match", "least",
        "blank", "empty", "is", "are",
    )
)  # fmt: skip


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in Counter(value).values())


def _sequential_share(value: str) -> float:
    """Share of characters inside ascending runs of 4+ (`abcd`, `1234`): typed, not generated."""
    lowered = value.lower()
    in_runs, run = 0, 1
    for previous, current in pairwise(lowered):
        if ord(current) == ord(previous) + 1:
            run += 1
            continue
        in_runs += run if run >= 4 else 0
        run = 1
    in_runs += run if run >= 4 else 0
    return in_runs / len(value) if value else 0.0


def _is_placeholder(value: str, descriptive: tuple[str, ...] = _DESCRIPTIVE) -> bool:
    """Templates, masks, slot words and descriptions: values that hold nothing to protect."""
    lowered = value.lower()
    if lowered.strip(".,;:") in _NOT_SECRET_WORDS or len(set(lowered)) <= 2:
        return True
    if _MASK_RUN.search(value) or _TEMPLATE.search(value):
        return True
    return any(word in lowered for word in descriptive)


def _generated_segment(segment: str) -> bool:
    """16+ characters mixing digits and both cases: no one names a variable like that."""
    return (
        len(segment) >= 16
        and any(c.isdigit() for c in segment)
        and any(c.islower() for c in segment)
        and any(c.isupper() for c in segment)
    )


def _is_identifier(value: str) -> bool:
    """Letters only and mostly lower-case words (`SecretBytes`, `clientAuth`): a name from code.

    Only for token-like slots: about 1 in 500 random 24-character tokens reads like this; human
    passwords often do (`BlueSky`), so password slots do not apply it.
    """
    if not _LETTERS_ONLY.match(value):
        return False
    words = _NAME_WORD.findall(value)
    return len(words) >= 2 and sum(len(w) for w in words) >= 0.7 * len(value)


def _is_code(value: str) -> bool:
    """`settings.SECRET`, `getPassword()`, `Optional[str]`, `USERNAME`; not Vault's `s.<random>`."""
    if _CALL_OR_TYPE.match(value) or _CONSTANT.match(value) or _NEXT_ASSIGNMENT.match(value):
        return True
    if _OBJECT_DESCRIPTOR.match(value):
        return True
    if not _DOTTED_NAME.match(value):
        return False
    parts = value.split(".")
    return not (len(parts) == 2 and _generated_segment(parts[1]))


def _is_reference(value: str) -> bool:
    """Paths, code, URLs, CLI flags and env var names of secrets (`DB_PASSWORD`): pointers."""
    if _PATH.match(value) or _is_code(value) or "://" in value or value.startswith("--"):
        return True
    return bool(_ENV_NAME.match(value)) and _mentions_secret(value)


def _mentions_secret(value: str) -> bool:
    lowered = value.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _password_value(value: str) -> bool:
    """A keyed password: anything of 4+ characters that is not a placeholder or a reference.

    `alice-secret` stays a password; in token slots such kebab names are references (below).
    """
    return len(value) >= 4 and not _is_placeholder(value) and not _is_reference(value)


def _token_value(value: str) -> bool:
    """A keyed token: 6+ characters, not all digits, with a digit or mixed case (not a word)."""
    if len(value) < 6 or value.isdigit() or _NUMBER_OR_VERSION.search(value):
        return False
    if _is_identifier(value):
        return False
    if not _password_value(value):
        return False
    if _KEBAB_OR_SNAKE_NAME.match(value) and _mentions_secret(value):
        return False  # `secret: my-app-secret`, `token: github-token`: names, not values
    has_digit = any(c.isdigit() for c in value)
    mixed = any(c.islower() for c in value) and any(c.isupper() for c in value[1:])
    return (has_digit or mixed) and entropy(value) >= 2.5


def _key_value(value: str) -> bool:
    """Behind a vendor-named `*_KEY`: a UUID, or 20+ random-looking characters with digits."""
    if _UUID.match(value):
        return _token_value(value)
    return (
        len(value) >= 20
        and _token_value(value)
        and any(c.isdigit() for c in value)
        and entropy(value) >= 3.0
    )


def _passphrase_value(value: str) -> bool:
    """A quoted password with spaces: a few words, not a validation message."""
    words = value.lower().split()
    if len(value) < 8 or not 1 <= len(words) <= 5 or value.rstrip()[-1:] in ".!?":
        return False
    return not _MESSAGE_WORDS.intersection(words) and _password_value(value)


def _prose_value(value: str) -> bool:
    """`my password is X`: X must not read as a word, so it needs a digit, symbol or inner caps."""
    if len(value) < 6 or not _password_value(value):
        return False
    return any(not c.isalpha() for c in value) or any(c.isupper() for c in value[1:])


def _longest_repeat(value: str) -> int:
    return max((len(list(run)) for _, run in groupby(value)), default=0)


def _random_token(value: str) -> bool:
    """An unkeyed candidate must look generated: no placeholder, no typed sequence or long run of
    one character, and some variety."""
    if _is_placeholder(value, _DESCRIPTIVE_TOKEN) or _sequential_share(value) >= 0.5:
        return False
    return _longest_repeat(value) < 6 and len(set(value)) >= min(10, len(value) // 3)


def _shape(
    min_len: int, max_len: int = 4096, *, mixed_case: bool = False, digit: bool = False
) -> Validator:
    """A vendor token check: total length (prefix included) in range, and random-looking."""

    def check(value: str) -> bool:
        if not min_len <= len(value) <= max_len:
            return False
        if mixed_case and not (any(c.islower() for c in value) and any(c.isupper() for c in value)):
            return False
        if digit and not any(c.isdigit() for c in value):
            return False
        return _random_token(value)

    return check


def _high_entropy(value: str) -> bool:
    """The fallback: a long generated-looking token, not a path, dotted name, UUID or word."""
    if len(value) < 20 or _UUID.match(value) or _is_reference(value):
        return False
    if value.count("/") >= 2 and not ("+" in value or value.endswith("=")):
        return False
    if value.count(".") >= 2 or not any(c.isdigit() for c in value):
        return False
    is_hex = all(c in "0123456789abcdefABCDEF" for c in value)
    if not is_hex and not (any(c.islower() for c in value) and any(c.isupper() for c in value)):
        return False
    return entropy(value) >= (3.3 if is_hex else 3.5) and _random_token(value)


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


def _pem_block(value: str) -> bool:
    """A private key block with a body (not an empty BEGIN/END pair or a bare header)."""
    body = value.split("-----", 2)[-1].split("-----END", 1)[0]
    body_chars = sum(c.isalnum() or c in "+/=" for c in body)
    return body_chars >= 32 and not _MASK_RUN.search(body)


_BASE64_LINE_SHAPE = _shape(60, 78, mixed_case=True, digit=True)


def _pem_body_line(value: str) -> bool:
    return _BASE64_LINE_SHAPE(value) and entropy(value) >= 4.5


def _prefixed_json(value: str) -> bool:
    """`ops_eyJ…`, `glc_eyJ…`, `sntrys_eyJ…`: a vendor prefix over base64 JSON, 40+ chars."""
    return len(value) >= 40 and _random_token(value.split("_", 1)[1])


# Body lengths by prefix: fixed for trigger (40 hex), OAuth secret (64), incoming mail (25);
# 50+ for agent tokens; 20 for legacy tokens and up to a few hundred for routable ones.
_GITLAB_BODY = {"glptt": (40, 40), "gloas": (64, 64), "glimt": (25, 25), "glagent": (50, 300)}


def _gitlab(value: str) -> bool:
    prefix, _, body = value.partition("-")
    if value.startswith("GR1348941"):
        prefix, body = "GR1348941", value[9:]
    low, high = _GITLAB_BODY.get(prefix, (20, 300))
    return low <= len(body) <= high and _random_token(body)


def _slack(value: str) -> bool:
    """Slack: the last dash segment is the random part; it has letters and 8+ characters."""
    tail = value.rsplit("-", 1)[-1]
    return len(tail) >= 8 and any(c.isalpha() for c in tail) and not _is_placeholder(value)


def _not_anthropic(value: str) -> bool:
    """OpenAI-style `sk-` keys (compatible providers use them too); Anthropic's have a rule."""
    return not value.startswith("sk-ant-") and len(value) >= 32 and _high_entropy(value[3:])


def _url_password(value: str) -> bool:
    """A URL password, unless it is really a port (`host:8080@`) or a placeholder."""
    if value.isdigit() and len(value) <= 5:
        return False
    return not _is_placeholder(value) and not value.startswith("$")


def _sendgrid(value: str) -> bool:
    parts = value.split(".")
    return len(parts) == 3 and len(parts[1]) == 22 and len(parts[2]) == 43 and _random_token(value)


def _huggingface(value: str) -> bool:
    """`hf_` or `api_org_` and 34 random letters of both cases."""
    body = value.rsplit("_", 1)[-1]
    return len(body) == 34 and not body.islower() and not body.isupper() and _random_token(body)


# ---------------------------------------------------------------------------------------------
# Vendor formats (case-sensitive; triggers are lower-case prefixes)
# ---------------------------------------------------------------------------------------------


def _vendor(
    name: str,
    pattern: str,
    triggers: tuple[str, ...],
    validator: Validator,
    *,
    value_group: int = 0,
    score: float = 0.9,
    needs_digit: bool = False,
) -> PatternRecognizer:
    return PatternRecognizer(
        name=name,
        entity_type=_ENTITY,
        pattern=pattern,
        score=score,
        value_group=value_group,
        triggers=triggers,
        needs_digit=needs_digit,
        validator=validator,
    )


_AWS_PREFIXES = ("akia", "asia", "abia", "acca", "a3t", "agpa", "aida", "aipa", "anpa", "anva",
                 "aroa", "apka")  # fmt: skip

# The services seen most in logs, configs and prompts: one recognizer each, with its own trigger.
_VENDOR_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    _vendor(
        "aws_access_key_id",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]+",
        _AWS_PREFIXES,
        _shape(20, 20),
    ),
    _vendor("github_token", r"\bgh[pousr]_[A-Za-z0-9]+", ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
            _shape(40, 255)),
    _vendor("github_fine_grained_pat", r"\bgithub_pat_[A-Za-z0-9_]+", ("github_pat_",),
            _shape(60, 255)),
    _vendor(
        "gitlab_token",
        r"\b(?:(?:glpat|gldt|glptt|glrt|glrtr|glft|glcbt|glimt|glagent|gloas|glsoat|gltst|glffct"
        r"|glwt)-|GR1348941)[A-Za-z0-9_.-]+",
        ("glpat-", "gldt-", "glptt-", "glrt", "glft-", "glcbt-", "glimt-", "glagent-", "gloas-",
         "glsoat-", "gltst-", "glffct-", "glwt-", "gr1348941"),
        _gitlab,
    ),
    _vendor("slack_token", r"\bxox[abposre]-(?:\d-)?\d{6,14}-(?:\d{6,14}-){0,3}[A-Za-z0-9]+",
            ("xox",), _slack),
    _vendor(
        "slack_webhook_url",
        r"hooks\.slack\.com/(?:services|workflows|triggers)/(T[A-Z0-9]+/[A-Z0-9]+/[A-Za-z0-9]+)",
        ("hooks.slack.com",),
        _shape(20),
        value_group=1,
    ),
    _vendor("stripe_secret_key", r"\b[rs]k_(?:live|test|prod)_[A-Za-z0-9]+",
            ("sk_live_", "sk_test_", "sk_prod_", "rk_live_", "rk_test_", "rk_prod_"),
            _shape(24, 255)),
    # Publishable keys are public by design (they ship in web pages): reported at a low score.
    _vendor("stripe_publishable_key", r"\bpk_(?:live|test)_[A-Za-z0-9]+", ("pk_live_", "pk_test_"),
            _shape(24, 255), score=0.3),  # public by design: below the default threshold
    _vendor("google_api_key", r"\bAIza[A-Za-z0-9_-]+", ("aiza",), _shape(39, 39)),
    _vendor("anthropic_api_key", r"\bsk-ant-(?:api|admin|sid|oat|ort)\d\d-[A-Za-z0-9_-]+",
            ("sk-ant-",), _shape(40)),
    _vendor("openai_api_key", r"\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]+", ("sk-",),
            _not_anthropic),
    _vendor("huggingface_token", r"\b(?:hf_|api_org_)[A-Za-z]+", ("hf_", "api_org_"),
            _huggingface),
    _vendor("npm_token", r"\bnpm_[A-Za-z0-9]+", ("npm_",), _shape(40, 40, digit=True)),
    _vendor("pypi_token", r"\bpypi-AgE[A-Za-z0-9_-]+", ("pypi-age",), _shape(120)),
    _vendor("sendgrid_api_key", r"\bSG\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", ("sg.",), _sendgrid),
    _vendor("twilio_key_or_sid", r"\b(?:AC|SK)[0-9a-f]{32}\b", ("ac", "sk"),
            _shape(34, 34, digit=True), needs_digit=True),
    _vendor("azure_ad_client_secret",
            r"(?:^|[^\w~.-])([A-Za-z0-9_~.-]{3}\dQ~[A-Za-z0-9_~.-]{31,34})(?:$|[^\w~.-])",
            ("q~",), _shape(37, 40, digit=True), value_group=1),
    # Discord: base64 of the numeric bot id (so M, N or O first), a 6-char time, an HMAC.
    _vendor("discord_bot_token", r"\b[MNO][A-Za-z0-9_-]{23,27}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]+",
            (".",), _shape(59, 80, mixed_case=True, digit=True), needs_digit=True),
    _vendor("telegram_bot_token", r"\b\d{8,10}:AA[A-Za-z0-9_-]+", (":aa",),
            lambda v: 35 <= len(v.split(":", 1)[1]) <= 36 and _random_token(v), needs_digit=True),
    # 1Password service accounts (ops_), Grafana Cloud (glc_), Sentry org tokens (sntrys_)...
    _vendor("prefixed_json_token", r"\b[a-z][a-z0-9]{1,9}_eyJ[A-Za-z0-9+/_=-]+", ("_eyj",),
            _prefixed_json),
)  # fmt: skip

# The long tail: one recognizer, one RE2 pass, so the per-line cost does not grow with the list.
# (vendor, format): the format is prefix plus body; the check is the real length and randomness.
_TOKEN_FORMATS: tuple[tuple[str, str, Validator], ...] = (
    ("slack config", r"xoxe(?:\.xox[bp])?-\d-[A-Za-z0-9]+", _shape(40)),
    ("slack app", r"xapp-\d-[A-Z0-9]+-\d+-[a-z0-9]+", _shape(40)),
    ("stripe webhook", r"whsec_[A-Za-z0-9]+", _shape(38)),
    ("google oauth secret", r"GOCSPX-[A-Za-z0-9_-]+", _shape(35, 35)),
    ("google oauth token", r"ya29\.[A-Za-z0-9_-]+", _shape(40)),
    ("perplexity", r"pplx-[A-Za-z0-9]+", _shape(53, 53)),
    ("groq", r"gsk_[A-Za-z0-9]+", _shape(56, 56)),
    ("xai", r"xai-[A-Za-z0-9]+", _shape(84, 84)),
    ("replicate", r"r8_[A-Za-z0-9]+", _shape(40, 40)),
    ("mailchimp", r"[0-9a-f]{32}-us\d{1,2}\b", _shape(35)),
    ("mailgun", r"key-[0-9a-f]{32}\b", _shape(36, 36, digit=True)),
    ("shopify", r"shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32}\b", _shape(38, 38)),
    ("digitalocean", r"do[opr]_v1_[a-f0-9]{64}\b", _shape(71, 71)),
    ("databricks", r"dapi[a-f0-9]{32}(?:-\d)?\b", _shape(36, 38)),
    ("atlassian", r"ATATT3[A-Za-z0-9_=-]+", _shape(150)),
    ("terraform cloud", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9_=-]+", _shape(80)),
    ("vault", r"hv[sbr]\.[A-Za-z0-9_-]+", _shape(28)),
    ("heroku", r"HRKU-[A-Za-z0-9_-]+", _shape(60)),
    ("fly.io", r"fm[12][ar]?_[A-Za-z0-9+/]+={0,3}", _shape(100)),
    ("fly.io org", r"fo1_[A-Za-z0-9_-]+", _shape(47, 47)),
    ("42 intra", r"s-s4t2(?:ud|af)-[a-f0-9]{64}\b", _shape(73, 73)),
    ("infracost", r"ico-[A-Za-z0-9]+", _shape(36, 36, mixed_case=True)),
    ("notion", r"(?:ntn_\d{11}|secret_)[A-Za-z0-9]+", _shape(50, 50, mixed_case=True)),
    ("octopus deploy", r"API-[A-Z0-9]+", _shape(30, 30, digit=True)),
    ("openshift", r"sha256~[A-Za-z0-9_-]+", _shape(50, 50)),
    ("sonarqube", r"sq[apu]_[A-Za-z0-9]+", _shape(44, 44)),
    ("sourcegraph", r"sgp_(?:[a-fA-F0-9]{16}_|local_)?[a-fA-F0-9]{40}\b", _shape(44)),
    ("sentry user", r"sntryu_[a-f0-9]{64}\b", _shape(71, 71)),
    ("1password secret key",
     r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})(?:-[A-Z0-9]{5}){3}\b", _shape(34)),
    ("grafana service account", r"glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b", _shape(46, 46)),
    ("square", r"sq0(?:atp|csp|idp)-[A-Za-z0-9_-]+", _shape(29)),
    # Facebook user/page tokens (EAA…) and Square access tokens (EAAA…) share the prefix.
    ("facebook/square", r"EAA[A-Za-z0-9_-]+", _shape(60, 400, mixed_case=True, digit=True)),
    ("facebook app", r"\d{15,16}\|[A-Za-z0-9_-]+", _shape(40, 44, mixed_case=True)),
    ("artifactory", r"AKCp[A-Za-z0-9]+", _shape(73, 73)),
    ("artifactory reference", r"cmVmd[A-Za-z0-9]+", _shape(64, 64)),
    ("firebase messaging", r"AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]+", _shape(140)),
    ("aws bedrock", r"ABSK[A-Za-z0-9+/]+={0,2}", _shape(100)),
    ("alibaba", r"LTAI[A-Za-z0-9]+", _shape(24, 24)),
    ("dropbox", r"sl\.[A-Za-z0-9_-]+", _shape(130)),
    ("linear", r"lin_api_[A-Za-z0-9]+", _shape(48, 48)),
    ("postman", r"PMAK-[a-f0-9]{24}-[a-f0-9]{34}\b", _shape(64)),
    ("new relic", r"NRAK-[A-Z0-9]+", _shape(32, 32)),
    ("doppler", r"dp\.(?:pt|st|sa|ct|scim|audit)\.[A-Za-z0-9]+", _shape(45)),
    ("pulumi", r"pul-[a-f0-9]{40}\b", _shape(44, 44)),
    ("prefect", r"pnu_[A-Za-z0-9]+", _shape(40, 40)),
    ("readme", r"rdme_[a-z0-9]+", _shape(75, 75)),
    ("age", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}\b", _shape(74, 74)),
    ("braintree", r"access_token\$(?:production|sandbox)\$[a-z0-9]{16}\$[a-f0-9]{32}\b",
     _shape(60)),
)  # fmt: skip
_TOKEN_FORMAT_CHECKS = tuple((re2.compile(fmt), check) for _, fmt, check in _TOKEN_FORMATS)


def _known_token_format(value: str) -> bool:
    """The format that matched decides; the alternation does not say which one it was."""
    return any(regex.fullmatch(value) and check(value) for regex, check in _TOKEN_FORMAT_CHECKS)


_VENDOR_RECOGNIZERS += (
    _vendor(
        "vendor_api_token",
        r"\b(?:" + "|".join(fmt for _, fmt, _ in _TOKEN_FORMATS) + ")",
        (),
        _known_token_format,
        needs_digit=True,
    ),
)


# ---------------------------------------------------------------------------------------------
# Structures that carry a credential: JWTs, PEM blocks, headers, URLs, connection strings
# ---------------------------------------------------------------------------------------------

_STRUCTURED_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    _vendor("jwt", r"\beyJ[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]*){0,4}", ("eyj",), _jwt),
    _vendor(
        "pem_private_key",
        # The whole block; or, when the record ends before END, the header and its body so far.
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[ A-Z0-9]*PRIVATE "
        r"KEY(?: BLOCK)?-----|[A-Za-z0-9+/=\s\\:,.-]*)",
        ("-----begin",),
        _pem_block,
        score=0.95,
    ),
    _vendor(
        "pem_body_line",
        # A key printed one line per log record: the BEGIN line is caught above, but each body
        # line (64 base64 characters, 76 in MIME) is a record of its own with no context.
        r"^[ \t]*([A-Za-z0-9+/]{60,76}={0,2})[ \t]*$",
        (),
        _pem_body_line,
        value_group=1,
        needs_digit=True,
    ),
    _vendor(
        "aws_secret_access_key",
        r"(?i)(?:aws[_.-]?secret(?:[_.-]?access)?[_.-]?key|secret[_.-]?access[_.-]?key)\\?[\"']?"
        r"[ \t]*(?:=>|:?=|:)[ \t]*\\?[\"']?([A-Za-z0-9/+=]+)",
        ("secret",),
        lambda v: len(v) == 40 and _random_token(v),
        value_group=1,
    ),
    _vendor(
        "http_authorization",
        # `Authorization: Bearer X`, `Basic X`, `Token X`, or a bare `Authorization: X`.
        r"(?i)\b(?:proxy-)?authorization\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?"
        r"(?:[A-Za-z][A-Za-z0-9_-]*[ \t]+)?([^\s\"'\\,;{\[<(][^\s\"'\\,;]*)",
        ("authorization",),
        lambda v: len(v) >= 8 and _token_value(v),
        value_group=1,
    ),
    _vendor(
        "url_password",
        r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/?#@\"'<>]*:([^\s/?#\"'<>]+)@",
        ("://",),
        _url_password,
        value_group=1,
    ),
    _vendor(
        "connection_string_secret",
        # ADO.NET/ODBC/Azure: `...;Password=two words;` or `AccountKey=...==`; ends at `;`/quote.
        r"(?i)(?:^|[\"']|;[ \t]*)(?:password|pwd|accountkey|sharedaccesskey|sharedsecret)"
        r"[ \t]*=[ \t]*([^;\"'\s{$%<](?:[^;\"'\r\n]*[^;\"'\s])?)[ \t]*[;\"']",
        ("password", "pwd", "accountkey", "sharedaccesskey", "sharedsecret"),
        _password_value,
        value_group=1,
    ),
    _vendor(
        "npmrc_auth",
        r"//[^\s/:]+(?:/[^\s:]*)?/:_(?:authToken|auth|password)[ \t]*=[ \t]*[\"']?([^\s\"']+)",
        (":_auth", ":_password"),
        _password_value,
        value_group=1,
    ),
    _vendor(
        "bundler_credentials",
        # Bundler gem-server credentials: `BUNDLE_GEMS__EXAMPLE__COM=user:password`.
        r"\bBUNDLE_[A-Z0-9_]*__[A-Z0-9_]+\\?[\"']?[ \t]*[:=][ \t]*\\?[\"']?"
        r"([^\s\"':]+:[^\s\"';&]+)",
        ("bundle_",),
        lambda v: not _is_placeholder(v) and "$" not in v,
        value_group=1,
    ),
    _vendor(
        "cli_basic_auth_password",
        # `curl -u user:pass`, `--user "user":"pass"`: the password part.
        r"(?:^|\s)(?:-u|--user)(?:[ \t]+|=)[\"']?[^\s\"':]*[\"']?:[\"']?([^\s\"']+)",
        ("-u", "--user"),
        lambda v: not v.isdigit() and _password_value(v.strip("{}")),
        value_group=1,
    ),
    _vendor(
        "cli_basic_auth_token_user",
        # `curl -u sk_test_…:` - an API key as user name with an empty password.
        r"(?:^|\s)(?:-u|--user)(?:[ \t]+|=)[\"']?([^\s\"':]+):(?:[\"']|\s|$)",
        ("-u", "--user"),
        lambda v: _token_value(v) and entropy(v) >= 3.0,
        value_group=1,
    ),
    _vendor(
        "signed_url_signature",
        # Pre-signed URLs are bearer credentials until they expire (S3, GCS, Azure SAS).
        r"(?i)[?&](?:x-amz-signature|x-goog-signature|sig)=([A-Za-z0-9%+/_~.-]{16,})",
        ("signature=", "sig="),
        _random_token,
        value_group=1,
    ),
)

# ---------------------------------------------------------------------------------------------
# Keyed values: `key = value` in configs, env files, JSON, YAML, logfmt, headers and CLIs
# ---------------------------------------------------------------------------------------------

_LEFT = r"(?:^|[^A-Za-z0-9_.-])"  # a key starts after a character that cannot be part of it
_K = r"[A-Za-z0-9_.-]*"  # the key's free prefix: `DB_`, `spring.datasource.`, `x-`, `--`
# After the key: trailing digits (`token2`), a closing quote, then = := ::= ?= => : or the .NET
# `key="X" value="…"` attribute pair. Token-like keys also take `", "` (`getenv("API_TOKEN",
# "…")`); password keys do not, as lists of field names (`"passwd", "cache_peer"`) read the same.
_ASSIGN = r"[0-9]*(?:\\?[\"'][ \t]+value[ \t]*=|\\?[\"']?[ \t]*(?:=>|:{0,3}=|\?=|:))"
_SEP = rf"(?:[0-9]*\\?[\"'][ \t]*,|{_ASSIGN})"
# An opening quote, and a `Bearer `/`Basic `/`Token ` scheme before the value if there is one.
_OPEN = r"[ \t]*\\?[\"'`]?(?:(?:bearer|basic|token)[ \t]+)?"
# A bare value: cannot start like a template, mask, comment, list or call; stops at whitespace,
# quotes, `,;&`, backslash and closing brackets.
_VALUE = r"([^\s\"'`\\,;&<>(){}\[\]#%!|*?:^][^\s\"'`\\,;&)}\]]*)"

_PASSWORD_KEY = rf"{_K}(?:password|passwd|passphrase|passcode|pwd)"
_TOKEN_KEY = (
    rf"{_K}(?:secret|token|credentials?|auth|jwt|api[_.-]?key|apikey|privkey|"
    rf"(?:access|secret|private|auth|master|signing|encryption|account|client|app|consumer|"
    rf"license|shared|session|subscription|webhook)[_.-]?key|session[_.-]?id|sessid|"
    # The public half of a key pair (`accessId`, `AWS_ACCESS_KEY_ID`) still lets an attacker
    # pair it with a leaked secret: scrub it too.
    rf"access[_.-]?(?:key[_.-]?)?id)"
    rf"|(?:{_K}[_.-])?pass"
)
# Keys that end like a secret but hold something else: anti-CSRF and paging tokens, public keys.
_NOT_SECRET_KEY = (
    rf"{_K}(?:csrf|xsrf|authenticity|public|publishable|page|continuation|sync|cursor)"
    rf"[_.-]?(?:key[_.-]?)?(?:token|key|api[_.-]?key){_SEP}"
)
# Other `*_key` names: vendor keys (`HEROKU_KEY`, `hubspotKey`), minus well-known non-secrets;
# and `login` slots (`sonar.login`) when they hold a generated value rather than a user name.
_OTHER_KEY = rf"{_K}(?:[A-Za-z0-9][_.-]?key|login)"
_NOT_SECRET_OTHER_KEY = (
    rf"{_K}(?:public|publishable|primary|foreign|sort|partition|range|hash|cache|idempotency|"
    rf"object|row|routing|dedup|deduplication|correlation|message|request|trace|event|order|"
    rf"group|composite|unique|lookup|index|map|dict|kms|gpg|pgp)[_.-]?key{_SEP}"
)


def _keyed(
    name: str,
    key: str,
    *,
    deny: str | None,
    triggers: tuple[str, ...],
    validator: Validator,
    score: float = 0.8,
    separator: str = _SEP,
) -> PatternRecognizer:
    cli_form = rf"--[A-Za-z0-9_-]*(?:{key.removeprefix(_K)})[ \t]+"
    assigned = rf"(?:{cli_form}|(?:{key}){separator}){_OPEN}{_VALUE}"
    body = assigned if deny is None else rf"(?:{deny}|{assigned})"
    return PatternRecognizer(
        name=name,
        entity_type=_ENTITY,
        pattern=rf"(?i){_LEFT}{body}",
        score=score,
        value_group=1,
        triggers=triggers,
        validator=validator,
        ignore_case=True,
    )


_KEYED_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    _keyed(
        "generic_password",
        _PASSWORD_KEY,
        deny=None,
        triggers=("pass", "pwd"),
        validator=_password_value,
        separator=_ASSIGN,
    ),
    PatternRecognizer(
        name="generic_password_quoted",
        entity_type=_ENTITY,
        # Quoted passwords with spaces or separators, which the bare form cuts short.
        pattern=rf"(?i){_LEFT}(?:{_PASSWORD_KEY}){_ASSIGN}[ \t]*\\?[\"']"
        r"([^\"'\r\n\\]*[ ,;&][^\"'\r\n\\]*)\\?[\"']",
        score=0.8,
        value_group=1,
        triggers=("pass", "pwd"),
        validator=_passphrase_value,
        ignore_case=True,
    ),
    _keyed(
        "generic_secret",
        _TOKEN_KEY,
        deny=_NOT_SECRET_KEY,
        triggers=("secret", "token", "auth", "cred", "key", "pass", "jwt", "sess", "access"),
        validator=_token_value,
    ),
    _keyed(
        "generic_vendor_key",
        _OTHER_KEY,
        deny=_NOT_SECRET_OTHER_KEY,
        triggers=("key", "login"),
        validator=_key_value,
        score=0.7,
    ),
    PatternRecognizer(
        name="xml_secret_element",
        entity_type=_ENTITY,
        pattern=r"(?i)<[A-Za-z0-9_:.-]*(?:password|passwd|pwd|secret|token|api[_-]?key|"
        r"access[_-]?key|private[_-]?key)>[ \t]*([^<\s](?:[^<\r\n]*[^<\s])?)[ \t]*</",
        score=0.8,
        value_group=1,
        triggers=("password>", "passwd>", "pwd>", "secret>", "token>", "key>"),
        validator=_password_value,
        ignore_case=True,
    ),
    PatternRecognizer(
        name="prose_secret",
        entity_type=_ENTITY,
        # Chat and prompts: "my password is Tr0ub4dor&3", "the api key was …".
        pattern=r"(?i)\b(?:password|passphrase|passcode|api[ _-]?key|secret key|secret|"
        r"access token|auth token|bearer token|token)[ \t]+(?:is|was)(?:[ \t]*:)?[ \t]+[\"'`]?"
        r"([^\s\"'`]*[^\s\"'`.,;:!?)])",
        score=0.7,
        value_group=1,
        triggers=("password", "passphrase", "passcode", "key", "secret", "token"),
        validator=_prose_value,
        ignore_case=True,
    ),
    PatternRecognizer(
        name="high_entropy_near_keyword",
        entity_type=_ENTITY,
        # The first alternative (no value group) swallows anti-CSRF, paging and public tokens and
        # `token_id`-style names.
        pattern=r"(?i)(?:(?:csrf|xsrf|authenticity|public|publishable|page|continuation|sync|"
        r"cursor)[_.-]?(?:token|key)|"
        r"(?:credentials?|token|key|secret)[_.-]?(?:ids?|names?|types?|length|size|count|url|uri)"
        r"\b)[^\r\n]{0,40}?[\s\"'=:(\[,|>][A-Za-z0-9+/_~.-]{20,}|"
        r"(?:secret|token|passw(?:or)?d|credential|api[ _-]?key|apikey|bearer|auth)"
        r"[^\r\n]{0,40}?[\s\"'=:(\[,|>]"
        # Key fingerprints (`SHA256:…`, `MD5:…`) are public: taken whole, without a value group.
        r"(?:(?:sha\d*|md5):[A-Za-z0-9+/:=]+|([A-Za-z0-9+/_~.-]{20,}={0,2}))",
        score=0.6,
        value_group=1,
        triggers=("secret", "token", "passw", "credential", "api", "bearer", "auth"),
        needs_digit=True,
        validator=_high_entropy,
        ignore_case=True,
    ),
)

SECRET_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    *_VENDOR_RECOGNIZERS,
    *_STRUCTURED_RECOGNIZERS,
    *_KEYED_RECOGNIZERS,
)
