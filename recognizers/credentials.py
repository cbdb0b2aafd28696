"""Keyword-bound credentials: a value a key, flag, statement or comparison says is a secret.

`password=…`, `"client_secret": "…"`, `export API_TOKEN=…`, `--token …`, `-pS3cret` (mysql),
`-Password 'x'` (PowerShell), `IDENTIFIED BY '…'` (SQL), `#define WIFI_PASS "…"`,
`if (password.equals("…"))`. The value is the finding and the key survives. The key vouches for
the value, so only explicit non-secrets are rejected (`secret_values.password_value`).

Password keys as people write them: `password`, `passwd`, `pwd`, `pw`, `pass`, `passphrase`,
`passcode`, and misspellings (`pasword`, `passwrd`, `passowrd`, `passwort`); after any separator:
`=`, `:`, `:=`, `=>`, `->`, `?=`, or spaces when the value cannot be a word.

RE2 has no look-around, so keys that end in a secret word but hold no secret (`csrf_token`,
`public_key`, `page_token`) are matched by a first alternative that has no value group: RE2 prefers
the first alternative at a position, the match consumes the key, and `find` skips it because the
value group did not take part. Key words must end the key (`password_reset`, `token_count`,
`passwordless` never match) and values stop at whitespace, quotes, `,;&` and closing brackets.
"""

from __future__ import annotations

import re2

from recognizers.base import PatternRecognizer, Validator
from recognizers.secret_values import (
    NOT_CREDENTIAL_QUALIFIERS,
    SecretRecognizer,
    is_placeholder,
    is_pointer,
    key_value,
    passphrase_value,
    password_value,
    prose_value,
    secret_pattern,
    token_value,
)

# ---------------------------------------------------------------------------------------------
# The grammar of `key = value`
# ---------------------------------------------------------------------------------------------

LEFT = r"(?:^|[^A-Za-z0-9_.-])"  # a key starts after a character that cannot be part of it
K = r"[A-Za-z0-9_.-]*"  # the key's free prefix: `DB_`, `spring.datasource.`, `x-`, `--`
# After the key: trailing digits (`token2`), a closing quote, then = := ::= ?= => -> : or the
# .NET `key="X" value="…"` attribute pair. Token-like keys also take `", "` (`getenv("API_TOKEN",
# "…")`); password keys do not, as lists of field names (`"passwd", "cache_peer"`) read the same.
ASSIGN = r"[0-9]*(?:\\?[\"'][ \t]+value[ \t]*=|\\?[\"']?[ \t]*(?:=>|->|:{0,3}=|\?=|:))"
SEP = rf"(?:[0-9]*\\?[\"'][ \t]*,|{ASSIGN})"
# An opening quote, and a `Bearer `/`Basic `/`Token ` scheme before the value if there is one.
OPEN = r"[ \t]*\\?[\"'`]?(?:(?:bearer|basic|token)[ \t]+)?"
# A bare value: cannot start like a template, mask, comment, list or call (`*`, `%`, `!`, `^`,
# `?` only before a character that is not one of them: `*O1x…` is a password, `***` a mask);
# stops at whitespace, quotes, `,;&`, backslash and closing brackets.
VALUE = (
    r"((?:[^\s\"'`\\,;&<>(){}\[\]#%!|*?:^=]|[*%!^?][^\s\"'`\\,;&<>(){}\[\]#%!|*?:^=])"
    r"[^\s\"'`\\,;&)}\]]*)"
)
# A quoted value, spaces and the other quote characters allowed (`"it's mine"`); RE2 has no
# back-references, so one alternative (and capture group) per quote character.
QUOTED = (
    r"(?:\\?\"([^\"\r\n\\]{1,200})\\?\"|\\?'([^'\r\n\\]{1,200})\\?'|"
    r"\\?`([^`\r\n\\]{1,200})\\?`)"
)

# The password word at the end of a key, misspellings included; `pw` and `pass` only as a whole
# word (`DB_PASS`, `pw=`), never inside one (`bypass`, `npw`); `dbPass`, `userPw` by their hump.
PW_WORD = (
    r"(?:pass(?:word|wd|wrd|owrd|wort|code|phrase|w)|pas(?:sw|w)ord|paswd|paswrd|pwd|pswd"
    r"|pword)"
)
PASSWORD_KEY = rf"(?:{K}{PW_WORD}|(?:{K}[_.-])?(?:pw|pass)|{K}(?-i:[a-z0-9](?:Pass|Pw)|[A-Z0-9]PW))"
_PASSWORD_TRIGGERS = ("pass", "pasw", "pwd", "pw", "pswd")

