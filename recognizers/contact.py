"""Contact details: e-mail addresses and phone numbers.

Phones are the hard part in logs: durations, byte counts, ports, pids, dates and epoch values are
all digit groups too. So phone candidates come in two tiers:

* shape-strong, found anywhere: `+CC ...` (or `00CC ...`), North American `(555) 123-4567` /
  `555-123-4567` / `555.123.4567`, and trunk-prefixed national numbers with separators
  (`0487 98 11 92`, `(08) 8747 6301`, `03.93.92.16.85`), each checked with libphonenumber;
* anything else (bare runs like `5403926876`, short local `358 0594`, `(37) 788-063`) only next
  to a word that says "phone": `Phone:`, `call me at`, `... office`, `fax`.

Every candidate is rejected when it is a date, an IPv4 address, a signed decimal, an SSN or
ZIP+4 layout, or a run of one repeated digit.
libphonenumber's own text matcher is not used: it is far too slow for every log line.
"""

from __future__ import annotations

import functools

import phonenumbers
import re2

from recognizers.base import PatternRecognizer

# What RE2's `\d` matches. The pre-checks below skip an RE2 call only where its pattern could not
# match (a needed character or length is missing): each call there costs ~2-3 us in the wrapper.
_ASCII_DIGITS = frozenset("0123456789")

# ---------------------------------------------------------------------------------------------
# E-mail
# ---------------------------------------------------------------------------------------------

# Dot-atom local part restricted to the characters real mailboxes use; `=`, `/` and friends are
# legal in RFC 5322 but would glue `user=alice@example.com` into one "address".
# The first alternative has no value group: it takes a URL's `scheme://user:password@` whole,
# so the password and host of `postgres://app:pw@db.internal` are not read as an address (RE2
# prefers the first alternative at a position; the URL password has its own recognizer).
_EMAIL = (
    r"[A-Za-z][A-Za-z0-9+.-]*://[^\s/?#@\"'<>]*@|"
    r"(?:^|[^\w.%+-])"
    r"([A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24})\b"
)

# Names that look like `name@domain.tld` but are asset files (`icon@2x.png`), systemd unit
# instances (`getty@tty1.service`) or locale modifiers (`sd_IN@devanagari.UTF-8`): none of these
# endings is a delegated top-level domain.
_FILE_EXTENSIONS = frozenset(
    (
        "png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif", "heic",
        "js", "mjs", "cjs", "jsx", "ts", "tsx", "css", "scss", "less", "map", "json", "yaml", "yml",
        "lock", "txt", "log", "html", "htm", "xml", "utf", "service", "socket", "timer", "mount",
        "automount", "target", "slice", "scope", "swap",
    )
)  # fmt: skip
_RETINA_SUFFIX = re2.compile(r"\d+(?:\.\d+)?x")


def _retina_suffix(label: str) -> bool:
    """`2x`, `1.5x`; what cannot match (most labels: no leading digit) costs no RE2 call."""
    return (
        label[:1] in _ASCII_DIGITS and label.endswith("x") and bool(_RETINA_SUFFIX.fullmatch(label))
    )


def is_email(value: str) -> bool:
    """Drop asset names and `git@host` SSH remotes; keep every other mailbox-shaped value.

    `git@github.com:org/repo` is the fixed service account of a code host, and `noreply@`,
    `postmaster@` are role mailboxes: none is a person's address. Any other `user@host.tld` is
    kept, including `root@server.example.com`: a login on a named host is personal enough to
    scrub. `user@localhost` never matches (no top-level domain).
    """
    local, _, domain = value.rpartition("@")
    labels = domain.lower().split(".")
    if labels[-1] in _FILE_EXTENSIONS or _retina_suffix(labels[0]):
        return False
    return local.lower().replace("-", "").replace("_", "") not in _ROLE_MAILBOXES


# Fixed service mailboxes that every organisation has and no person owns.
_ROLE_MAILBOXES = frozenset({"git", "noreply", "donotreply", "mailerdaemon", "postmaster"})


# ---------------------------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------------------------

_EXTENSION = r"(?: ?(?:x|ext\.?|extension) ?\d{1,6})?"
# A dotted/dashed continuation is swallowed so that `555-123-4567-89` is judged whole.
_CONTINUATION = r"(?:[.-]\d+)*"

