"""Realistic secret-bearing lines and look-alikes: secret recall and false positives, held out.

    .venv/bin/python benchmarks/secret_variants.py --half tune --seed 1
    .venv/bin/python benchmarks/secret_variants.py --half holdout --seed 2 --show 15
    .venv/bin/python benchmarks/secret_variants.py --half holdout --seed 2 --write lines.jsonl
    .venv/bin/python benchmarks/secret_variants.py --half holdout --seed 2 --patterns-only

Every positive line plants one secret through an *idiom* (how a language, config format, shell,
database or log writes a credential) with a *keyword spelling* (`password`, `pwd`, `passwrd`,
`DB_PASS`, `apiKey`...), a separator and a quoting style, and a value (a human password, a random
token, a provider token, a PEM body line). Negatives are look-alikes that must survive: request
and trace ids, hashes after `sha256`/`commit`, versions, base64 of plain words, placeholders, and
log sentences about passwords and tokens.

Idioms, keyword spellings, providers and look-alike kinds are each split into two halves by a
hash of their name. Rules are tuned on `--half tune`; the figures to quote come from
`--half holdout` with another seed: idioms, spellings and providers the rules were not tuned on.

A positive counts as scrubbed when every copy of the planted secret is covered by a finding of
the engine (`Scrubber.detect_texts`, so normalisation and every pass take part); a negative
counts as a false positive when anything at all is found in it. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import string
import sys
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ALNUM = string.ascii_letters + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
B64URL = ALNUM + "-_"
UPPER_DIGITS = string.ascii_uppercase + string.digits
STAND_IN_WORDS = ("fake", "dummy", "example", "sample", "placeholder")
NEGATIONS = ("doesn't", "don't", "didn't", "isn't", "wasn't", "won't", "doesnt", "dont")
WORDS = ("summer winter autumn spring river forest mango tiger falcon rocket violet pepper coffee "
         "silver orange bridge castle dragon meadow harbor piano garden monkey lemon cobalt").split()  # fmt: skip
SENTENCES = ("the quick brown fox jumps over the lazy dog", "hello world from the build server",
             "please find the attached report for last week", "meeting moved to thursday at noon",
             "all systems operational no incidents today", "lorem ipsum dolor sit amet consectetur")  # fmt: skip


@dataclass(frozen=True)
class Line:
    text: str
    secret: str | None  # None: a look-alike that must survive
    family: str
    kind: str


def _half(name: str) -> int:
    return zlib.crc32(name.encode()) % 2


class Gen:
    """Random values of the shapes people and providers produce."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def s(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def pick(self, items: tuple[str, ...] | list[str]) -> str:
        return self.rng.choice(items)

    def uuid(self, version: int = 4) -> str:
        h = self.s(HEX, 32)
        return f"{h[:8]}-{h[8:12]}-{version}{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def typed_runs(self) -> str:
        """What a person types as a fake key: ascending runs of 4-7 from anywhere on the
        keyboard, some capitalised (`abcd1234`, `Defghi456789`, `wxyz7890`)."""
        runs = []
        for _ in range(self.rng.randint(2, 4)):
            alphabet = self.pick((string.ascii_lowercase, string.digits))
            size = self.rng.randint(4, 7)
            start = self.rng.randint(0, len(alphabet) - size)
            run = alphabet[start : start + size]
            runs.append(run.capitalize() if self.rng.random() < 0.3 else run)
        return "".join(runs)

    def human_password(self) -> str:
        word = self.pick(WORDS)
        forms = (
            lambda: word.capitalize() + str(self.rng.randint(10, 2099)) + self.pick("!@#$%&*?"),
            lambda: word.replace("o", "0").replace("e", "3") + self.pick("!_.-") + self.s(string.digits, 3),
            lambda: self.s(ALNUM + "!@#%^&*-_=+", self.rng.randint(10, 20)),
            lambda: f"{word}-{self.pick(WORDS)}-{self.rng.randint(1, 99)}",
            lambda: self.s(ALNUM, self.rng.randint(8, 16)),
            lambda: word + self.s(string.digits, 4),
        )  # fmt: skip
        return self.rng.choice(forms)()

    def random_token(self) -> str:
        forms = (
            lambda: self.s(ALNUM, self.rng.randint(24, 48)),
            lambda: self.s(B64, 40) + "==",
            lambda: self.s(HEX, self.rng.choice((32, 40, 64))),
            lambda: self.s(B64URL, self.rng.randint(30, 60)),
        )
        return self.rng.choice(forms)()

    def pem_line(self) -> str:
        raw = bytes(self.rng.getrandbits(8) for _ in range(48))
        return base64.b64encode(raw).decode()


