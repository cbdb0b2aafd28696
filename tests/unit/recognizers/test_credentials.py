"""Keyword-bound passwords as people write them: spellings, separators, statements, flags, code.

Each row is (text, the values that must be taken, in text order); every copy of a value counts.
Rows use the shared table helper with `outermost`, as the engine merges overlapping findings.
"""

from __future__ import annotations

import pytest

from tests.unit.recognizers.tables import found
from tests.unit.recognizers.test_secrets import ALL_SECRETS

PW = "Hunter2x!"
PW2 = "Tr0ub4dor&3"

HITS: list[tuple[str, list[str]]] = [
    # Spellings of the key, misspellings included, and the separators people use.
    (f"pw={PW}", [PW]),
    (f"db_pw: {PW}", [PW]),
    (f"pass: {PW}", [PW]),
    (f"DB_PASS={PW}", [PW]),
    (f'passwd := "{PW}"', [PW]),
    (f"pasword = {PW}", [PW]),
    (f"passwrd={PW}", [PW]),
    (f"passowrd: {PW}", [PW]),
    (f"passwort={PW}", [PW]),
    (f"pswd -> {PW}", [PW]),
    (f"'password' => '{PW}',", [PW]),
    (f"userPwd={PW}", [PW]),
    (f"adminPass={PW}", [PW]),
    (f"set ROOTPW={PW}", [PW]),
    ("passphrase => 'correct horse battery'", ["correct horse battery"]),
    ("secret key: 8fKq2LmZ9xQ4vB7n", ["8fKq2LmZ9xQ4vB7n"]),
    ("Secret Key = 8fKq2LmZ9xQ4vB7n", ["8fKq2LmZ9xQ4vB7n"]),
    # Values that start like a mask or a template but are passwords, and `&` inside one.
    (f'const passcode = "!{PW}";', [f"!{PW}"]),
    ("pwd = '*O1MOTIP^#b'", ["*O1MOTIP^#b"]),
    (f"PGPASSWORD=d&{PW}", [f"d&{PW}"]),
    (f"GET /login?user=bob&password={PW}&page=2", [PW]),
    # Quoted values are literals: any first character, a constant-like spelling, C#'s `@"…"`.
    ('private static final String PASSWORD = "#GgPb1CxX9r2Lj";', ["#GgPb1CxX9r2Lj"]),
    ("connect(host='db', passwrd='LQWUTJDLYAAS')", ["LQWUTJDLYAAS"]),
    ('var pswd = @"spring-coffee-84";', ["spring-coffee-84"]),
    ("<pswd>cobalt7087</pswd>", ["cobalt7087"]),
    # A space is a separator when the value cannot be a word.
    ("password hunter2x", ["hunter2x"]),
    (f"PASSWORD '{PW}'", [PW]),
    ("requirepass Kq9vLm2xZ", ["Kq9vLm2xZ"]),
    ("masterauth vi0l3t_164", ["vi0l3t_164"]),
    ("machine api.example.com login bob password hunter2", ["hunter2"]),
    # SQL.
    (f"CREATE USER app IDENTIFIED BY '{PW}';", [PW]),
    (f'ALTER USER app IDENTIFIED WITH mysql_native_password BY "{PW}";', [PW]),
    ("CREATE USER app IDENTIFIED BY Hunter2x;", ["Hunter2x"]),
    (f"CREATE ROLE app WITH LOGIN PASSWORD '{PW}';", [PW]),
    ("CREATE ROLE app WITH LOGIN PASSWORD 'winter-lemon-44';", ["winter-lemon-44"]),
    (f"SET PASSWORD FOR 'app'@'%' = PASSWORD('{PW}');", [PW]),
    # JDBC, ODBC and ADO.NET connection strings.
    (f"jdbc:mysql://db:3306/app?user=app&password={PW}&useSSL=true", [PW]),
    ("jdbc:oracle:thin:scott/Tiger123@//db:1521/orcl", ["Tiger123"]),
    (f"Driver={{ODBC Driver 17}};Server=db;Uid=app;Pwd={PW};", [PW]),
    # Shell flags.
    (f"mysql -u root -p{PW} app", [PW]),
    (f"mysql -h db -u root -p'{PW}' -e 'select 1'", [PW]),
    (f"mysqladmin --password {PW} status", [PW]),
    (f"wget --password={PW} https://example.com/file", [PW]),
    (f"Connect-Thing -Credential x -Password '{PW}'", [PW]),
    (f"$pw = ConvertTo-SecureString '{PW}' -AsPlainText -Force", [PW]),
    ("keytool -genkey -storepass Hunter2x -keypass Hunter3y", ["Hunter2x", "Hunter3y"]),
    ("openssl pkcs12 -export -passout pass:Hunter2x -out a.p12", ["Hunter2x"]),
    (f"sshpass -p '{PW}' ssh deploy@build-host", [PW]),
    (f"redis-cli -h cache -a {PW} ping", [PW]),
    ("htpasswd -b -c /etc/nginx/.htpasswd admin cobalt5171", ["cobalt5171"]),
    ("smbclient //fs/share -U bob%winter6259", ["winter6259"]),
    (f"echo '{PW}' | docker login -u bob --password-stdin", [PW]),
    # Code: defines, comparisons, setters.
    (f'#define PASSWORD "{PW}"', [PW]),
    (f'#define WIFI_PASS "{PW}"', [PW]),
    (f'if (password == "{PW}") {{', [PW]),
    (f"if pwd === '{PW}':", [PW]),
    (f'if (password.equals("{PW}")) return true;', [PW]),
    (f'if ("{PW}".equals(password)) return true;', [PW]),
    (f'if (strcmp(passwd, "{PW}") == 0)', [PW]),
    (f'user.setPassword("{PW}");', [PW]),
    (f'builder.password("{PW}").build()', [PW]),
    # Every copy of a secret on the line goes.
    (f"mysql -u root -p{PW} app; echo {PW} > /tmp/pw", [PW, PW]),
    (f"password={PW2} confirm_password={PW2}", [PW2, PW2]),
    (f"keytool -srcstorepass {PW2} -deststorepass {PW2}", [PW2, PW2]),
]

NEAR_MISSES: list[str] = [
    "Failed password for invalid user admin",
    "password reset requested for user 42",
    "password must be at least 8 characters",
    "Password Manager enabled",
    "password hash: abc",
    "password reset-link sent",
    "password field_2 is hidden",
    "password_length=12",
    "bypass=Hunter2x!",
    "compass = north-2",
    "docker login -u bob --password-stdin registry.example.com",
    "mysql -u root -p",
    "mysql -u root -P3306 -h db",
    "mysql -u root -p -h db",
    "password: 2024-01-01T10:00:00Z",
    "password: ConvertTo-SecureString",
    'if (password != "") {',
    "if (password == null) return;",
    "user.getPassword()",
    "-passin env:MY_VAR",
    "--password-file /run/secrets/db_password",
    "echo $PASSWORD | docker login --password-stdin",
    "API_KEY=YOUR_API_KEY_HERE",
    "password=your_password_here",
    "password=<your-password>",
    "password: !vault |",
    "GET /x?password=&page=2",
]


@pytest.mark.parametrize(("text", "values"), HITS)
def test_password_is_found_in_its_context(text: str, values: list[str]) -> None:
    assert found(ALL_SECRETS, text, outermost=True) == [("SECRET", v) for v in values]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_password_look_alike_is_left_alone(text: str) -> None:
    assert found(ALL_SECRETS, text) == []
