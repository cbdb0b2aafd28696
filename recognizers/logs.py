"""User and host names in common log idioms: sshd/PAM, sudo/su/cron/login, syslog headers, web
servers, Hadoop/Zookeeper/OpenStack/Spark, Kubernetes, Windows security events, databases, LDAP.

A log line names a user or a machine through a small set of phrasings: `user=X`, `for user X`,
`Failed password for X from`, `rhost=H`, `getaddrinfo for H [ip]`, `H/10.0.0.1:8020`,
`hdfs://H:9000`... Each recognizer declares one such idiom and its value group is the name alone.
Validators reject what the slot often holds besides a name: log vocabulary (`user unknown`,
`connected to database`), IP addresses (the IP recognizer's), shell variables, Java class and
package names, file names and version strings.

Decisions worth knowing:
- `root`, `admin`, `guest` are reported: they are accounts that were tried or used, and the policy
  layer can allow-list them. `unknown`, `LOGIN`, `anonymous` and empty values are not.
- Numeric values in `user=`/`uid=` slots are ids and are skipped. In sshd's own phrasing (`invalid
  user 0 from`) any token is the login that was tried, digits included: people type passwords
  into the user prompt, so that slot is scrubbed whatever it holds.
- `user: X` with an unquoted value is not taken (`User: Alice` is a chat transcript, `--user
  user:pass` a curl flag); `user=X`, `username: X` and quoted `"user": "X"` are.
- A dotted name anywhere in a line is a HOSTNAME only if its last label is a DNS top-level domain
  and it is not shaped like a file, class, package name or code (`hostname_fqdn`, lower score);
  that also covers `from H`, `by H`, `connected to H` for DNS names. Single-label names
  (`msra-sa-41`) are taken only where an idiom says "this is a host" (`host=`, `H/10.0.0.1`,
  `H:8020`, `hdfs://H`, `on node H`), never after a bare `from`/`by`/`to`.
- Where a line names the client (`rhost=`, `from H`, `getaddrinfo for H`, `closed by H`) the
  entity is HOSTNAME. Where it names infrastructure a process talks to (`connect to H`, `proxy H`,
  `H:8020`, `scheme://H`, any dotted FQDN) it is SERVER_HOSTNAME: found, but by default not
  scrubbed (`detection.skip_entities`), since destinations, proxies and cluster nodes identify no
  person and are what makes a log useful.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

from recognizers.base import PatternRecognizer

SERVER_HOSTNAME = "SERVER_HOSTNAME"

# --- vocabulary -------------------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that fill a user/host slot without being a name: grammar and "nothing here" markers.
_NOT_A_NAME = _words(
    """a an the and or not no none null nil undefined unknown n/a na by from for with without to
    into in on at of as is was are were be been being has have had does did do if that this these
    those which who whom whose it its any all some each every via after before since while when
    where then than there here - -- * ? empty blank nobody true false yes ok i you he she we they
    me him her us them my your his our their"""
)

# Open-class words that follow "user" in prose and messages ("for user authentication").
_LOG_VOCABULARY = _words(
    """name names id ids uid gid account accounts session sessions agent agents authentication auth
    authenticated authorization authorized unauthorized login logins logon logged logout logoff
    request requests requested data space mode level interface input output info information
    list lookup group groups home directory dir profile profiles settings setting config
    configuration specified provided given cancelled canceled aborted closed exists exist must
    may can cannot could should will would shall denied access permission permissions privilege
    privileges invalid illegal valid authenticating existing new deleted removed created added
    changed modified updated locked unlocked disabled enabled expired password passwords
    credentials credential token tokens key keys context details object entry entries record
    records role roles type types field fields attribute attributes database db table process
    processes program programs namespace quota limit limits activity action actions event events
    error errors failed failure failures success successful succeeded found defined mapping
    management manager service services interaction experience friendly guide manual base count
    counts already successfully exited left joined signed connected disconnected tried attempted
    switched mapped cache certificate cert filter index identity principal owner preferences state
    status content message messages mailbox tty terminal shell unit units slice instance instances
    returned logging mismatch match matched search registry store storage schema check checks
    verification verified response timeout timed connection connections address addresses port
    ports side visible hidden supplied required missing right rights keyword pool class classes
    code environment variable variables e.g i.e"""
)

_NOT_A_HOME_OWNER = _NOT_A_NAME | _words(
    "shared public default user username users your yourname someone example"
)

_NOT_A_HOST = _NOT_A_NAME | _words(
    """localhost localhost.localdomain ip6-localhost local default unknown asp.net vb.net ado.net
    example.com"""
)

# --- host name shape --------------------------------------------------------------------------

# Country-code TLDs: every two-letter entry of the public suffix list, plus the ones it lists only
# as wildcards (`*.bd`).
_CC_TLDS = _words(
    """ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo br bs
    bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec
    ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy
    hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz
    la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx
    my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re
    ro rs ru rw sa sb sc sd se sg sh si sj sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th
    tj tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm
    zw"""
)
# ccTLDs that are far more often a file extension (`setup.py`, `main.cf`, `Makefile.am`): a domain
# only under a second-level label (`wsi.edu.pl`).
_FILE_EXTENSION_TLDS = _words(
    "ac am bz cc cf cu gd gs la ls md mk ml mm mo pl pm ps py rs sh so sv tf"
)
# TLDs that also end identifiers, method calls and configuration keys (`user.id`, `java.io`,
# `x.gt(0)`, `threading.local`, `session.timeout.ms`): a bare name ending in one needs three labels
# and a host-like trait (see is_fully_qualified_host_name). Words that are mostly method names in
# code (`logger.info`, `user.name`, `self.app`) are not TLDs here at all.
_AMBIGUOUS_TLDS = _words(
    """ai as at be by co do fm ge gg gt id in io is it lt ly me ms my na ne no pt to tv us blog
    cloud club dev example intra local mobi online shop svc tech xyz"""
)
_TWO_LABEL_TLDS = _words(
    "com net org edu gov mil biz asia onion arpa localdomain lan internal intranet corp"
)
_SECOND_LEVEL_DOMAINS = _words("com net org edu gov mil co ac or ne go")
# First labels that name a service host (`www.example.it`, `mail.example.in`).
_SERVICE_LABELS = _words(
    "www mail smtp imap pop ns mx ftp api cdn vpn proxy gw gateway portal login auth"
)

# Last labels that mark a file name, not a domain (`config.yaml`, `job.jar`, `index.html`).
_FILE_EXTENSIONS = _words(
    """yaml yml json xml conf cfg ini toml properties props env log logs txt csv tsv md rst html
    htm xhtml css js mjs ts tsx jsx java class jar war ear py pyc so dll exe bat cmd ps1 sh bash
    zsh rb pl pm go rs c h cc cpp hpp cs php asp aspx jsp sql db sqlite pid lock sock tmp bak
    swp gz tgz zip tar bz2 xz 7z rpm deb img iso qcow2 vmdk png jpg jpeg gif svg ico pdf doc
    docx xls xlsx ppt pptx crt pem key pub der p12 pfx cer csr service socket timer mount target
    repo list d old new orig rej patch diff out err"""
)
# First labels of reverse-domain package names (`org.apache.hadoop.ipc`, `com.google.common`).
_PACKAGE_ROOTS = _words("org com net io edu gov java javax jdk sun android kotlin scala")
# First labels of attribute chains in code (`self.model.to`, `this.user.id`, `np.linalg.norm`).
_CODE_RECEIVERS = _words(
    """self this cls super obj ctx app req res request response args kwargs options opts config
    settings window document module exports np pd tf torch os sys math"""
)
_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
_INTERFACE_PREFIXES = (
    "eth", "en", "wlan", "wl", "lo", "tun", "tap", "br", "docker", "veth", "virbr", "bond", "vlan",
    "ppp", "awdl", "utun", "llw", "ib", "vmnet", "vboxnet", "cni", "flannel", "cali",
)  # fmt: skip


def _is_label(label: str) -> bool:
    return (
        0 < len(label) <= 63
        and label[0] != "-"
        and label[-1] != "-"
        and all(c in _LABEL_CHARS for c in label)
    )


def _looks_like_uuid(value: str) -> bool:
    parts = value.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(
        c in "0123456789abcdefABCDEF" for p in parts for c in p
    )


def _has_domain_suffix(labels: list[str]) -> bool:
    return len(labels) >= 3 and labels[-2].lower() in _SECOND_LEVEL_DOMAINS


def _host_labels(value: str) -> list[str] | None:
    """The DNS labels of `value`, or None when it is not shaped like a host name."""
    if len(value) > 253 or value.lower() in _NOT_A_HOST:
        return None
    labels = value.split(".")
    if not all(_is_label(label) for label in labels) or labels[-1].isdigit():
        return None  # not DNS-shaped, or an IP address, version or decimal number
    if len(labels) == 1 and _looks_like_uuid(value):
        return None
    if len(labels) > 1:
        last = labels[-1]
        if last.lower() in _FILE_EXTENSIONS and not _has_domain_suffix(labels):
            return None
        if last not in (last.lower(), last.upper()):  # `hadoop.ipc.Server`: a class name
            return None
        if labels[0].lower() in _PACKAGE_ROOTS and len(labels) >= 3:
            return None
    return labels


def _has_camel_hump(label: str) -> bool:
    return any(a.islower() and b.isupper() for a, b in itertools.pairwise(label))


def _looks_like_identifier(label: str) -> bool:
    """`userService`, `240Distance`: code or field names, where machine names are one case."""
    if _has_camel_hump(label):
        return True
    return any(
        a.isdigit() and b.isupper() and c.islower()
        for a, b, c in zip(label, label[1:], label[2:], strict=False)
    )


def is_host_name(value: str) -> bool:
    """Any host name, single labels included: for slots the idiom declares a host."""
    return _host_labels(value) is not None


def is_fully_qualified_host_name(value: str) -> bool:
    """A dotted name ending in a top-level domain (see the TLD tiers above), not code."""
    labels = _host_labels(value)
    if labels is None or len(labels) < 2 or labels[0].lower() in _CODE_RECEIVERS:
        return False
    tld = labels[-1].lower()
    if tld in _FILE_EXTENSION_TLDS:
        return _has_domain_suffix(labels)
    if tld in _AMBIGUOUS_TLDS:
        # Three labels and something host-like: `www.example.it`, `ns1.example.id`, `a.co.in`;
        # `session.timeout.ms` and `mapreduce.task.id` are configuration keys, `this.userSvc.to`
        # code (a camel hump; `www.ShopInsider.com` is still a domain under an unambiguous TLD).
        if any(_has_camel_hump(label) for label in labels):
            return False
        return len(labels) >= 3 and (
            labels[0].lower() in _SERVICE_LABELS
            or _has_domain_suffix(labels)
            or any(c.isdigit() or c == "-" for c in value)
        )
    return tld in _TWO_LABEL_TLDS or tld in _CC_TLDS


def is_evident_host_name(value: str) -> bool:
    """A host name that shows it is one, for slots that also take words ("server cannot...").

    Fully qualified (`db1.example.com`), or a machine-style label with a digit or hyphen
    (`node-7`, `web01`, `db01.prod`), never a bare word or a version (`v2`, `18.x`).
    """
    if is_fully_qualified_host_name(value):
        return True
    labels = _host_labels(value)
    if labels is None or len(labels[0]) < 3 or not any(c.isalpha() for c in labels[0]):
        return False
    if _looks_like_identifier(labels[0]):
        return False
    first = labels[0].lower()
    if first[0] == "v" and first[1:].isdigit():
        return False
    if len(labels) > 1 and not (labels[-1].isalpha() and len(labels[-1]) >= 2):
        return False
    return any(c.isdigit() or c == "-" for c in first)


def is_host_name_beside_address(value: str) -> bool:
    """A host name next to its address, `mail[10.0.0.1]`; not an interface (`en0 (10...)`) nor a
    field name (`mIp(10.0.0.1)`)."""
    if "." not in value and value.lower().startswith(_INTERFACE_PREFIXES):
        return False
    return is_host_name(value) and not _has_camel_hump(value)


# --- user name shape --------------------------------------------------------------------------


def _username_validator(
    stop_words: frozenset[str], *, allow_numeric: bool, evident: bool = False
) -> Callable[[str], bool]:
    def is_user_name(value: str) -> bool:
        if len(value) > 64 or value.lower() in stop_words or value.startswith("$"):
            return False  # `$USER`, `$1`: a shell variable, not a name
        if not allow_numeric and value.isdigit():
            return False
        # "Evident": a login-style token (`jdoe42`, `j.doe`, `svc_backup`, `CORP\jdoe`).
        return not evident or any(c.isdigit() or c in "_.@\\$" for c in value)

    return is_user_name


_is_tried_login = _username_validator(_NOT_A_NAME, allow_numeric=True)
# Values that stand in a user slot without naming anyone: outcomes and documentation placeholders.
_NOT_A_KEYED_NAME = _NOT_A_NAME | _words(
    "anonymous failed success login user username usr name changeme xxx"
)
_is_keyed_user_name = _username_validator(_NOT_A_KEYED_NAME, allow_numeric=False)
_is_user_name_in_prose = _username_validator(_NOT_A_NAME | _LOG_VOCABULARY, allow_numeric=False)
_is_evident_user_name = _username_validator(
    _NOT_A_NAME | _LOG_VOCABULARY, allow_numeric=False, evident=True
)
_is_home_owner_name = _username_validator(_NOT_A_HOME_OWNER, allow_numeric=False)


def _is_plain_login(value: str) -> bool:
    """A login without the camel humps of a class name (`HttpServer2`, `QuorumPeer`)."""
    return _is_keyed_user_name(value) and not _has_camel_hump(value)


# --- shared pattern pieces ----------------------------------------------------------------------

# A login name: word characters plus `$` (machine accounts), `\` (DOMAIN\user), inner `.@-`.
_USER = r"([\w$][\w$\\-]*(?:[.@][\w$\\-]+)*)"
_HOST = r"([A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*)"
_QUOTE = r"[\"'<]"
# A key starts a token or ends a dotted property path (`spring.datasource.username=`).
_KEY_START = r"(?:^|[^\w-])[\"']?"
# `key=value`, `key = value`, `key: value`, `"key":"value"`. A bare `key=` never takes the next
# token as its value (`ruser= rhost=...` is an empty ruser), nor does `key:value` (curl's
# `--user name:password`).
_ASSIGN = r"[\"']?(?:=|\s+=\s*|:[ \t]+|:" + _QUOTE + ")"
_ASSIGN_QUOTED_COLON = r"[\"']?(?:=|\s+=\s*|:[ \t]*" + _QUOTE + ")"
_IPV4ISH = r"\d{1,3}(?:\.\d{1,3}){3}"
_ADDRESS = r"(?:" + _IPV4ISH + r"|[0-9A-Fa-f]*::?[0-9A-Fa-f:.]+)"
# What follows a user name in a log message, as opposed to the next word of a noun phrase in
# prose ("for user satisfaction and retention"): end of line, punctuation, `by`, an address...
_AFTER_NAME_IN_LOG = (
    r"(?:[\"'>]|\s*$|[.,;:!?()\]}|\r\n]|\s+(?:by|from|on|at|to|via|with|port|using|uid|\(|\[|\d))"
)
# A status that follows `user X` in a log message: `user jdoe not found`, `User root from
# 192.0.2.4 not allowed`, `user bob: authentication failure`, `user jdoe logged in`.
_STATUS_AFTER_USER = (
    r"[\"'>]?\s*(?:from\s+[\w.:\[\]-]+\s+not\s+allowed|not\s+(?:found|allowed|permitted|in\s+sudoers)"
    r"|was\s+not\s+found|does\s*n[o']t\s+exist|logged\s+(?:in|out|on|off)|(?:successfully\s+)?"
    r"authenticated|(?:is|has\s+been)\s+(?:locked|unlocked|disabled|enabled|deleted|expired)"
    r"|:\s+auth)"
)

# --- USERNAME ---------------------------------------------------------------------------------

_NAMED_USER_KEYS = (
    r"user[ _.-]?name|login[ _.-]?name|logname|account[ _]?name|logon account|sudo_user"
    r"|remote_user|sasl_username|(?:target|subject)_?user_?name"
)
_SHORT_USER_KEYS = r"user|[rsdl]user|login|acct|uid"

USERNAME_NAMED_KEY = PatternRecognizer(
    name="username_named_key",
    entity_type="USERNAME",
    # `username: jdoe`, `logname=jdoe`, `user.name=svc`, `Account Name:  jdoe` (Windows).
    pattern=_KEY_START + r"(?:" + _NAMED_USER_KEYS + r")" + _ASSIGN + _QUOTE + r"?" + _USER,
    value_group=1,
    triggers=("name", "account", "sudo_user", "remote_user"),
    validator=_is_keyed_user_name,
    ignore_case=True,
)

USERNAME_SHORT_KEY = PatternRecognizer(
    name="username_short_key",
    entity_type="USERNAME",
    # `user=root`, `ruser=jdoe`, `acct="jdoe"`, `uid=jdoe` (LDAP), `user=<jdoe>` (dovecot),
    # `"user": "jdoe"`; a colon form only with a quoted value.
    pattern=_KEY_START
    + r"(?:"
    + _SHORT_USER_KEYS
    + r")"
    + _ASSIGN_QUOTED_COLON
    + _QUOTE
    + r"?"
    + _USER,
    value_group=1,
    triggers=("user", "login", "acct", "uid"),
    validator=_is_keyed_user_name,
    ignore_case=True,
)

USERNAME_SHORT_KEY_COLON = PatternRecognizer(
    name="username_short_key_colon",
    entity_type="USERNAME",
    # YAML and headers, `user: app_rw`, `login: jdoe42`: unquoted, so only a login-style token
    # (`User: Alice Smith` and `User: Can you...` are chat transcripts).
    pattern=_KEY_START + r"(?:" + _SHORT_USER_KEYS + r")[\"']?:[ \t]+" + _USER,
    value_group=1,
    triggers=("user:", "login:", "acct:", "uid:"),
    validator=_is_evident_user_name,
    ignore_case=True,
    score=0.75,
)

USERNAME_AFTER_USER_PREPOSITION = PatternRecognizer(
    name="username_after_for_user",
    entity_type="USERNAME",
    # `session opened for user X by`, `New session 3 of user X.`, `Disconnected from user X
    # 10.0.0.1`, `Connection closed by authenticating user X 10.0.0.1`, `delete user 'X'`.
    pattern=(
        r"\b(?:for|of|by|from|as|authenticating|existing|new|delete|add|change|lock|unlock|remove)"
        r"\s+user\s+" + _QUOTE + r"?" + _USER + _AFTER_NAME_IN_LOG
    ),
    value_group=1,
    triggers=("user",),
    validator=_is_user_name_in_prose,
    ignore_case=True,
    score=0.8,
)

USERNAME_USER_THEN_STATUS = PatternRecognizer(
    name="username_user_then_status",
    entity_type="USERNAME",
    # `user jdoe not found`, `User root from 10.0.0.1 not allowed`, `user bob: authentication...`.
    pattern=r"\buser\s+" + _QUOTE + r"?" + _USER + _STATUS_AFTER_USER,
    value_group=1,
    triggers=("user",),
    validator=_is_user_name_in_prose,
    ignore_case=True,
    score=0.8,
)

USERNAME_USER_LOGIN_SHAPED = PatternRecognizer(
    name="username_user_login_shaped",
    entity_type="USERNAME",
    # `user jdoe42 ...`, `user svc_backup`, `user CORP\jdoe`: a login-style token after "user".
    pattern=r"\buser\s+" + _USER,
    value_group=1,
    triggers=("user",),
    validator=_is_evident_user_name,
    ignore_case=True,
    score=0.75,
)

USERNAME_QUOTED_AFTER_USER = PatternRecognizer(
    name="username_quoted_after_user",
    entity_type="USERNAME",
    # MySQL `Access denied for user 'bob'@'10.0.0.5'`, PostgreSQL `for user "bob"`, `role "bob"`.
    pattern=r"\b(?:user|role)\s+" + _QUOTE + _USER + r"[\"'>]",
    value_group=1,
    triggers=("user", "role"),
    validator=_is_keyed_user_name,
    ignore_case=True,
)

USERNAME_INVALID_USER = PatternRecognizer(
    name="username_invalid_user",
    entity_type="USERNAME",
    # sshd reports whatever login was tried, dictionary words included (`invalid user test`).
    pattern=r"\b(?:invalid|illegal)\s+user\s+" + _QUOTE + r"?" + _USER,
    value_group=1,
    triggers=("invalid user", "illegal user"),
    validator=_is_tried_login,
    ignore_case=True,
)

USERNAME_SSHD_AUTH = PatternRecognizer(
    name="username_sshd_auth",
    entity_type="USERNAME",
    # `Failed password for X from`, `Accepted publickey for X from`, `Failed none for invalid user`.
    pattern=(
        r"\b(?:failed|accepted|postponed)\s+[\w/-]+\s+for\s+(?:(?:invalid|illegal)\s+user\s+)?"
        + _USER
        + r"\s+from\b"
    ),
    value_group=1,
    triggers=("failed", "accepted", "postponed"),
    validator=_is_tried_login,
    ignore_case=True,
)

USERNAME_AUTH_FAILURES = PatternRecognizer(
    name="username_auth_failures",
    entity_type="USERNAME",
    # `Too many authentication failures for root`, `maximum authentication attempts exceeded for X`.
    pattern=(
        r"\b(?:authentication\s+failures?|attempts\s+exceeded)\s+for\s+"
        r"(?:(?:invalid|illegal)\s+user\s+)?" + _QUOTE + r"?" + _USER
    ),
    value_group=1,
    triggers=("authentication failure", "attempts exceeded"),
    validator=_is_tried_login,
    ignore_case=True,
)

USERNAME_PAM_CALLER = PatternRecognizer(
    name="username_pam_caller",
    entity_type="USERNAME",
    # `session opened for user root by jdoe(uid=1000)`.
    pattern=r"\bby\s+" + _USER + r"\(uid=\d+\)",
    value_group=1,
    triggers=("(uid=",),
    validator=_is_keyed_user_name,
)

USERNAME_ID_OUTPUT = PatternRecognizer(
    name="username_id_output",
    entity_type="USERNAME",
    # id(1)-style `uid=1000(jdoe) gid=1000(jdoe)`, also in audit and process listings.
    pattern=r"\b(?:e|fs|s|r)?uid=\d+\(" + _USER + r"\)",
    value_group=1,
    triggers=("uid=",),
    validator=_is_keyed_user_name,
)

USERNAME_SUDO = PatternRecognizer(
    name="username_sudo",
    entity_type="USERNAME",
    # `sudo:   jdoe : TTY=pts/0 ; PWD=/home/jdoe ; USER=root ; COMMAND=/bin/ls`.
    pattern=r"\bsudo(?:\[\d+\])?:\s+" + _USER + r"\s+:\s",
    value_group=1,
    triggers=("sudo",),
    validator=_is_keyed_user_name,
)

USERNAME_CRON = PatternRecognizer(
    name="username_cron",
    entity_type="USERNAME",
    # `CRON[1234]: (jdoe) CMD (/usr/bin/backup)`.
    pattern=r"\(" + _USER + r"\)\s+CMD\b",
    value_group=1,
    triggers=("cmd",),
    validator=_is_keyed_user_name,
)

USERNAME_SU_TARGET = PatternRecognizer(
    name="username_su_target",
    entity_type="USERNAME",
    # `su: (to root) jdoe on pts/0`: the account switched to...
    pattern=r"\(to\s+" + _USER + r"\)\s+\S+\s+on\b",
    value_group=1,
    triggers=("(to ",),
    validator=_is_keyed_user_name,
)

USERNAME_SU_SOURCE = PatternRecognizer(
    name="username_su_source",
    entity_type="USERNAME",
    # ...and the account that switched.
    pattern=r"\(to\s+\S+\)\s+" + _USER + r"\s+on\b",
    value_group=1,
    triggers=("(to ",),
    validator=_is_keyed_user_name,
)

USERNAME_LOGIN_PROGRAM = PatternRecognizer(
    name="username_login_program",
    entity_type="USERNAME",
    # login(1) `FAILED LOGIN 1 FROM tty1 FOR jdoe,`, `LOGIN ON tty1 BY jdoe`; useradd `new user:
    # name=jdoe, UID=1001`.
    pattern=r"(?:\bFAILED LOGIN \d+ FROM \S+ FOR |\bLOGIN ON \S+ BY |\buser:\s*name=)" + _USER,
    value_group=1,
    triggers=("login", "name="),
    validator=_is_keyed_user_name,
)

USERNAME_FTP = PatternRecognizer(
    name="username_ftp",
    entity_type="USERNAME",
    # vsftpd: `[jdoe] OK LOGIN: Client "10.0.0.5"`, `[jdoe] FAIL LOGIN: ...`.
    pattern=r"\[" + _USER + r"\] (?:OK|FAIL) (?:LOGIN|UPLOAD|DOWNLOAD|MKDIR|RMDIR|DELETE|RENAME)\b",
    value_group=1,
    triggers=("] ok ", "] fail "),
    validator=_is_keyed_user_name,
)

USERNAME_AT_ADDRESS = PatternRecognizer(
    name="username_at_address",
    entity_type="USERNAME",
    # `root@10.0.0.5`, `scp f jdoe@192.0.2.7:/tmp`. Before a name instead of an address, `x@y` is
    # too often something else: an e-mail address, a syslog facility (`local@tbird-admin1`), a
    # Java identity hash (`Foo@7f3a2b`) or an image digest (`nginx@sha256:...`). Not after `:`,
    # where it is the password of `user:password@host`.
    pattern=r"(?:^|[^\w.@+:-])([A-Za-z_][\w-]*)@" + _IPV4ISH + r"\b",
    value_group=1,
    triggers=("@",),
    needs_digit=True,
    validator=_is_plain_login,
)

USERNAME_URL_USERINFO = PatternRecognizer(
    name="username_url_userinfo",
    entity_type="USERNAME",
    # The user of `scheme://user:password@host/` and `ftp://user@host/` (the password is the
    # secret recognizers').
    pattern=r"\b[A-Za-z][A-Za-z0-9+.-]*://([\w$.-]+)(?::[^\s/@\"'<>]*)?@[\w\[]",
    value_group=1,
    triggers=("://",),
    validator=_is_plain_login,
)

USERNAME_SSH_TARGET = PatternRecognizer(
    name="username_ssh_target",
    entity_type="USERNAME",
    # `ssh -p 2222 deploy@bastion-1`, `rsync -a ./ backup@nas01:/vol`: the login of a remote shell.
    pattern=r"\b(?:ssh|scp|sftp|rsync|mosh)\s(?:[^@\s]*\s+){0,6}?([A-Za-z_][\w.-]*)@[A-Za-z0-9]",
    value_group=1,
    triggers=("ssh", "scp", "sftp", "rsync", "mosh"),
    validator=_is_plain_login,
)

USERNAME_HOME_DIRECTORY = PatternRecognizer(
    name="username_home_directory",
    entity_type="USERNAME",
    # The owner in `/home/jdoe/.ssh`, `/Users/jdoe`, `C:\Users\jdoe\AppData`, `PWD=/home/jdoe`.
    pattern=(
        r"(?:^|[^\w.-])(?:/home|/export/home|/var/home|/Users|[A-Za-z]:\\Users)[/\\]"
        r"([\w$][\w$.-]*)"
    ),
    value_group=1,
    triggers=("/home/", "/users/", "\\users\\"),
    validator=_is_home_owner_name,
    score=0.7,
)


def _is_user_list(value: str) -> bool:
    names = [n.strip() for n in value.split(",")]
    return all(_is_keyed_user_name(n) for n in names)


USERNAME_ACL_LIST = PatternRecognizer(
    name="username_acl_list",
    entity_type="USERNAME",
    # Spark and Hadoop security managers: `Changing view acls to: yarn,jdoe`, `users with modify
    # permissions: Set(yarn, jdoe)`. The list is one finding.
    pattern=r"(?i)(?:\b(?:view|modify|admin) acls (?:groups )?to:[ \t]*|\busers\s+with\s+"
    r"(?:view|modify|admin)\s+permissions:\s*Set\()([\w$.-]+(?:,[ \t]*[\w$.-]+)*)",
    value_group=1,
    triggers=("acls to", "permissions: set("),
    validator=_is_user_list,
)

# The owner in HDFS home paths. A bare `/user/x` is left alone: web routes (`/user/settings`)
# look the same, so the path must be an HDFS URI or lead to a job's staging or trash directory.
USERNAME_HDFS_URI_HOME = PatternRecognizer(
    name="username_hdfs_uri_home",
    entity_type="USERNAME",
    pattern=r"hdfs://[^/\s]*/user/([\w$][\w$.-]*)",
    value_group=1,
    triggers=("hdfs://",),
    validator=_is_home_owner_name,
    score=0.7,
)
USERNAME_HDFS_STAGING = PatternRecognizer(
    name="username_hdfs_staging",
    entity_type="USERNAME",
    pattern=r"(?:^|[^\w.-])/user/([\w$][\w$.-]*)/\.(?:staging|Trash|sparkStaging|hiveJars)\b",
    value_group=1,
    triggers=("/user/",),
    validator=_is_home_owner_name,
    score=0.7,
)

USERNAME_ACCESS_LOG = PatternRecognizer(
    name="username_access_log",
    entity_type="USERNAME",
    # NCSA common/combined log format: `host ident authuser [10/Oct/2000:13:55:36 -0700] "GET..."`.
    pattern=(
        r"(?:^|\s)[^\s\[]+ [^\s\[]+ ([^\s\[\]\"]+) \[\d{1,2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2}"
    ),
    value_group=1,
    triggers=(" [",),
    needs_digit=True,
    validator=_is_keyed_user_name,
)

# --- HOSTNAME ---------------------------------------------------------------------------------

_HOST_KEYS = (
    r"host(?:[ _.-]?name)?|[rsd]host|(?:src|dst|remote|client|source|dest)[_-]?host(?:name)?"
    r"|server[_-]?name|node[_-]?name|fqdn|computer(?:[ _]?name)?|workstation(?:[ _]?name)?"
    r"|source workstation|machine[_-]?name"
)

HOSTNAME_KEY_VALUE = PatternRecognizer(
    name="hostname_key_value",
    entity_type="HOSTNAME",
    # `rhost=H`, `host="H"`, `host.name=H` (Java), `"hostname": "H"`: any host-shaped value.
    pattern=_KEY_START + r"(?:" + _HOST_KEYS + r")" + _ASSIGN_QUOTED_COLON + _QUOTE + r"?" + _HOST,
    value_group=1,
    triggers=("host", "name", "fqdn", "computer", "workstation"),
    validator=is_host_name,
    ignore_case=True,
)


def _key_colon_host(
    name: str, entity_type: str, keys: str, triggers: tuple[str, ...]
) -> PatternRecognizer:
    # `Host: www.example.com` (HTTP), `Workstation Name: WS-0042`, `server: msra-sa-41:8030`,
    # `node=worker-3`: the value must look like a machine (`Host: John` is a transcript).
    return PatternRecognizer(
        name=name,
        entity_type=entity_type,
        pattern=(_KEY_START + r"(?:" + keys + r")[\"']?(?:[:=][ \t]*)" + _QUOTE + r"?" + _HOST),
        value_group=1,
        triggers=triggers,
        validator=is_evident_host_name,
        ignore_case=True,
        score=0.75,
    )


HOSTNAME_KEY_COLON = _key_colon_host(
    "hostname_key_colon",
    "HOSTNAME",
    _HOST_KEYS + r"|machine|computer",
    ("host", "name", "computer", "workstation", "machine"),
)
# Infrastructure a process talks to: `server: nn-1:8030`, `upstream: app-2`, `proxy=p-1`.
SERVER_HOSTNAME_KEY_COLON = _key_colon_host(
    "server_hostname_key_colon",
    SERVER_HOSTNAME,
    r"server|node|peer|proxy|upstream",
    ("server", "node", "peer", "proxy", "upstream"),
)

HOSTNAME_AFTER_HOST_WORD = PatternRecognizer(
    name="hostname_after_host_word",
    entity_type=SERVER_HOSTNAME,
    # `for host 'H'`, `on node H`, `nfs: server H not responding`, `through proxy H:5070`.
    pattern=(
        r"\b(?:host|node|server|machine|computer|workstation|proxy|peer)\s+" + _QUOTE + r"?" + _HOST
    ),
    value_group=1,
    triggers=("host", "node", "server", "machine", "computer", "workstation", "proxy", "peer"),
    validator=is_evident_host_name,
    ignore_case=True,
    score=0.75,
)

HOSTNAME_CONNECTION = PatternRecognizer(
    name="hostname_connection",
    entity_type="HOSTNAME",
    # The client side: `getaddrinfo for H [ip]`, `connection from H`, `closed by H`,
    # `Changed static host name to 'H'`.
    pattern=(
        r"\b(?:getaddrinfo\s+for|(?:connect(?:ed|ing|ion)?|closed)\s+(?:from|by)"
        r"|host\s*name\s+(?:(?:set|changed)\s+)?to)\s+" + _QUOTE + r"?" + _HOST
    ),
    value_group=1,
    triggers=("getaddrinfo", "connect", "closed", "name"),
    validator=is_evident_host_name,
    ignore_case=True,
)

HOSTNAME_FROM_FQDN = PatternRecognizer(
    name="hostname_from_fqdn",
    entity_type="HOSTNAME",
    # The client named by DNS after a bare `from`/`by`: `Authentication failure for u from
    # ws-14.corp.example.com`. Single labels are too often words here, so only dotted names.
    pattern=r"\b(?:from|by)\s+" + _HOST,
    value_group=1,
    triggers=("from", "by"),
    validator=is_fully_qualified_host_name,
    ignore_case=True,
)

SERVER_HOSTNAME_CONNECTION = PatternRecognizer(
    name="server_hostname_connection",
    entity_type=SERVER_HOSTNAME,
    # The server side: `connect to server: H:8030`, `connecting to H`.
    pattern=(r"\bconnect(?:ed|ing|ion)?\s+to(?:\s+(?:server|host):?)?\s+" + _QUOTE + r"?" + _HOST),
    value_group=1,
    triggers=("connect",),
    validator=is_evident_host_name,
    ignore_case=True,
)

HOSTNAME_BEFORE_ADDRESS = PatternRecognizer(
    name="hostname_before_address",
    entity_type="HOSTNAME",
    # A name with its address: postfix `mail.example.com[10.0.0.5]`, sshd `H [10.0.0.5]`,
    # `H (10.0.0.5)`, and Java's InetAddress `H/10.0.0.5:8020`. `f(10.0.0.5)` is a call, not this.
    pattern=(
        r"(?:^|[^\w./-])"
        + _HOST
        + r"(?:\s?\["
        + _ADDRESS
        + r"\]|\s\("
        + _ADDRESS
        + r"\)|/"
        + _IPV4ISH
        + r"\b)"
    ),
    value_group=1,
    triggers=("[", "(", "/"),
    needs_digit=True,
    validator=is_host_name_beside_address,
)

HOSTNAME_AFTER_ADDRESS = PatternRecognizer(
    name="hostname_after_address",
    entity_type="HOSTNAME",
    # Reverse DNS printed after the address: `connection from 10.0.0.5 (adsl-10-0-0-5.example.net)`.
    pattern=r"\b" + _IPV4ISH + r"\s+\(" + _HOST + r"\)",
    value_group=1,
    triggers=("(",),
    needs_digit=True,
    validator=is_host_name_beside_address,
)

HOSTNAME_URL_AUTHORITY = PatternRecognizer(
    name="hostname_url_authority",
    entity_type=SERVER_HOSTNAME,
    # `hdfs://namenode-1:8020/user`, `http://app-01:8080/health`, `spark://H:7077`.
    pattern=r"\b[A-Za-z][A-Za-z0-9+.-]*://" + _HOST + r"(?::\d{1,5})?(?:[/?#\s\"'<>\])]|$)",
    value_group=1,
    triggers=("://",),
    validator=is_evident_host_name,
    score=0.6,  # below a URL recognizer's, so a merged URL span keeps the URL type
)

HOSTNAME_WITH_PORT = PatternRecognizer(
    name="hostname_with_port",
    entity_type=SERVER_HOSTNAME,
    # `New: rm-host-9:9000`, `NodeId: worker-3:45454`: a machine-style name with a port. A time
    # (`a-1:22:33`), an image tag (`python:3.11`) or a one-digit suffix is not taken. The name may
    # start with a digit (`04DN8IQ.corp...`) so the leftmost match is always the whole name.
    pattern=r"\b([A-Za-z0-9][\w.-]*):\d{2,5}(?:[^\w:.]|\.(?:\s|$)|$)",
    value_group=1,
    triggers=(":",),
    needs_digit=True,
    validator=is_evident_host_name,
    score=0.7,
)

HOSTNAME_SYSLOG_HEADER = PatternRecognizer(
    name="hostname_syslog_header",
    entity_type="HOSTNAME",
    # RFC 3164 `Jun 14 15:16:01 combo sshd[1234]:` and ISO-stamped `2024-05-01T10:00:00Z H app:`.
    pattern=(
        r"^(?:<\d{1,3}>\d?\s*)?(?:[A-Z][a-z]{2}\s+\d{1,2}\s+\d{2}:\d{2}:\d{2}"
        r"|\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)\s+"
        + _HOST
        + r"\s+[\w./()-]+(?:\[\d+\])?:"
    ),
    value_group=1,
    needs_digit=True,
    validator=is_host_name,
)

HOSTNAME_DHCP_CLIENT = PatternRecognizer(
    name="hostname_dhcp_client",
    entity_type="HOSTNAME",
    # dhcpd names the client device, often after its owner: `DHCPACK on 192.0.2.7 to
    # 3c:22:fb:12:34:56 (Janes-iPhone) via eth0`, `DHCPREQUEST for 192.0.2.7 from … (host)`.
    pattern=r"\bDHCP[A-Z]+\s+(?:on|for)\s+\S+\s+(?:to|from)\s+[0-9A-Fa-f:]{17}\s+\(([^()\s]+)\)",
    value_group=1,
    triggers=("dhcp",),
)

HOSTNAME_K8S_SCHEDULED = PatternRecognizer(
    name="hostname_k8s_scheduled",
    entity_type="HOSTNAME",
    # Kubernetes scheduler event: `Successfully assigned default/web-7d4b9 to worker-node-2`.
    pattern=r"\bassigned\s+[\w.-]+/[\w.-]+\s+to\s+" + _HOST,
    value_group=1,
    triggers=("assigned",),
    validator=is_host_name,
)

_TLD_ALTERNATION = "|".join(
    sorted(_TWO_LABEL_TLDS | (_AMBIGUOUS_TLDS - _CC_TLDS), key=len, reverse=True)
)

HOSTNAME_FQDN = PatternRecognizer(
    name="hostname_fqdn",
    entity_type=SERVER_HOSTNAME,
    # Any dotted name with a TLD label. The whole dotted run is taken (`foo.com.Bar` keeps its
    # tail, `model.to(` its call bracket) so the validator judges the real last label and rejects
    # code. Not after `@`: that is an e-mail address. `mail.example.com[10.0.0.1]` is left to
    # hostname_before_address.
    pattern=(
        r"(?:^|[^\w.@-])((?:[A-Za-z0-9][\w-]*\.)+(?i:[a-z]{2}|" + _TLD_ALTERNATION + r")\b"
        r"[\w-]*(?:\.[\w-]+)*[(\[]?)"
    ),
    value_group=1,
    triggers=(".",),
    validator=is_fully_qualified_host_name,
    score=0.6,
)

LOG_IDIOM_RECOGNIZERS: tuple[PatternRecognizer, ...] = (
    HOSTNAME_FROM_FQDN,
    SERVER_HOSTNAME_CONNECTION,
    SERVER_HOSTNAME_KEY_COLON,
    USERNAME_NAMED_KEY,
    USERNAME_SHORT_KEY,
    USERNAME_SHORT_KEY_COLON,
    USERNAME_AFTER_USER_PREPOSITION,
    USERNAME_USER_THEN_STATUS,
    USERNAME_USER_LOGIN_SHAPED,
    USERNAME_QUOTED_AFTER_USER,
    USERNAME_INVALID_USER,
    USERNAME_SSHD_AUTH,
    USERNAME_AUTH_FAILURES,
    USERNAME_PAM_CALLER,
    USERNAME_ID_OUTPUT,
    USERNAME_SUDO,
    USERNAME_CRON,
    USERNAME_SU_TARGET,
    USERNAME_SU_SOURCE,
    USERNAME_LOGIN_PROGRAM,
    USERNAME_FTP,
    USERNAME_AT_ADDRESS,
    USERNAME_SSH_TARGET,
    USERNAME_URL_USERINFO,
    USERNAME_HOME_DIRECTORY,
    USERNAME_HDFS_URI_HOME,
    USERNAME_HDFS_STAGING,
    USERNAME_ACL_LIST,
    USERNAME_ACCESS_LOG,
    HOSTNAME_KEY_VALUE,
    HOSTNAME_KEY_COLON,
    HOSTNAME_AFTER_HOST_WORD,
    HOSTNAME_CONNECTION,
    HOSTNAME_BEFORE_ADDRESS,
    HOSTNAME_AFTER_ADDRESS,
    HOSTNAME_URL_AUTHORITY,
    HOSTNAME_WITH_PORT,
    HOSTNAME_SYSLOG_HEADER,
    HOSTNAME_DHCP_CLIENT,
    HOSTNAME_K8S_SCHEDULED,
    HOSTNAME_FQDN,
)