_INTERNATIONAL = r"\+\d{1,3}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,6})){1,7}"
_NORTH_AMERICAN = r"(?:1[ .-]?)?(?:\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})"
_TRUNK_NATIONAL = r"(?:\(0\d{1,4}\)[ .-]?|0\d{1,4}[ .-])\d{2,8}(?:[ .-]\d{2,5}){0,4}"
_STRONG_PHONE = (
    rf"(?:{_INTERNATIONAL}|{_NORTH_AMERICAN}|{_TRUNK_NATIONAL}){_CONTINUATION}{_EXTENSION}\b"
)

# Anything phone-ish: optional +CC or (area), then one to six digit groups. Only used after a
# context word, where a bare `5403926876` or a short `358 0594` is believable.
_LOOSE_PHONE = (
    rf"(?:{_INTERNATIONAL}"
    r"|(?:\(\d{1,5}\)[ .-]?)?\d{1,15}(?:[ .-]\d{1,8}){0,5})"
    rf"{_CONTINUATION}{_EXTENSION}\b"
)

_LEFT_EDGE = r"(?:^|[^\w.+/-])"

_PHONE_WORDS_BEFORE = (
    "phone", "tel", "mobile", "mob", "cell", "fax", "desk", "landline", "whatsapp", "sms", "call",
    "dial", "contact", "reach", "text", "messag", "answering", "telefon", "téléphone",
)  # fmt: skip
_CONTEXT_BEFORE = (
    r"(?i)\b(?:(?:tele|cell|mobile |home |work )?phone(?: ?(?:no|nr|num|number))?s?|tel|mob"
    r"|mobile|cell|fax|desk|landline|whatsapp|sms|call(?:ed)?|dial|contact(?: number)?|reach"
    r"|text|messages?|answering|telefon|téléphone)"
    # Then punctuation (a newline too: `Phone:\n...` in forms and signatures) and up to three
    # filler words (`call me on`, `messages to`). `(` and `+` are left for the number itself.
    r"\b[^\w(+]{0,4}(?:(?:me|us|him|her|them|on|at|to|is|was|my|no|nr|number)[^\w\n(+]{1,3}){0,3}"
)
_PHONE_WORDS_AFTER = ("office", "fax", "mobile", "cell", "home", "work", "direct")
_CONTEXT_AFTER = r"(?i)[ \t,;-]{1,3}(?:office|fax|mobile|cell|home|work|direct)\b"

# Regions a trunk-prefixed national number (`020 7946 0958`) is tried in; one that validates it
# is enough. Germany's plan accepts most digit strings, so the shape does most of the work here.
_NATIONAL_REGIONS = (
    "GB", "DE", "FR", "IN", "AU", "NL", "BE", "CH", "AT", "IT", "ES", "IE", "SE", "NO", "DK",
    "FI", "PT", "PL", "BR", "ZA", "JP", "NZ",
)  # fmt: skip

# Three date-like groups, then the end or a space (a time may follow): `2024-01-15`,
# `15.01.2024 10`. A fourth group (`01.12.20.24.55`) makes it a French phone, not a date.
_DATE_LIKE = re2.compile(r"(\d{1,4})([./-])(\d{1,2})([./-])(\d{1,4})(?: |$)")
_DOTTED_QUAD = re2.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_SSN_SHAPE = re2.compile(r"\d{3}-\d{2}-\d{4}")
_ZIP_PLUS_4 = re2.compile(r"\d{5}-\d{4}")
_EXTENSION_SPLIT = re2.compile(r"(?i) ?(?:x|ext\.?|extension) ?\d{1,6}$")


def _core_and_digits(value: str) -> tuple[str, str]:
    # Every spelling of an extension (`x`, `ext`, `extension`, any case) holds an x.
    core = _EXTENSION_SPLIT.sub("", value) if "x" in value or "X" in value else value
    return core, "".join(c for c in core if c.isdigit())


def _is_date(core: str) -> bool:
    if "." not in core and "/" not in core and "-" not in core:
        return False  # no separator: no date
    match = _DATE_LIKE.match(core)
    if match is None or match.group(2) != match.group(4):
        return False
    first, second, third = (int(match.group(i)) for i in (1, 3, 5))
    if len(match.group(1)) == 4:
        return 1900 <= first <= 2099 and 1 <= second <= 12 and 1 <= third <= 31
    if len(match.group(5)) not in (2, 4) or len(match.group(1)) > 2:
        return False
    return (1 <= first <= 31 and 1 <= second <= 12) or (1 <= first <= 12 and 1 <= second <= 31)