# ---------------------------------------------------------------------------------------------
# Provider tokens, as the providers document them (prefix, alphabet, length)
# ---------------------------------------------------------------------------------------------


def _discord_token(g: Gen) -> str:
    """base64 of a bot's snowflake id (18 or 19 digits), a time stamp, an HMAC (old or new)."""
    bot_id = g.pick("123456789") + g.s(string.digits, g.pick((17, 18)))
    encoded = base64.b64encode(bot_id.encode()).decode().rstrip("=")
    return f"{encoded}.{g.s(B64URL, 6)}.{g.s(B64URL, g.pick((27, 38)))}"


PROVIDERS: dict[str, Callable[[Gen], str]] = {
    "aws": lambda g: g.pick(("AKIA", "ASIA", "AROA")) + g.s(UPPER_DIGITS, 16),
    "github": lambda g: g.pick(("ghp_", "gho_", "ghs_")) + g.s(ALNUM, 36),
    "github_fine": lambda g: "github_pat_" + g.s(ALNUM, 22) + "_" + g.s(ALNUM, 59),
    "gitlab": lambda g: "glpat-" + g.s(B64URL, 20),
    "slack": lambda g: f"xoxb-{g.s(string.digits, 12)}-{g.s(string.digits, 13)}-{g.s(ALNUM, 24)}",
    "stripe": lambda g: g.pick(("sk_live_", "rk_live_", "sk_test_")) + g.s(ALNUM, 24),
    "stripe_webhook": lambda g: "whsec_" + g.s(ALNUM, 32),
    "google": lambda g: "AIza" + g.s(B64URL, 35),
    "openai": lambda g: "sk-proj-" + g.s(B64URL, 80),
    "anthropic": lambda g: "sk-ant-api03-" + g.s(B64URL, 93) + "AA",
    "npm": lambda g: "npm_" + g.s(ALNUM, 36),
    "pypi": lambda g: "pypi-AgEIcHlwaS5vcmc" + g.s(B64URL, 120),
    "sendgrid": lambda g: "SG." + g.s(B64URL, 22) + "." + g.s(B64URL, 43),
    "twilio": lambda g: "SK" + g.s(HEX, 32),
    "huggingface": lambda g: "hf_" + g.s(string.ascii_letters, 34),
    "digitalocean": lambda g: "dop_v1_" + g.s(HEX, 64),
    "shopify": lambda g: g.pick(("shpat_", "shpss_")) + g.s(HEX, 32),
    "databricks": lambda g: "dapi" + g.s(HEX, 32),
    "mailchimp": lambda g: g.s(HEX, 32) + "-us" + str(g.rng.randint(1, 20)),
    "mailgun": lambda g: "key-" + g.s(HEX, 32),
    "square": lambda g: "sq0atp-" + g.s(B64URL, 22),
    "linear": lambda g: "lin_api_" + g.s(ALNUM, 40),
    "notion": lambda g: "ntn_" + g.s(string.digits, 11) + g.s(ALNUM, 35),
    "doppler": lambda g: "dp.pt." + g.s(ALNUM, 43),
    "pulumi": lambda g: "pul-" + g.s(HEX, 40),
    "vault": lambda g: "hvs." + g.s(B64URL, 90),
    "terraform": lambda g: g.s(ALNUM, 14) + ".atlasv1." + g.s(ALNUM, 67),
    "grafana": lambda g: "glsa_" + g.s(ALNUM, 32) + "_" + g.s(HEX, 8),
    "newrelic": lambda g: "NRAK-" + g.s(UPPER_DIGITS, 27),
    "sentry": lambda g: "sntryu_" + g.s(HEX, 64),
    "postman": lambda g: "PMAK-" + g.s(HEX, 24) + "-" + g.s(HEX, 34),
    "docker": lambda g: "dckr_pat_" + g.s(B64URL, 27),
    "figma": lambda g: "figd_" + g.s(B64URL, 40),
    "hubspot": lambda g: "pat-na1-" + g.uuid(),
    "airtable": lambda g: "pat" + g.s(ALNUM, 14) + "." + g.s(HEX, 64),
    "planetscale": lambda g: "pscale_tkn_" + g.s(ALNUM, 43),
    "supabase": lambda g: "sbp_" + g.s(HEX, 40),
    "groq": lambda g: "gsk_" + g.s(ALNUM, 52),
    "replicate": lambda g: "r8_" + g.s(ALNUM, 37),
    "perplexity": lambda g: "pplx-" + g.s(ALNUM, 48),
    "langsmith": lambda g: "lsv2_pt_" + g.s(HEX, 32) + "_" + g.s(HEX, 10),
    "tavily": lambda g: "tvly-" + g.s(ALNUM, 32),
    "openrouter": lambda g: "sk-or-v1-" + g.s(HEX, 64),
    "circleci": lambda g: "CCIPAT_" + g.s(ALNUM, 22) + "_" + g.s(HEX, 40),
    "buildkite": lambda g: "bkua_" + g.s(string.ascii_lowercase + string.digits, 40),
    "rubygems": lambda g: "rubygems_" + g.s(HEX, 48),
    "clojars": lambda g: "CLOJARS_" + g.s(string.ascii_lowercase + string.digits, 60),
    "atlassian": lambda g: "ATATT3" + g.s(B64URL, 186),
    "contentful": lambda g: "CFPAT-" + g.s(B64URL, 43),
    "dynatrace": lambda g: "dt0c01." + g.s(UPPER_DIGITS, 24) + "." + g.s(ALNUM, 64),
    "brevo": lambda g: "xkeysib-" + g.s(HEX, 64) + "-" + g.s(ALNUM, 16),
    "razorpay": lambda g: "rzp_live_" + g.s(ALNUM, 14),
    "flutterwave": lambda g: "FLWSECK-" + g.s(HEX, 32) + "-X",
    "easypost": lambda g: "EZAK" + g.s(ALNUM, 54),
    "shippo": lambda g: "shippo_live_" + g.s(HEX, 40),
    "age": lambda g: "AGE-SECRET-KEY-1" + g.s("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58),
    "telegram": lambda g: g.s(string.digits, 10) + ":AA" + g.s(B64URL, 33),
    "discord": _discord_token,
    "tailscale": lambda g: "tskey-auth-" + g.s(ALNUM, 12) + "-" + g.s(ALNUM, 32),
    "alibaba": lambda g: "LTAI" + g.s(ALNUM, 20),
    "heroku": lambda g: "HRKU-AA" + g.s(B64URL, 58),
    "netlify": lambda g: "nfp_" + g.s(ALNUM, 36),
    "fly": lambda g: "fo1_" + g.s(B64URL, 43),
    "prefect": lambda g: "pnu_" + g.s(ALNUM, 36),
    "sonar": lambda g: "sqp_" + g.s(ALNUM, 40),
    "nvidia": lambda g: "nvapi-" + g.s(B64URL, 64),
    "xai": lambda g: "xai-" + g.s(ALNUM, 80),
    "cloudflare": lambda g: "v1.0-" + g.s(HEX, 24) + "-" + g.s(HEX, 146),
    "zoho": lambda g: "1000." + g.s(HEX, 32) + "." + g.s(HEX, 32),
    "jfrog": lambda g: "AKCp" + g.s(ALNUM, 69),
}

# ---------------------------------------------------------------------------------------------
# Keyword spellings and idioms
# ---------------------------------------------------------------------------------------------

PASSWORD_KEYS = ("password", "Password", "PASSWORD", "passwd", "pwd", "pw", "pass", "passphrase",
                 "pasword", "passwrd", "db_password", "DB_PASSWORD", "dbPassword", "mysql_pwd",
                 "MYSQL_PWD", "admin_pass", "ADMIN_PASS", "userPw", "smtp_password",
                 "redis.password", "spring.datasource.password", "root_pw", "new_password",
                 "PGPASSWORD", "user_passwd", "passcode", "login_password", "pswd", "pword",
                 "passwort", "Passwd", "adminPassword", "wifi_pass", "keystore.password")  # fmt: skip
TOKEN_KEYS = ("token", "api_key", "apiKey", "API_KEY", "secret", "client_secret", "auth_token",
              "access_token", "auth", "credential", "credentials", "private_key", "secret_key",
              "x-api-key", "session_token", "refresh_token", "GITHUB_TOKEN", "SLACK_TOKEN",
              "api-key", "Api-Key", "APIKEY", "app_secret", "signing_secret", "webhook_secret",
              "encryption_key", "master_key", "jwt_secret", "bearer_token", "secretKey",
              "accessToken", "consumer_secret", "service_token")  # fmt: skip
# Keys of secrets an issuer generates (a password or credential may be anything a person types).
GENERATED_KEYS = tuple(k for k in TOKEN_KEYS if "cred" not in k.lower() and k != "auth")
SEPARATORS = ("=", " = ", ": ", ":", " := ", " => ", "=>")
QUOTES = ("", '"', "'")

# Keyed idioms: (name, template). {k} key, {v} value, {q} quote, {s} separator, {K} upper key.
KEYED_IDIOMS: tuple[tuple[str, str], ...] = (
    ("env", "{K}={v}"),
    ("env_export", "export {K}={q}{v}{q}"),
    ("yaml", "{k}: {q}{v}{q}"),
    ("yaml_nested", "    {k}: {q}{v}{q}"),
    ("ini", "{k} = {v}"),
    ("toml", '{k} = "{v}"'),
    ("json", '{{"user": "app", "{k}": "{v}"}}'),
    ("json_escaped", '"{{\\"{k}\\":\\"{v}\\"}}"'),
    ("php_array", "    '{k}' => '{v}',"),
    ("js_object", "  {k}: '{v}',"),
    ("js_const", 'const {k} = "{v}";'),
    ("java_field", 'private static final String {K} = "{v}";'),
    ("go_assign", '{k} := "{v}"'),
    ("csharp_var", 'var {k} = @"{v}";'),
    ("python_assign", "{k} = '{v}'"),
    ("python_kwarg", "client = connect(host='db', {k}='{v}')"),
    ("ruby_hash", "  {k}: '{v}',"),
    ("xml_element", "<{k}>{v}</{k}>"),
    ("xml_add", '<add key="{k}" value="{v}" />'),
    ("xml_attr", '<connection user="app" {k}="{v}"/>'),
    ("docker_env", "docker run -e {K}={v} app:latest"),
    ("dockerfile_env", "ENV {K}={v}"),
    ("cli_eq", "./deploy --{k}={v} --verbose"),
    ("cli_space", "./deploy --{k} {v} --verbose"),
    ("powershell_env", '$env:{K} = "{v}"'),
    ("bat_set", "set {K}={v}"),
    ("logfmt", "level=info user=bob {k}={v} took=3ms"),
    ("log_debug", "2024-05-01 10:00:01,123 DEBUG [main] connecting with {k}={v}"),
    ("log_colon", "[worker-3] auth attempt {k}: {v}"),
    ("json_log", '{{"ts":"2024-05-01T10:00:01Z","level":"debug","msg":"login","{k}":"{v}"}}'),
    ("query", "GET /api/v1/items?{k}={v}&page=2 HTTP/1.1"),
    ("properties", "{k}={v}"),
    ("k8s_literal", "kubectl create secret generic app --from-literal={k}={v}"),
    ("helm_set", "helm upgrade app ./chart --set {k}={v}"),
    ("ansi", "\x1b[33m{k}\x1b[0m={v}"),
    ("terraform_var", '  {k} = "{v}"'),
    ("sep_varied", "{k}{s}{q}{v}{q}"),
)

# Password-only idioms: {v} value.
PASSWORD_IDIOMS: tuple[tuple[str, str], ...] = (
    ("sql_identified", "CREATE USER 'app'@'%' IDENTIFIED BY '{v}';"),
    ("sql_identified_with", "ALTER USER app IDENTIFIED WITH mysql_native_password BY '{v}';"),
    ("sql_role", "CREATE ROLE app WITH LOGIN PASSWORD '{v}';"),
    ("sql_login", "CREATE LOGIN app WITH PASSWORD = '{v}';"),
    ("jdbc", "jdbc:mysql://db:3306/app?user=app&password={v}&useSSL=true"),
    ("jdbc_sqlserver", "jdbc:sqlserver://db:1433;databaseName=app;user=app;password={v};"),
    ("odbc", "Driver={{ODBC Driver 17}};Server=db;Uid=app;Pwd={v};"),
    ("ado", "Server=db;Database=app;User Id=app;Password={v};Encrypt=true;"),
    ("oracle_thin", "jdbc:oracle:thin:scott/{v}@//db:1521/orcl"),
    ("url_postgres", "postgres://app:{v}@db.internal:5432/orders"),
    ("url_mongo", "mongodb+srv://app:{v}@cluster0.example.net/db?retryWrites=true"),
    ("url_https", "https://deploy:{v}@git.example.com/org/repo.git"),
    ("mysql_p", "mysql -u root -p{v} app"),
    ("mysql_p_quoted", "mysql -h db -u root -p'{v}' -e 'select 1'"),
    ("mysqldump", "mysqldump --user=root --password={v} app > app.sql"),
    ("cli_password_space", "pg_tool --password {v} --host db"),
    ("powershell_password", "New-Thing -Name app -Password '{v}'"),
    ("powershell_secure", "$p = ConvertTo-SecureString '{v}' -AsPlainText -Force"),
    ("sshpass", "sshpass -p '{v}' ssh deploy@build-host"),
    ("redis_cli", "redis-cli -h cache -a {v} ping"),
    ("keytool", "keytool -importkeystore -srcstorepass {v} -deststorepass {v}"),
    ("openssl_pass", "openssl pkcs12 -export -in c.pem -passout pass:{v} -out c.p12"),
    ("define", '#define PASSWORD "{v}"'),
    ("define_wifi", '#define WIFI_PASS "{v}"'),
    ("compare_eq", 'if (password == "{v}") {{'),
    ("compare_py", "if pwd == '{v}':"),
    ("compare_equals", 'if (password.equals("{v}")) return true;'),
    ("compare_reversed", 'if ("{v}".equals(password)) return true;'),
    ("strcmp", 'if (strcmp(passwd, "{v}") == 0)'),
    ("setter", 'user.setPassword("{v}");'),
    ("builder", 'DataSource ds = builder.password("{v}").build();'),
    ("netrc", "machine api.example.com login bob password {v}"),
    ("prose", "my password is {v} please keep it safe"),
    ("curl_u", "curl -u admin:{v} https://ci.example.com/api"),
    ("repeat_confirm", "password={v} confirm_password={v}"),
    ("repeat_echo", "mysql -u root -p{v} app; echo {v} >> /tmp/pw.txt"),
    ("htpasswd", "htpasswd -b -c /etc/nginx/.htpasswd admin {v}"),
    ("docker_login_echo", "echo '{v}' | docker login -u bob --password-stdin"),
    ("smbclient", "smbclient //fs/share -U bob%{v}"),
    ("space_password", "password {v}"),
    ("requirepass", "requirepass {v}"),
)

# Token contexts without a credential key: {t} token.
TOKEN_CONTEXTS: tuple[tuple[str, str], ...] = (
    ("bare_log", "2024-05-01T10:00:00Z INFO using credentials {t} for upload"),
    ("bearer", "Authorization: Bearer {t}"),
    ("curl_header", 'curl -H "Authorization: token {t}" https://api.example.com/v1'),
    ("json_value", '{{"name": "ci", "value": "{t}"}}'),
    ("code_string", 'client = Client("{t}")'),
    ("url_path", "git clone https://{t}@github.com/org/repo.git"),
    ("query_param", "GET /hook?access_token={t} 200"),
    ("ansi_wrapped", "[deploy] key: \x1b[31m{t}\x1b[0m"),
    ("quoted_list", "keys = ['{t}']"),
    ("neutral_env", "CONFIG_VALUE={t}"),
    ("sentence", "I pasted {t} into the settings page yesterday"),
    ("yaml_value", "  value: {t}"),
)

PEM_PREFIXES: tuple[tuple[str, str], ...] = (
    ("bare", "{l}"),
    ("timestamp", "2024-05-01T10:00:00.123Z {l}"),
    ("build_step", "[build 12] step 3/7: {l}"),
    ("java_concat", '    + "{l}\\n"'),
    ("quoted_comma", '    "{l}",'),
    ("python_concat", "    '{l}'"),
    ("syslog", "May  1 10:00:00 host app[123]: {l}"),
    ("indented", "        {l}"),
    ("gh_actions", "2024-05-01T10:00:00.1234567Z {l}"),
)


def _look_alikes(g: Gen) -> dict[str, Callable[[], str]]:
    sentence = g.pick(SENTENCES)
    b64_words = base64.b64encode((sentence + " " + g.pick(SENTENCES)).encode()).decode()
    return {
        "request_id": lambda: f"request_id={g.uuid()} status=200 took=12ms",
        "trace_id": lambda: f"trace_id={g.s(HEX, 32)} span_id={g.s(HEX, 16)}",
        "correlation": lambda: f'{{"correlationId": "{g.uuid()}", "event": "created"}}',
        "user_id": lambda: f"user_id={g.uuid()} plan=pro",
        "sha256": lambda: f"sha256={g.s(HEX, 64)}",
        "commit": lambda: f"commit {g.s(HEX, 40)}",
        "git_merge": lambda: f"Merge: {g.s(HEX, 7)} {g.s(HEX, 7)}",
        "image_digest": lambda: f"image: app@sha256:{g.s(HEX, 64)}",
        "md5sum": lambda: f"{g.s(HEX, 32)}  release-1.4.2.tar.gz",
        "etag": lambda: f'ETag: "{g.s(HEX, 32)}"',
        "sri": lambda: f'<script src="app.js" integrity="sha384-{g.s(B64, 64)}"></script>',
        "checksum": lambda: f"checksum: {g.s(HEX, 40)}",
        "container_id": lambda: f"container {g.s(HEX, 64)} started",
        "version": lambda: (
            f"version={g.rng.randint(0, 9)}.{g.rng.randint(0, 30)}.{g.rng.randint(0, 99)}"
        ),
        "version_rc": lambda: (
            f"release v{g.rng.randint(1, 4)}.{g.rng.randint(0, 20)}.0-rc.{g.rng.randint(1, 5)} published"
        ),
        "go_version": lambda: (
            f"go version go1.{g.rng.randint(18, 23)}.{g.rng.randint(0, 9)} linux/amd64"
        ),
        "b64_words": lambda: f"payload={b64_words}",
        "b64_line": lambda: b64_words[:64],
        "b64_json": lambda: base64.b64encode(
            b'{"user":"bob","role":"admin","active":true}'
        ).decode(),
        "ph_angle": lambda: "password=<your-password>",
        "ph_words": lambda: "API_KEY=YOUR_API_KEY_HERE",
        "ph_env": lambda: "token=${GITHUB_TOKEN}",
        "ph_mask": lambda: "password: ********",
        "ph_aws_x": lambda: "aws_access_key_id = AKIA" + "X" * 16,
        "ph_aws_doc": lambda: "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        "ph_stripe_x": lambda: "STRIPE_KEY=sk_live_" + "x" * 24,
        "ph_changeme": lambda: "password: changeme",
        "ph_helm": lambda: "password: {{ .Values.db.password }}",
        "ph_pyformat": lambda: "password = %(db_password)s",
        "ph_null": lambda: '"password": null',
        "ph_empty": lambda: 'password: ""',
        "ph_ghp_x": lambda: "ghp_" + "x" * 36,
        "ph_redacted": lambda: "token: <REDACTED>",
        "ph_seq": lambda: "api_key=1234567890abcdef1234567890abcdef",
        "log_reset": lambda: f"password reset requested for user {g.rng.randint(1, 9999)}",
        "log_changed": lambda: "Password changed successfully",
        "log_policy": lambda: "password must be at least 8 characters long",
        "log_expired": lambda: "token expired, refreshing",
        "log_invalid": lambda: "invalid api key supplied",
        "log_rotation": lambda: f"secret rotation completed in {g.rng.randint(5, 500)} ms",
        "log_loaded": lambda: f"loaded {g.rng.randint(2, 9)} secrets from vault",
        "log_auth_ok": lambda: "auth ok",
        "max_tokens": lambda: f"max_tokens={g.rng.choice((256, 1024, 4096))}",
        "token_count": lambda: f"token_count: {g.rng.randint(100, 9999)}",
        "passwordless": lambda: "passwordless login enabled",
        "sshd_config": lambda: "PasswordAuthentication no",
        "page_token": lambda: f"page_token={g.s(ALNUM, 24)}",
        "public_key": lambda: f"public_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{g.s(B64, 43)}",
        "key_length": lambda: f"key_length={g.rng.choice((128, 256, 2048))}",
        "secret_name": lambda: "secret_name: db-credentials",
        "secret_ref": lambda: "secretKeyRef: {name: app-secrets, key: password}",
        "token_type": lambda: "token_type: bearer",
        "expires_in": lambda: f"expires_in: {g.rng.choice((3600, 7200))}",
        "password_stdin": lambda: "docker login -u bob --password-stdin registry.example.com",
        "mysql_prompt": lambda: "mysql -u root -p -h db",
        "mysql_port": lambda: "mysql -u root -P3306 -h db",
        "key_file": lambda: "key_file=/etc/app/secret.key",
        "password_file": lambda: "--password-file /run/secrets/db_password",
        "cache_key": lambda: f"cache key user:{g.rng.randint(1, 999)}:profile",
        "partition_key": lambda: f"partition_key=tenant-{g.rng.randint(1, 99)}",
        "timing": lambda: f"GET /healthz 200 {g.rng.randint(1, 99)}ms",
        "timestamp": lambda: f"2024-05-01T10:{g.rng.randint(10, 59)}:00Z INFO worker started",
        "csrf": lambda: f"csrf_token={g.s(ALNUM, 32)}",
        "password_field": lambda: "password_field=input#pw",
        "auth_type": lambda: "auth: oauth2",
        # Keys named like a secret that hold an anti-forgery or paging token, any spelling.
        "anti_forgery_header": lambda: f"X-{g.pick(('CSRF', 'XSRF'))}-Token: {g.s(B64, 44)}",
        "anti_forgery_json": lambda: (
            f'{{"{g.pick(("csrfToken", "xsrf_token", "authenticityToken"))}": "{g.s(ALNUM, 40)}"}}'
        ),
        "anti_forgery_form": lambda: f"authenticity_token={g.s(B64URL, 43)}&commit=Save",
        "paging_next": lambda: f"next_page_token: {g.s(B64URL, 32)}",
        "paging_cursor": lambda: f'{{"items": 20, "cursorToken": "{g.s(ALNUM, 28)}"}}',
        "paging_sync": lambda: f"level=debug msg=poll syncToken={g.s(ALNUM, 24)} n=3",
        # A token's key with a typed fake (`abc123def`): no issuer generates runs.
        "typed_runs": lambda: f"{g.pick(GENERATED_KEYS)}={g.typed_runs()}",
        "typed_runs_prefixed": lambda: (
            f"{g.pick(('API_TOKEN', 'access_key', 'apiKey'))}: {g.pick(('sk_', 'tok_', ''))}"
            f"{g.typed_runs()}"
        ),
        # Time- and name-based UUIDs under a token's key: identifiers, not credentials.
        "uuid_v1_token": lambda: f'"{g.pick(("auth_token", "token", "api_key"))}": "{g.uuid(1)}"',
        "uuid_from_name": lambda: f"access_token={g.uuid(g.pick((3, 5)))} status=ok",
        # A quoted message after a password key.
        "message_negation_yaml": lambda: (
            f'password: "{g.pick(NEGATIONS)} {g.pick(("match", "work", "expire", "change"))}"'
        ),
        "message_negation_log": lambda: (
            f'WARN login failed pwd="{g.pick(NEGATIONS)} meet the {g.pick(("policy", "rules"))}"'
        ),
        # Lower-case words joined by `-` or `_`, one of them a stand-in word.
        "stand_in_words": lambda: (
            f"{g.pick(PASSWORD_KEYS)} = {g.pick(('', 'a-', 'my-'))}{g.pick(STAND_IN_WORDS)}-"
            f"{g.pick(WORDS)}-{g.pick(WORDS)}"
        ),
        "stand_in_json": lambda: (
            f'{{"{g.pick(TOKEN_KEYS)}": "{g.pick(WORDS)}_{g.pick(STAND_IN_WORDS)}_{g.pick(WORDS)}"}}'
        ),
    }


# ---------------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------------


def _fill(template: str, g: Gen, key: str, value: str) -> str:
    return template.format(
        k=key, K=key.upper().replace(".", "_").replace("-", "_"), v=value,
        q=g.pick(QUOTES), s=g.pick(SEPARATORS),
    )  # fmt: skip


def generate(seed: int, half: int | None, per_kind: int) -> list[Line]:
    """Lines from every idiom, spelling, provider and look-alike of `half` (None: all)."""
    g = Gen(seed)

    def mine(items: tuple[tuple[str, str], ...] | tuple[str, ...]) -> list:  # type: ignore[type-arg]
        names = [i[0] if isinstance(i, tuple) else i for i in items]
        return [i for i, n in zip(items, names, strict=True) if half is None or _half(n) == half]

    lines: list[Line] = []
    pw_keys, tok_keys = mine(PASSWORD_KEYS), mine(TOKEN_KEYS)
    for name, template in mine(KEYED_IDIOMS):
        for _ in range(per_kind):
            pw = g.human_password()
            lines.append(Line(_fill(template, g, g.pick(pw_keys), pw), pw, "password_keyed", name))
            tok = g.random_token()
            lines.append(Line(_fill(template, g, g.pick(tok_keys), tok), tok, "token_keyed", name))
    for name, template in mine(PASSWORD_IDIOMS):
        for _ in range(per_kind):
            pw = g.human_password()
            lines.append(Line(template.format(v=pw), pw, "password_context", name))
    providers = mine(tuple(PROVIDERS))
    for name, template in mine(TOKEN_CONTEXTS):
        for _ in range(per_kind):
            provider = g.pick(providers)
            tok = PROVIDERS[provider](g)
            lines.append(Line(template.format(t=tok), tok, "provider_token", f"{name}:{provider}"))
    for provider in providers:
        tok = PROVIDERS[provider](g)
        lines.append(Line(f"export {provider.upper()}_KEY={tok}", tok, "provider_token", provider))
    for name, template in mine(PEM_PREFIXES):
        for _ in range(per_kind):
            body = g.pem_line()
            lines.append(Line(template.format(l=body), body, "pem_line", name))
    look_alikes = _look_alikes(g)
    lines.extend(
        Line(look_alikes[name](), None, "look_alike", name)
        for name in mine(tuple(look_alikes))
        for _ in range(per_kind)
    )
    return lines


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------


def _covered(text: str, secret: str, spans: list[tuple[int, int]]) -> bool:
    at = text.find(secret)
    while at >= 0:
        if not any(s <= at and at + len(secret) <= e for s, e in spans):
            return False
        at = text.find(secret, at + 1)
    return True


def score(lines: list[Line], detect: Callable[[list[str]], list[list[tuple[int, int, str]]]],
          show: int) -> dict[str, object]:  # fmt: skip
    found = detect([line.text for line in lines])
    families: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses: list[str] = []
    false_positives: list[str] = []
    for line, spans in zip(lines, found, strict=True):
        tally = families[line.family]
        tally[1] += 1
        if line.secret is None:
            if spans:
                tally[0] += 1
                false_positives.append(
                    f"{line.kind}: {line.text!r} -> {sorted({s[2] for s in spans})}"
                )
        elif _covered(line.text, line.secret, [(s, e) for s, e, _ in spans]):
            tally[0] += 1
        else:
            misses.append(f"{line.family}/{line.kind}: {line.text!r}")
    positives = [v for k, v in families.items() if k != "look_alike"]
    hit, total = sum(v[0] for v in positives), sum(v[1] for v in positives)
    fp, negatives = families["look_alike"]
    by_family = {
        family: {"lines": n, ("false_positives" if family == "look_alike" else "scrubbed"): k}
        for family, (k, n) in sorted(families.items())
    }
    return {
        "secret_lines": total,
        "recall": round(hit / total, 4) if total else None,
        "look_alike_lines": negatives,
        "false_positive_rate": round(fp / negatives, 4) if negatives else None,
        "by_family": by_family,
        "misses": misses[:show],
        "false_positives": false_positives[:show],
    }


def engine_detector() -> Callable[[list[str]], list[list[tuple[int, int, str]]]]:
    from scrubber.config import load_config
    from scrubber.models import Reason
    from scrubber.vault.recorder import scrubber_for

    engine = scrubber_for(load_config(None))

    def detect(texts: list[str]) -> list[list[tuple[int, int, str]]]:
        out: list[list[tuple[int, int, str]]] = []
        for i in range(0, len(texts), 256):
            for found in engine.detect_texts(texts[i : i + 256]):
                if isinstance(found, Reason):
                    out.append([(0, 10**9, "QUARANTINED")])
                else:
                    out.append([(f.start, f.end, f.recognizer) for f in found])
        return out

    return detect


def pattern_detector() -> Callable[[list[str]], list[list[tuple[int, int, str]]]]:
    """The pattern pass alone (every recognizer, normalisation, merge): no key hints, no NER."""
    from recognizers import default_recognizers
    from scrubber.engine.detection import merge
    from scrubber.engine.normalize import normalize

    recognizers = default_recognizers()

    def detect(texts: list[str]) -> list[list[tuple[int, int, str]]]:
        out = []
        for text in texts:
            norm = normalize(text)
            found = merge([f for r in recognizers for f in r.scan(norm.text)])
            spans = [(*norm.original_span(f.start, f.end), f.recognizer) for f in found]
            out.append([(s, e, name) for s, e, name in spans])
        return out

    return detect


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--half", choices=("tune", "holdout", "all"), default="holdout")
    parser.add_argument("--seed", type=int, default=2)
    parser.add_argument("--per-kind", type=int, default=6, help="lines per idiom or look-alike")
    parser.add_argument("--show", type=int, default=10, help="misses and false positives listed")
    parser.add_argument("--write", type=Path, help="also write the lines as eval-format JSONL")
    parser.add_argument(
        "--patterns-only", action="store_true", help="the pattern pass alone, not the engine"
    )
    args = parser.parse_args()
    half = {"tune": 0, "holdout": 1, "all": None}[args.half]
    lines = generate(args.seed, half, args.per_kind)
    if args.write:
        with args.write.open("w", encoding="utf-8") as out:
            for n, line in enumerate(lines):
                record = {"id": f"variant-{n}", "source": "secret_variants", "text": line.text,
                          "spans": [], "meta": {"should_flag": line.secret is not None,
                                                "family": line.family, "kind": line.kind}}  # fmt: skip
                out.write(json.dumps(record) + "\n")
    detector = pattern_detector() if args.patterns_only else engine_detector()
    scope = "pattern pass" if args.patterns_only else "engine (Scrubber.detect_texts)"
    report = {"half": args.half, "seed": args.seed, "scope": scope}
    report.update(score(lines, detector, args.show))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
