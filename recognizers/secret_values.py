"""What a secret value looks like: the checks every secret recognizer shares, and their class.

Two kinds of candidate, judged differently:
- **Unkeyed tokens** (a vendor prefix, a PEM line): nothing but the shape vouches for them, so
  the value must look generated. Placeholders are judged on the *whole* value — all one
  character, `x`-filled, a typed run (`abcdef`, `123456`), a repeated unit, a documented example
  key (`AKIAIOSFODNN7EXAMPLE`), or words such as `YOUR_API_KEY_HERE` — never on a substring:
  a real AWS key id may well contain `HERE` or `YOUR`.
- **Keyed values** (`password=…`, `"token": "…"`): the key vouches, so only explicit non-secrets
  are rejected: templates, masks, slot words, descriptions, file paths, code, names of other
  secrets.

`SecretRecognizer` is a `PatternRecognizer` that also reports every other occurrence of a value
it found in the same string (`mysql -pX … echo X`), so no copy of a secret survives.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby, pairwise

import re2

from recognizers.base import Finding, PatternRecognizer, Validator

ENTITY = "SECRET"

# ---------------------------------------------------------------------------------------------
# Measures
# ---------------------------------------------------------------------------------------------


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    if not value:
        return 0.0
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in Counter(value).values())


def sequential_share(value: str) -> float:
    """Share of characters inside ascending or descending runs of 4+ (`abcd`, `4321`, and the
    keyboard's `7890`): typed, not generated. Separators (`-`, `_`, `.`) are skipped, so
    `1234-5678` is one run."""
    chars = [c for c in value.lower() if c.isalnum()]
    if not chars:
        return 0.0
    in_runs, run, step = 0, 1, 0
    for previous, current in pairwise(chars):
        delta = 1 if previous + current == "90" else ord(current) - ord(previous)
        if delta in (1, -1) and (run == 1 or delta == step):
            run, step = run + 1, delta
            continue
        in_runs += run if run >= 4 else 0
        run, step = (2, delta) if delta in (1, -1) else (1, 0)
    in_runs += run if run >= 4 else 0
    return in_runs / len(chars)


def longest_repeat(value: str) -> int:
    return max((len(list(run)) for _, run in groupby(value)), default=0)


def _repeated_unit(value: str) -> bool:
    """`abcabcabc`, `deadbeefdeadbeef`, `12341234`: one short unit typed again and again."""
    size = len(value)
    for unit in range(1, size // 3 + 1):
        if size % unit == 0 and value[:unit] * (size // unit) == value:
            return True
    return False


# ---------------------------------------------------------------------------------------------
# Whole-value placeholders
# ---------------------------------------------------------------------------------------------

# Published example credentials: documentation keys everybody copies (AWS, Stripe, Twilio).
DOCUMENTED_EXAMPLES = frozenset(
    (
        "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY", "AKIAI44QH8DHBEXAMPLE",
        "sk_test_4eC39HqLyjWDarjtT1zdp7dc", "sk_test_BQokikJOvBiI2HlWgH4olfQ2",
        "pk_test_TYooMQauvdEDq54NiTphI7jx", "rk_test_4eC39HqLyjWDarjtT1zdp7dc",
    )
)  # fmt: skip
# A value made of these words says what belongs in the slot rather than filling it.
_MARKER_WORDS = frozenset(
    (
        "your", "yours", "here", "example", "examples", "sample", "placeholder", "dummy", "fake",
        "insert", "replace", "paste", "changeme", "change", "redacted", "demo", "foo", "bar",
        "baz", "put", "goes", "fill", "todo", "fixme", "xxx", "xxxx", "not", "real", "none",
        "null", "invalid", "some", "enter", "actual", "mypassword", "mysecret", "mytoken",
        "mykey", "yourpass", "yourpassword", "yoursecret", "yourtoken", "yourkey",
    )
)  # fmt: skip
_SLOT_WORDS = _MARKER_WORDS | frozenset(
    (
        "api", "key", "keys", "token", "tokens", "secret", "secrets", "password", "passwd",
        "pass", "pwd", "access", "auth", "client", "app", "application", "private", "public",
        "bearer", "account", "user", "username", "service", "project", "org", "organization",
        "bot", "webhook", "live", "prod", "production", "dev", "development", "sandbox", "test",
        "testing", "string", "str", "value", "the", "a", "an", "with", "for", "of", "this",
        "that", "default", "id", "personal", "credential", "credentials", "new", "old", "own",
        "valid", "aws", "github", "gitlab", "slack", "stripe", "google", "openai", "server",
        "database", "db", "admin", "root", "login", "session", "signing", "encryption", "master",
        "and", "or", "to", "goes", "is", "in", "license", "code", "one", "two", "hello",
        "world", "secretkey", "apikey", "accesskey", "authtoken", "super", "very", "long",
        "short", "random", "generated", "name", "env", "variable", "var", "config", "my", "me",
    )
)  # fmt: skip
# Compounds (`yourtokenhere`, `apikeyhere`) are split into these parts when they fit exactly.
_COMPOUND_PARTS = frozenset(w for w in _SLOT_WORDS if len(w) >= 3)
_ALPHA_RUN = re2.compile(r"[A-Za-z]+")
_DIGITS = re2.compile(r"[0-9]+")
_MASK_CHARS = frozenset("xX*#•●")


def _compound(word: str) -> list[str]:
    """`yourtokenhere` -> your, token, here when slot words fill it exactly; else the word."""
    if word in _SLOT_WORDS or not 6 <= len(word) <= 40:
        return [word]
    best: list[list[str] | None] = [[]] + [None] * len(word)
    for end in range(3, len(word) + 1):
        for start in range(max(0, end - 13), end - 2):
            head = best[start]
            if head is not None and word[start:end] in _COMPOUND_PARTS:
                best[end] = [*head, word[start:end]]
                break
    return best[-1] or [word]


def _words(value: str) -> list[str]:
    """Letter runs split at camelCase humps and into known compounds: `yourApiKeyHere`,
    `YOURAPIKEYHERE` -> your, api, key, here."""
    words: list[str] = []
    for run in _ALPHA_RUN.findall(value):
        start = 0
        for i in range(1, len(run)):
            if run[i].isupper() and run[i - 1].islower():
                words.extend(_compound(run[start:i].lower()))
                start = i
        words.extend(_compound(run[start:].lower()))
    return words


# Words that say a value stands in for a secret, whatever words surround them.
_STAND_IN_WORDS = frozenset(
    ("fake", "dummy", "example", "sample", "placeholder", "redacted", "changeme")
)
# Lower-case words joined by `-` or `_`, no digit: how a person names a stand-in.
_KEBAB_WORDS = re2.compile(r"^[a-z]+(?:[-_][a-z]+)+$")
_KEBAB_SEPARATOR = re2.compile(r"[-_]")


def is_described(value: str) -> bool:
    """`YOUR_API_KEY_HERE`, `ghp_YourTokenHere`, `<paste-token>`, `fake-key-123`: a marker word
    among words that name the slot, covering most of the value's letters; or lower-case words
    without a digit, one of them a stand-in word (`a-fake-short-key`, `dummy_value_for_ci`)."""
    if _KEBAB_WORDS.match(value) and _STAND_IN_WORDS.intersection(_KEBAB_SEPARATOR.split(value)):
        return True
    words = _words(value)
    if not words or not _MARKER_WORDS.intersection(words):
        return False
    letters = sum(len(w) for w in words)
    in_vocabulary = sum(len(w) for w in words if w in _SLOT_WORDS)
    digits = sum(len(d) for d in _DIGITS.findall(value))
    return in_vocabulary >= 0.6 * letters and digits <= max(4, letters // 2)


def is_filler(value: str) -> bool:
    """Masked or `x`-filled: `AKIAXXXXXXXXXXXXXXXX`, `sk_live_xxxx…1234`, `ab**********`."""
    chars = [c for c in value if c.isalnum() or c in _MASK_CHARS]
    if not chars:
        return True
    masked = sum(c in _MASK_CHARS for c in chars)
    if masked >= 0.5 * len(chars):
        return True
    return any(c in _MASK_CHARS and len(list(run)) >= 8 for c, run in groupby(value))


def is_example(value: str) -> bool:
    """A documented example key, or one that ends the way AWS's examples do."""
    return value in DOCUMENTED_EXAMPLES or value.endswith(("EXAMPLE", "EXAMPLEKEY"))


def _core(value: str) -> str:
    return "".join(c for c in value if c.isalnum())


def is_typed_run(value: str) -> bool:
    """All one or two characters, runs of four or more from end to end (`123456789`,
    `abcdef123456`), or a unit typed again and again (`abcabcabc`). Shorter runs (`abc123`)
    are left to be secrets: people choose them for real ones."""
    core = _core(value)
    if len(set(core.lower())) <= 2:
        return True
    return sequential_share(core) == 1.0 or _repeated_unit(core.lower())


def whole_value_placeholder(value: str) -> bool:
    """The checks for an unkeyed token: each looks at the whole value, none at a substring.
    Nothing but the shape vouches for it, so typed runs that make up half of it count too
    (`AKIA1234567890ABCDEF`)."""
    if is_typed_run(value) or sequential_share(_core(value)) >= 0.5:
        return True
    return is_filler(value) or is_example(value) or is_described(value)


def random_token(value: str) -> bool:
    """An unkeyed candidate must look generated: no whole-value placeholder, no long run of one
    character, and some variety."""
    if whole_value_placeholder(value):
        return False
    return longest_repeat(value) < 6 and len(set(value)) >= min(10, len(value) // 3)


# ---------------------------------------------------------------------------------------------
# Keyed values
# ---------------------------------------------------------------------------------------------

# Slot fillers that are not secrets: booleans, nulls, type names, slot names, placeholder words.
NOT_SECRET_WORDS = frozenset(
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
        "fields", "stdin", "prompt", "ask", "none", "nopass", "nopassword", "disabled",
    )
)  # fmt: skip

_MASK_RUN = re2.compile(r"[xX]{4}|[*#•●]{3}|\.\.\.|_{6}")
_TEMPLATE = re2.compile(
    r"\$\{|\{\{|\}\}|<%|%>|#\{|\$\(|%\(|\[\[|@\{|"  # template / interpolation openers
    r"^\$\w+$|^%\w+%$|^\{[A-Za-z_. -]*\}$|^\[[A-Za-z_. -]*\]$|^:[A-Za-z_]\w*$|^@[A-Za-z_]\w*$|"
    r"^!!?[A-Za-z][A-Za-z]*$|^<[^>]*>$"
)
# `settings.SECRET`, `var.db_password`, `getPassword()`, `Optional[str]`, `List<String>`.
_DOTTED_NAME = re2.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+$")
_CALL_OR_TYPE = re2.compile(r"^[A-Za-z_][\w.]*[\[(<]")
# Java/Android object descriptors: `AppWindowToken{9f4ef63 …}`, `Token{a64f992`.
_OBJECT_DESCRIPTOR = re2.compile(r"^[A-Za-z_][\w.$]*\{[0-9a-f]{6,8}\b")
# PowerShell cmdlets (`$pw = ConvertTo-SecureString …`) and ISO time stamps: not values.
_CMDLET_OR_TIME = re2.compile(
    r"^[A-Z][a-z]+(?:To|From)?-[A-Z][A-Za-z]+$|^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d)?"
)
# `USE_CLIENT_DEFAULT`, `USERNAME`: constant and variable names, not values.
_CONSTANT = re2.compile(r"^[A-Z][A-Z]+(?:_[A-Z]+)*$")
# `SecretBytes`, `clientAuth`, `index_info`: words glued into a name (see is_identifier).
_LETTERS_ONLY = re2.compile(r"^_?[A-Za-z][A-Za-z_]*$")
_NAME_WORD = re2.compile(r"[A-Z]?[a-z]{2,}")
# `country_code=680` after `id='PW', `: the next assignment, not a value.
_NEXT_ASSIGNMENT = re2.compile(r"^[A-Za-z_][\w.-]*=[^=]")
_NUMBER_OR_VERSION = re2.compile(r"^0[xX][0-9A-Fa-f]+$|\d\.\d+\.\d|^v?\d+(?:\.\d+)+(?:[-+.]\w+)?$")
# Absolute, home, relative or drive paths; or `dir/dir/file.ext`.
_PATH = re2.compile(
    r"^(?:~?/|\.\.?/|[A-Za-z]:[\\/])[\w./~ -]*$|^[\w.-]+(?:/[\w.-]+)+\.[A-Za-z0-9]{1,5}$"
)
UUID = re2.compile(r"^[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}$")


def is_identifier_uuid(value: str) -> bool:
    """A time- or name-based UUID (RFC 9562 versions 1, 2, 3, 5 and 6): a clock and a MAC
    address, or the hash of a name, that an issuer of secrets does not hand out (the RFC warns
    that UUIDs are no security capability). Version 4's 122 random bits may be a token (Heroku
    API keys, older npm tokens), and so may 7's and 8's."""
    return bool(UUID.match(value)) and value[14] in "12356" and value[19] in "89abAB"


def not_generated(value: str) -> bool:
    """What a token slot's key hint must not take: a typed run, after a vendor-looking prefix
    too (`sk_abc123def`), or an identifier UUID."""
    bodies = (_VENDOR_PREFIX.sub("", value), _FIRST_SEGMENT.sub("", value))
    typed_body = any(len(body) >= 6 and is_typed_run(body) for body in bodies)
    return is_typed_run(value) or typed_body or is_identifier_uuid(value)


# What qualifies a `*_token` or `*_key` that holds no credential: anti-forgery and paging
# tokens, the public half of a key pair. One alternation for key patterns and key hints alike.
NOT_CREDENTIAL_QUALIFIERS = (
    "csrf|xsrf|authenticity|public|publishable|page|continuation|sync|cursor"
)
# `DB_PASSWORD` (an env var) or `github-token` (a Kubernetes secret or key name).
_ENV_NAME = re2.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$")
_KEBAB_OR_SNAKE_NAME = re2.compile(r"^[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+$")
# A vendor-looking prefix (`xoxp-`, `sk_live_`, `dapi`): what follows must not be typed either.
_VENDOR_PREFIX = re2.compile(r"^[A-Za-z]{2,8}(?:[_-][A-Za-z]{2,6})?[_-]?")
_FIRST_SEGMENT = re2.compile(r"^[A-Za-z]{2,8}[_-]")  # `tok_` of `tok_abcdef123`
_SECRET_WORDS = ("pass", "pwd", "secret", "token", "key", "cred", "auth")
_MESSAGE_WORDS = frozenset(
    (
        "must", "should", "cannot", "can't", "please", "enter", "field", "required", "invalid",
        "incorrect", "wrong", "expired", "missing", "not", "too", "characters", "match", "least",
        "blank", "empty", "is", "are",
        # Negations read as messages (`"doesn't match"`), seldom as passphrases.
        "doesnt", "doesn't", "dont", "don't", "didnt", "didn't", "isnt", "isn't", "wasnt",
        "wasn't", "wont", "won't", "cant", "aren't", "couldn't", "shouldn't",
    )
)  # fmt: skip


def is_placeholder(value: str) -> bool:
    """Templates, masks, slot words and descriptions: values that hold nothing to protect."""
    lowered = value.lower()
    if lowered.strip(".,;:") in NOT_SECRET_WORDS or len(set(lowered)) <= 2:
        return True
    if _MASK_RUN.search(value) or _TEMPLATE.search(value):
        return True
    return is_filler(value) or is_example(value) or is_described(value)


def _generated_segment(segment: str) -> bool:
    """16+ characters mixing digits and both cases: no one names a variable like that."""
    return (
        len(segment) >= 16
        and any(c.isdigit() for c in segment)
        and any(c.islower() for c in segment)
        and any(c.isupper() for c in segment)
    )


def is_identifier(value: str) -> bool:
    """Letters only and mostly lower-case words (`SecretBytes`, `clientAuth`): a name from code.

    Only for token-like slots: about 1 in 500 random 24-character tokens reads like this; human
    passwords often do (`BlueSky`), so password slots do not apply it.
    """
    if not _LETTERS_ONLY.match(value):
        return False
    words = _NAME_WORD.findall(value)
    return len(words) >= 2 and sum(len(w) for w in words) >= 0.7 * len(value)


def is_code(value: str) -> bool:
    """`settings.SECRET`, `getPassword()`, `Optional[str]`, `USERNAME`; not Vault's `s.<random>`."""
    if _CALL_OR_TYPE.match(value) or _CONSTANT.match(value) or _NEXT_ASSIGNMENT.match(value):
        return True
    if _OBJECT_DESCRIPTOR.match(value) or _CMDLET_OR_TIME.match(value):
        return True
    if not _DOTTED_NAME.match(value):
        return False
    parts = value.split(".")
    return not (len(parts) == 2 and _generated_segment(parts[1]))


def mentions_secret(value: str) -> bool:
    lowered = value.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def is_pointer(value: str) -> bool:
    """Paths, URLs, CLI flags and env var names of secrets (`DB_PASSWORD`): where a secret is."""
    if _PATH.match(value) or "://" in value or value.startswith("--"):
        return True
    return bool(_ENV_NAME.match(value)) and mentions_secret(value)


def is_reference(value: str) -> bool:
    """Pointers, and code (`settings.SECRET`, `getPassword()`) that reads a secret."""
    return is_pointer(value) or is_code(value)


def password_value(value: str) -> bool:
    """A keyed password: anything of 4+ characters that is not a placeholder or a reference.

    `alice-secret` stays a password; in token slots such kebab names are references (below).
    """
    return len(value) >= 4 and not is_placeholder(value) and not is_reference(value)


def token_value(value: str) -> bool:
    """A keyed token: 6+ characters, not all digits, with a digit or mixed case (not a word),
    and not typed from end to end, after a vendor prefix too (`xoxp-1234567890`)."""
    if len(value) < 6 or value.isdigit() or _NUMBER_OR_VERSION.search(value):
        return False
    if is_identifier(value) or not_generated(value) or is_typed_run(_VENDOR_PREFIX.sub("", value)):
        return False
    if not password_value(value):
        return False
    if _KEBAB_OR_SNAKE_NAME.match(value) and mentions_secret(value):
        return False  # `secret: my-app-secret`, `token: github-token`: names, not values
    has_digit = any(c.isdigit() for c in value)
    mixed = any(c.islower() for c in value) and any(c.isupper() for c in value[1:])
    return (has_digit or mixed) and entropy(value) >= 2.5


def key_value(value: str) -> bool:
    """Behind a vendor-named `*_KEY`: a UUID, or 20+ random-looking characters with digits."""
    if UUID.match(value):
        return token_value(value)
    return (
        len(value) >= 20
        and token_value(value)
        and any(c.isdigit() for c in value)
        and entropy(value) >= 3.0
    )


def is_message(value: str) -> bool:
    """Words that tell of a password rather than being one: `"doesn't match"`, `must be set.`"""
    return value.rstrip()[-1:] in ".!?" or bool(_MESSAGE_WORDS.intersection(value.lower().split()))


def passphrase_value(value: str) -> bool:
    """A quoted password with spaces: a few words, not a validation message."""
    words = value.lower().split()
    if len(value) < 8 or not 1 <= len(words) <= 5:
        return False
    return not is_message(value) and password_value(value)


def prose_value(value: str) -> bool:
    """`my password is X`: X must not read as a word, so it needs a digit, symbol or inner caps."""
    if len(value) < 6 or not password_value(value):
        return False
    return any(not c.isalpha() for c in value) or any(c.isupper() for c in value[1:])


def shape(
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
        return random_token(value)

    return check


def high_entropy(value: str) -> bool:
    """The fallback: a long generated-looking token, not a path, dotted name, UUID or word."""
    if len(value) < 20 or UUID.match(value) or is_reference(value):
        return False
    if value.count("/") >= 2 and not ("+" in value or value.endswith("=")):
        return False
    if value.count(".") >= 2 or not any(c.isdigit() for c in value):
        return False
    is_hex = all(c in "0123456789abcdefABCDEF" for c in value)
    if not is_hex and not (any(c.islower() for c in value) and any(c.isupper() for c in value)):
        return False
    return entropy(value) >= (3.3 if is_hex else 3.5) and random_token(value)


# ---------------------------------------------------------------------------------------------
# The recognizer
# ---------------------------------------------------------------------------------------------

_WORDISH = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@dataclass(frozen=True)
class SecretRecognizer(PatternRecognizer):
    """A pattern recognizer whose every finding also takes the other copies of its value.

    A password typed twice on a line (`-pX … echo X`, `password=X confirm=X`) is found once by
    its key; the second copy has no key. Short values (under 8 characters) count only where they
    stand alone, not inside a longer word.

    any_group: the value is the first capture group that took part in the match (RE2 has no
    branch reset, so `'quoted value'|bare` needs two groups).
    A value that opens with a quote and stops before the closing one (`pwd = "didn't match"`)
    is a piece of a quoted phrase: the quoted pattern judges the phrase whole, so it is skipped.
    """

    any_group: bool = False
    past_ampersand: bool = False

    def find(self, text: str) -> Iterator[Finding]:
        plain = not (self.any_group or self.past_ampersand)
        found = list(super().find(text) if plain else self._matches(text))
        yield from found
        seen = {(f.start, f.end) for f in found}
        for finding in found:
            value = text[finding.start : finding.end]
            if len(value) < 4:
                continue
            at = text.find(value)
            while at >= 0:
                end = at + len(value)
                if (at, end) not in seen and (len(value) >= 8 or _stands_alone(text, at, end)):
                    seen.add((at, end))
                    yield Finding(at, end, finding.entity_type, finding.score, finding.recognizer)
                at = text.find(value, at + 1)

    def _matches(self, text: str) -> Iterator[Finding]:
        groups = range(1, self._compiled.groups + 1) if self.any_group else (self.value_group,)
        for spans in self.spans(text):
            start, end = next((spans[g] for g in groups if spans[g][0] >= 0), (-1, -1))
            if start == end:
                continue
            if self.past_ampersand:
                end = _past_ampersand(text, end)
            if _cut_inside_quotes(text, start, end):
                continue
            if self.validator is not None and not self.validator(text[start:end]):
                continue
            yield Finding(start, end, self.entity_type, self.score, self.name)


_QUERY_PARAMETER = re2.compile(r"[\w.\[\]-]+=")
_VALUE_RUN = re2.compile(r"[^\s\"'`\\,;&)}\]]*")


def _past_ampersand(text: str, end: int) -> int:
    """`pw=d&Pn%F2` is one password; `password=x&page=2` ends at `&`: a value stops at `&` only
    where the next query parameter (`name=`) starts."""
    while end < len(text) and text[end] == "&" and not _QUERY_PARAMETER.match(text, end + 1):
        run = _VALUE_RUN.match(text, end + 1)
        end = run.end() if run else end + 1
    return end


def _cut_inside_quotes(text: str, start: int, end: int) -> bool:
    """Opened by a quote, stopped before it closes (a line cut short keeps its value)."""
    if start == 0 or end >= len(text) or text[start - 1] not in "\"'`":
        return False
    quote = text[start - 1]
    return text[end] != quote and text[end : end + 2] != "\\" + quote


def _stands_alone(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return before not in _WORDISH and after not in _WORDISH


def secret_pattern(
    name: str,
    pattern: str,
    triggers: tuple[str, ...],
    validator: Validator,
    *,
    value_group: int = 0,
    score: float = 0.9,
    needs_digit: bool = False,
    ignore_case: bool = False,
    any_group: bool = False,
    past_ampersand: bool = False,
) -> SecretRecognizer:
    """One secret recognizer (entity SECRET); triggers are lower-case substrings."""
    return SecretRecognizer(
        name, ENTITY, pattern, score, value_group, triggers, needs_digit, validator,
        ignore_case, any_group=any_group, past_ampersand=past_ampersand,
    )  # fmt: skip