TOKEN_KEY = (
    rf"{K}(?:secret|token|credentials?|auth|jwt|api[_.-]?key|apikey|privkey|"
    rf"(?:access|secret|private|auth|master|signing|encryption|account|client|app|consumer|"
    rf"license|shared|session|subscription|webhook)[_.-]?key|session[_.-]?id|sessid|"
    # The public half of a key pair (`accessId`, `AWS_ACCESS_KEY_ID`) still lets an attacker
    # pair it with a leaked secret: scrub it too.
    rf"access[_.-]?(?:key[_.-]?)?id)"
    # Written as two words in prose and consoles: `Secret Key: …`, `API key = …`.
    rf"|(?:secret|private|access|api)[ ]key"
)
# Keys that end like a secret but hold something else: anti-CSRF and paging tokens, public keys.
_NOT_SECRET_KEY = (
    rf"{K}(?:{NOT_CREDENTIAL_QUALIFIERS})[ _.-]?(?:key[_.-]?)?(?:token|key|api[_.-]?key){SEP}"
)
# Other `*_key` names: vendor keys (`HEROKU_KEY`, `hubspotKey`), minus well-known non-secrets;
# and `login` slots (`sonar.login`) when they hold a generated value rather than a user name.
_OTHER_KEY = rf"{K}(?:[A-Za-z0-9][_.-]?key|login)"
_NOT_SECRET_OTHER_KEY = (
    rf"{K}(?:public|publishable|primary|foreign|sort|partition|range|hash|cache|idempotency|"
    rf"object|row|routing|dedup|deduplication|correlation|message|request|trace|event|order|"
    rf"group|composite|unique|lookup|index|map|dict|kms|gpg|pgp)[_.-]?key{SEP}"
)


def keyed(
    name: str,
    key: str,
    *,
    deny: str | None,
    triggers: tuple[str, ...],
    validator: Validator,
    score: float = 0.8,
    separator: str = SEP,
) -> SecretRecognizer:
    """`key <separator> value`, or `--key value` on a command line."""
    cli_form = rf"--[A-Za-z0-9_-]*(?:{key.removeprefix(K)})[ \t]+"
    assigned = rf"(?:{cli_form}|(?:{key}){separator}){OPEN}{VALUE}"
    body = assigned if deny is None else rf"(?:{deny}|{assigned})"
    return secret_pattern(
        name, rf"(?i){LEFT}{body}", triggers, validator, value_group=1, score=score,
        ignore_case=True, past_ampersand=True,
    )  # fmt: skip