def _not_a_phone_shape(core: str, digits: str) -> bool:
    """Dates, IPv4 addresses, decimals and one-digit fillers share phone shapes; none is one."""
    if _is_date(core) or (core.count(".") == 3 and _DOTTED_QUAD.fullmatch(core)):
        return True
    if core.count(".") == 1 and not any(c in core for c in " -()"):
        return True  # +35236450.6 is a signed decimal
    return len(set(digits)) <= 1


@functools.lru_cache(maxsize=4096)  # two recognizers validate the same candidate
def _possible_international(number: str) -> bool:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    if not phonenumbers.is_possible_number(parsed):
        return False
    return parsed.country_code != 1 or _north_american_ok(str(parsed.national_number))


def _north_american_ok(digits: str) -> bool:
    """NANP: ten digits (after an optional leading 1) and an area code starting with 2-9.

    The exchange rule (also 2-9) is not enforced: `555-123-4567` is the canonical made-up number
    in docs and tests, and whoever plants it expects it scrubbed.
    """
    if len(digits) == 11 and digits[0] == "1":
        digits = digits[1:]
    return len(digits) == 10 and digits[0] not in "01"


@functools.lru_cache(maxsize=4096)
def _valid_in_some_region(core: str) -> bool:
    for region in _NATIONAL_REGIONS:
        try:
            parsed = phonenumbers.parse(core, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return True
    return False


def _international_digits(digits: str) -> str | None:
    """`00 44 ...` and `011 44 ...` are the dialled forms of `+44 ...`."""
    if digits.startswith("00"):
        return "+" + digits[2:]
    return None


def is_strong_phone(value: str) -> bool:
    """Validate a shape-strong candidate according to the shape it has."""
    core, digits = _core_and_digits(value)
    if not 7 <= len(digits) <= 15 or _not_a_phone_shape(core, digits):
        return False
    if (len(core) == 11 and _SSN_SHAPE.fullmatch(core)) or (
        len(core) == 10 and _ZIP_PLUS_4.fullmatch(core)
    ):
        return False  # 123-45-6789 (US SSN) and 02110-1301 (ZIP+4) are not phone layouts
    if core.startswith("+"):
        return len(digits) >= 8 and _possible_international(core)
    dialled = _international_digits(digits)
    if dialled is not None:
        return _possible_international(dialled)
    if digits[0] == "0" or core.startswith("(0"):
        return 9 <= len(digits) <= 12 and _valid_in_some_region(core)
    # `555-123 4567` mixes separators the way a list of numbers does; `(555) 123-4567` is normal.
    separators = {c for c in core if not c.isdigit()}
    return ("(" in core or len(separators) <= 1) and _north_american_ok(digits)


def is_phone_in_context(value: str) -> bool:
    """Next to a phone word: 7-15 digits that are not a date, an IP, or a filler run."""
    core, digits = _core_and_digits(value)
    if not 7 <= len(digits) <= 15 or _not_a_phone_shape(core, digits):
        return False
    if core.startswith("+"):
        return _possible_international(core)
    dialled = _international_digits(digits)
    return dialled is None or _possible_international(dialled)


CONTACT_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    PatternRecognizer(
        name="email_address",
        entity_type="EMAIL_ADDRESS",
        pattern=_EMAIL,
        value_group=1,
        triggers=("@",),
        validator=is_email,
        score=0.9,
    ),
    PatternRecognizer(
        name="phone_number",
        entity_type="PHONE_NUMBER",
        pattern=rf"{_LEFT_EDGE}({_STRONG_PHONE})",
        value_group=1,
        needs_digit=True,
        validator=is_strong_phone,
        score=0.7,
    ),
    PatternRecognizer(
        name="phone_number_after_label",
        entity_type="PHONE_NUMBER",
        pattern=rf"{_CONTEXT_BEFORE}({_LOOSE_PHONE})",
        value_group=1,
        triggers=_PHONE_WORDS_BEFORE,
        needs_digit=True,
        validator=is_phone_in_context,
        score=0.6,
    ),
    PatternRecognizer(
        name="phone_number_before_label",
        entity_type="PHONE_NUMBER",
        pattern=rf"{_LEFT_EDGE}({_LOOSE_PHONE}){_CONTEXT_AFTER}",
        value_group=1,
        triggers=_PHONE_WORDS_AFTER,
        needs_digit=True,
        validator=is_phone_in_context,
        score=0.6,
    ),
)