def _password(
    name: str,
    pattern: str,
    triggers: tuple[str, ...],
    validator: Validator = password_value,
    *,
    ignore_case: bool = True,
    score: float = 0.8,
) -> SecretRecognizer:
    """A password in one of its contexts; the value is the first group that took part."""
    return secret_pattern(
        name, pattern, triggers, validator, value_group=1, score=score, ignore_case=ignore_case,
        any_group=True, past_ampersand=True,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Value checks for the looser contexts
# ---------------------------------------------------------------------------------------------

_DATE_OR_TIME = re2.compile(r"^\d{1,4}[-/:.]\d{1,2}(?:[-/:.T ]\d{1,4})*")
_NAME = re2.compile(r"^[a-z][a-z0-9]*(?:_[a-z0-9]+)+$")


def _not_a_word(value: str) -> bool:
    """After a bare space (`password hunter2`, `.netrc`): not a word, a name, a label or a date;
    a digit or a symbol says someone typed a password."""
    if _DATE_OR_TIME.match(value) or _NAME.match(value) or value[-1] in ":=":
        return False
    if not any(c.isdigit() or not (c.isalnum() or c in "-_.") for c in value):
        return False
    return prose_value(value)


def _quoted_password(value: str) -> bool:
    """A quoted value after a password keyword: one token, or a few words that are no message.
    Quotes vouch that it is a value, so `a=b` inside is not read as the next assignment."""
    if value.strip() != value:
        return False
    if " " in value:
        return passphrase_value(value)
    return len(value) >= 4 and not is_placeholder(value) and not is_pointer(value)


def _flag_value(value: str) -> bool:
    """After a password flag: not another flag, not a number (`-p 3306` is mysql's port)."""
    return not value.isdigit() and password_value(value)


# ---------------------------------------------------------------------------------------------
# The recognizers
# ---------------------------------------------------------------------------------------------

_CMP = r"[ \t]*(?:===?|!==?|<>)[ \t]*"
_PW_NAME = rf"(?:[A-Za-z_$][\w$.]*?)?{PW_WORD}\w*|[A-Za-z_$][\w$.]*?[_.](?:pw|pass)\b"

CREDENTIAL_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    keyed(
        "generic_password",
        PASSWORD_KEY,
        deny=None,
        triggers=_PASSWORD_TRIGGERS,
        validator=password_value,
        separator=ASSIGN,
    ),
    _password(
        "generic_password_quoted",
        # A quoted value: any first character (`"#Gg…"`), spaces (`"correct horse battery"`),
        # C#'s verbatim `@"…"`, and no word or constant check: quotes say it is a literal.
        rf"(?i){LEFT}(?:{PASSWORD_KEY}){ASSIGN}[ \t]*@?{QUOTED}",
        _PASSWORD_TRIGGERS,
        _quoted_password,
    ),
    _password(
        "password_after_space",
        # `password hunter2x`: only what cannot be a word.
        rf"(?i){LEFT}{K}(?:{PW_WORD})[ \t]+{VALUE}(?:$|[\s,;&])",
        _PASSWORD_TRIGGERS,
        _not_a_word,
    ),
    _password(
        "password_after_space_quoted",
        # SQL's `PASSWORD 'x'`, prose `password "x"`.
        rf"(?i){LEFT}{K}(?:{PW_WORD})[ \t]+{QUOTED}",
        _PASSWORD_TRIGGERS,
        _quoted_password,
    ),
    _password(
        "redis_conf_password",
        # redis.conf / sentinel.conf: `requirepass s3cret`, `masterauth s3cret`.
        r"(?i)(?:^|[\s\"'])(?:requirepass|masterauth)[ \t]+[\"']?([^\s\"']+)",
        ("requirepass", "masterauth"),
    ),
    _password(
        "htpasswd_password",
        # `htpasswd -b[c] file user PASS` (batch mode takes the password on the command line).
        r"\bhtpasswd(?:[ \t]+-[a-zA-Z]+)*[ \t]+-[a-zA-Z]*b[a-zA-Z]*(?:[ \t]+-[a-zA-Z]+)*"
        r"[ \t]+\S+[ \t]+\S+[ \t]+[\"']?([^\s\"']+)",
        ("htpasswd",),
    ),
    _password(
        "smb_user_password",
        # smbclient / mount.cifs: `-U user%pass`, `--user=user%pass`.
        r"(?:^|[ \t])(?:-U[ \t]*|--user=)[\"']?[^\s%\"']+%([^\s\"']+)",
        ("-u", "--user="),
        ignore_case=False,
    ),
    _password(
        "piped_password_stdin",
        # `echo 'X' | docker login --password-stdin` (and podman, helm, oras, skopeo...).
        rf"(?i)\b(?:echo|printf)[ \t]+(?:-[a-z]+[ \t]+)?(?:{QUOTED}|([^\s|\"'$]+))[ \t]*\|"
        r"[^\r\n|]*--password-stdin",
        ("--password-stdin",),
    ),
    _password(
        "netrc_password",
        r"(?i)\bmachine[ \t]+\S+[ \t]+login[ \t]+\S+[ \t]+password[ \t]+([^\s\"']+)",
        ("machine",),
    ),
    _password(
        "sql_password",
        # MySQL `IDENTIFIED [WITH plugin] BY 'x'`, Oracle `IDENTIFIED BY x`, `PASSWORD('x')`.
        r"(?i)\b(?:identified(?:[ \t]+with[ \t]+\w+)?[ \t]+by(?:[ \t]+password)?|"
        r"password[ \t]*\()[ \t]*(?:'([^'\r\n]{1,128})'|\"([^\"\r\n]{1,128})\"|([^\s'\";)]+))",
        ("identified", "password("),
        _quoted_password,
    ),
    _password(
        "jdbc_user_password",
        # Oracle thin URLs and sqlplus: `scott/tiger@host`.
        r"(?i)(?:\bjdbc:oracle:[a-z0-9]+:@?|\bsqlplus(?:[ \t]+-\w+)*[ \t]+)[^\s/@:\"']+/"
        r"([^\s@\"'/]+)(?:@|[ \t]|$)",
        ("jdbc:oracle", "sqlplus"),
    ),
    _password(
        "mysql_client_password",
        # `mysql -u root -pS3cret db`: the value is glued to `-p` (`-p 3306` would be a prompt).
        r"(?:^|[\s;&|(])(?i:mysql|mysqldump|mysqladmin|mysqlimport|mysqlcheck|mysqlsh|mariadb|"
        r"mariadb-dump)\b[^\r\n|;&]*?[ \t]-p[\"']?([^\s\"'-][^\s\"']*)",
        ("mysql", "mariadb"),
        _flag_value,
        ignore_case=False,
    ),
    _password(
        "cli_password_flag",
        # `-Password 'x'` (PowerShell), `-storepass x` (keytool), `-passin pass:x` (openssl),
        # `--db-pass x`, `sshpass -p x`, `redis-cli -a x`.
        r"(?i)(?:(?:^|[ \t])-{1,2}(?:[a-z]+[_-])?(?:password|passwd|passphrase|pwd|pass|"
        r"storepass|keypass|srcstorepass|deststorepass|passin|passout)|\bsshpass[ \t]+-p|"
        r"\bredis-cli\b[^\r\n|;&]*?[ \t]-a)(?:[ \t]+|=)(?:pass:|file:|env:)?"
        r"(?:'([^'\r\n]{1,128})'|\"([^\"\r\n]{1,128})\"|([^\s\"'$(-][^\s\"']*))",
        ("-pass", "-pwd", "storepass", "keypass", "sshpass", "redis-cli"),
        lambda v: _quoted_password(v) if " " in v else _flag_value(v),
    ),
    _password(
        "powershell_secure_string",
        r"(?i)convertto-securestring[ \t]+(?:-string[ \t]+)?['\"]([^'\"\r\n]{1,128})['\"]",
        ("convertto-securestring",),
        _quoted_password,
    ),
    _password(
        "define_secret",
        # C/C++ and Arduino sketches: `#define WIFI_PASS "x"`, `#define API_TOKEN "x"`.
        r"(?i)#[ \t]*define[ \t]+\w*(?:pass|pwd|secret|token|api_?key|cred)\w*[ \t]+"
        r"(?:L|u8)?\"([^\"\r\n]{1,200})\"",
        ("define",),
        _quoted_password,
    ),
    _password(
        "password_comparison",
        # `password == "x"`, `pwd === 'x'`, `password.equals("x")`, `strcmp(pass, "x")`.
        rf"(?i)(?:{LEFT}(?:{PASSWORD_KEY})\)?(?:{_CMP}|\.equals(?:ignorecase)?\([ \t]*)|"
        rf"\bstrn?cmp\([ \t]*(?:{_PW_NAME})[ \t]*,[ \t]*(?:L)?){QUOTED}",
        _PASSWORD_TRIGGERS,
        _quoted_password,
    ),
    _password(
        "password_comparison_reversed",
        rf"(?i){QUOTED}(?:{_CMP}|\.equals(?:ignorecase)?\([ \t]*)(?:{_PW_NAME})",
        _PASSWORD_TRIGGERS,
        _quoted_password,
    ),
    _password(
        "password_setter",
        # `setPassword("x")`, `.password("x")`, `withPassword("x")`, `password: "x"` in calls.
        rf"(?i)(?:^|[.\s(])(?:set|with|use)?_?(?:{PW_WORD})[ \t]*\([ \t]*{QUOTED}[ \t]*\)",
        _PASSWORD_TRIGGERS,
        _quoted_password,
    ),
    keyed(
        "generic_secret",
        TOKEN_KEY,
        deny=_NOT_SECRET_KEY,
        triggers=("secret", "token", "auth", "cred", "key", "jwt", "sess", "access"),
        validator=token_value,
    ),
    keyed(
        "generic_vendor_key",
        _OTHER_KEY,
        deny=_NOT_SECRET_OTHER_KEY,
        triggers=("key", "login"),
        validator=key_value,
        score=0.7,
    ),
    _password(
        "xml_secret_element",
        rf"(?i)<[A-Za-z0-9_:.-]*(?:{PW_WORD}|pass|pw|secret|token|api[_-]?key|access[_-]?key|"
        r"private[_-]?key)>[ \t]*([^<\s](?:[^<\r\n]*[^<\s])?)[ \t]*</",
        (*_PASSWORD_TRIGGERS, "secret>", "token>", "key>"),
    ),
    _password(
        "prose_secret",
        # Chat and prompts: "my password is Tr0ub4dor&3", "the api key was …".
        r"(?i)\b(?:password|passphrase|passcode|api[ _-]?key|secret key|secret|"
        r"access token|auth token|bearer token|token)[ \t]+(?:is|was)(?:[ \t]*:)?[ \t]+[\"'`]?"
        r"([^\s\"'`]*[^\s\"'`.,;:!?)])",
        ("password", "passphrase", "passcode", "key", "secret", "token"),
        prose_value,
        score=0.7,
    ),
)
