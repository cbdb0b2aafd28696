"""Table-driven tests for the USERNAME / HOSTNAME log-idiom recognizers (synthetic fixtures)."""

from __future__ import annotations

import pytest

from recognizers.logs import (
    LOG_IDIOM_RECOGNIZERS,
    is_evident_host_name,
    is_fully_qualified_host_name,
)
from tests.unit.recognizers import tables


def found(text: str) -> list[tuple[str, str]]:
    """(entity type, exact value) per span the log recognizers report.

    Where one span is read both as a client HOSTNAME and as a SERVER_HOSTNAME, the client
    reading wins (it is the one the default policy scrubs).
    """
    return tables.found(LOG_IDIOM_RECOGNIZERS, text, prefer={HOST: SERVER})


USER = "USERNAME"
HOST = "HOSTNAME"
SERVER = "SERVER_HOSTNAME"

SSH_AND_PAM: list[tuple[str, list[tuple[str, str]]]] = [
    ("Invalid user webadm from 203.0.113.45", [(USER, "webadm")]),
    ("Invalid user  0101 from 203.0.113.45", [(USER, "0101")]),
    ("input_userauth_request: invalid user oracle2 [preauth]", [(USER, "oracle2")]),
    ("Failed password for invalid user test from 198.51.100.7 port 4242 ssh2", [(USER, "test")]),
    ("Failed password for root from 198.51.100.7 port 4242 ssh2", [(USER, "root")]),
    (
        "Accepted publickey for deploy_bot from 10.0.0.8 port 50022 ssh2: RSA SHA256:abc",
        [(USER, "deploy_bot")],
    ),
    ("Failed none for invalid user 0 from 192.0.2.5 port 1 ssh2", [(USER, "0")]),
    ("Accepted keyboard-interactive/pam for mlopez from 10.1.1.1 port 22 ssh2", [(USER, "mlopez")]),
    (
        "message repeated 5 times: [ Failed password for admin from 192.0.2.8 port 2 ssh2]",
        [(USER, "admin")],
    ),
    ("Disconnecting: Too many authentication failures for root [preauth]", [(USER, "root")]),
    (
        "error: maximum authentication attempts exceeded for invalid user sup0rt from 192.0.2.1",
        [(USER, "sup0rt")],
    ),
    (
        "Connection closed by authenticating user kwilson 192.0.2.3 port 5000 [preauth]",
        [(USER, "kwilson")],
    ),
    ("Disconnected from user tnguyen 10.2.3.4 port 51234", [(USER, "tnguyen")]),
    ("User bob from 192.0.2.44 not allowed because not listed in AllowUsers", [(USER, "bob")]),
    ("pam_unix(sshd:session): session opened for user fzhao by (uid=0)", [(USER, "fzhao")]),
    ("pam_unix(sshd:session): session closed for user fzhao", [(USER, "fzhao")]),
    (
        "pam_unix(su:session): session opened for user root by jkim(uid=1000)",
        [(USER, "jkim"), (USER, "root")],
    ),
    ("session opened for user root by LOGIN(uid=0)", [(USER, "root")]),
    (
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
        "rhost=ppp-7.dialup.example-isp.net  user=guest",
        [(HOST, "ppp-7.dialup.example-isp.net"), (USER, "guest")],
    ),
    (
        "authentication failure; logname= uid=0 euid=0 tty=NODEVssh ruser= rhost=lib.wsi.edu.pl",
        [(HOST, "lib.wsi.edu.pl")],
    ),
    (
        "authentication failure; logname=ops uid=0 euid=0 tty=ssh ruser=asmith rhost=bastion-2",
        [(HOST, "bastion-2"), (USER, "asmith"), (USER, "ops")],
    ),
    (
        "reverse mapping checking getaddrinfo for ns1.badhost-example.com [192.0.2.9] failed - "
        "POSSIBLE BREAK-IN ATTEMPT!",
        [(HOST, "ns1.badhost-example.com")],
    ),
    (
        "connection from 192.0.2.106 (adsl-192-0-2-106.dsl.example-isp.net) at Mon Jul  4 12:52:44",
        [(HOST, "adsl-192-0-2-106.dsl.example-isp.net")],
    ),
    (
        "error: PAM: Authentication failure for jdoe from ws-14.corp.example.com",
        [(HOST, "ws-14.corp.example.com"), (USER, "jdoe")],
    ),
    ("Received disconnect from 192.0.2.7: 11: Bye Bye [preauth]", []),
]

SYSTEM_TOOLS: list[tuple[str, list[tuple[str, str]]]] = [
    (
        "sudo:   pgarcia : TTY=pts/0 ; PWD=/home/pgarcia ; USER=root ; COMMAND=/usr/bin/ls",
        [(USER, "pgarcia"), (USER, "pgarcia"), (USER, "root")],
    ),
    ("CRON[4242]: (backupsvc) CMD (/usr/local/bin/nightly.sh)", [(USER, "backupsvc")]),
    ("su: (to oracle) jsmith on pts/3", [(USER, "jsmith"), (USER, "oracle")]),
    ("systemd-logind[812]: New session 31 of user lchen.", [(USER, "lchen")]),
    (
        "useradd[2231]: new user: name=intern07, UID=1007, GID=1007, home=/home/intern07",
        [(USER, "intern07"), (USER, "intern07")],
    ),
    ("userdel[2301]: delete user 'tempacct'", [(USER, "tempacct")]),
    ("uid=1001(qliu) gid=1001(qliu) groups=1001(qliu),27(sudo)", [(USER, "qliu")]),
    (
        "pam_unix(cron:session): session opened for user root(uid=0) by root(uid=0)",
        [(USER, "root"), (USER, "root")],
    ),
    ("LDAP: user jgreen not found in ou=people", [(USER, "jgreen")]),
    (
        "login[901]: FAILED LOGIN 1 FROM tty1 FOR rmiller, Authentication failure",
        [(USER, "rmiller")],
    ),
    ('vsftpd: [ftpdrop] OK LOGIN: Client "192.0.2.77"', [(USER, "ftpdrop")]),
    (
        "type=USER_AUTH msg=audit(1700000000.1:42): pid=1 uid=0 auid=1000 ses=3 "
        'msg=\'op=PAM:authentication acct="dkumar" exe="/usr/sbin/sshd" hostname=jump-01 '
        "addr=192.0.2.1 terminal=ssh res=success'",
        [(HOST, "jump-01"), (USER, "dkumar")],
    ),
    ("Jun 14 15:16:01 web-03 sshd(pam_unix)[19939]: check pass; user unknown", [(HOST, "web-03")]),
    (
        "2024-05-01T10:00:00.123+00:00 db-primary-1 postgres[77]: checkpoint starting",
        [(HOST, "db-primary-1")],
    ),
    (
        "systemd-hostnamed[1]: Changed static host name to 'build-agent-12'",
        [(HOST, "build-agent-12")],
    ),
    ("nfs: server filer02 not responding, still trying", [(SERVER, "filer02")]),
    ("Error: open /Users/akowalski/Library/Preferences/x.plist", [(USER, "akowalski")]),
    ("reading C:\\Users\\tpatel\\AppData\\Local\\Temp\\a.tmp", [(USER, "tpatel")]),
]

SERVICES: list[tuple[str, list[tuple[str, str]]]] = [
    # Spark and Hadoop: ACL lists and HDFS home directories.
    ("INFO spark.SecurityManager: Changing view acls to: yarn,kpatel", [(USER, "yarn,kpatel")]),
    (
        "users with view permissions: Set(yarn, kpatel); users with modify permissions: Set(ops)",
        [(USER, "ops"), (USER, "yarn, kpatel")],
    ),
    (
        "The job-conf file on the remote FS is /user/kpatel/.staging/job_1_0020/job.xml",
        [(USER, "kpatel")],
    ),
    (
        "Moved: 'hdfs://nn1:8020/user/mlopez/data.csv' to trash",
        [(SERVER, "nn1"), (USER, "mlopez")],
    ),
    # dhcpd names the client device.
    (
        "dhcpd: DHCPACK on 192.0.2.57 to 3c:22:fb:12:34:56 (Janes-iPhone) via eth0",
        [(HOST, "Janes-iPhone")],
    ),
    # Web servers.
    (
        '192.0.2.10 - hwong [10/Oct/2023:13:55:36 -0700] "GET /private HTTP/1.1" 200 2326',
        [(USER, "hwong")],
    ),
    ('192.0.2.10 - - [10/Oct/2023:13:55:36 -0700] "GET / HTTP/1.1" 200 2326', []),
    (
        'AH01617: user ecarter: authentication failure for "/admin": Password Mismatch',
        [(USER, "ecarter")],
    ),
    (
        'client: 192.0.2.4, server: shop.example.org, request: "GET / HTTP/1.1", '
        'host: "shop.example.org"',
        [(HOST, "shop.example.org"), (SERVER, "shop.example.org")],
    ),
    ("Host: intranet-7.corp.example.com", [(HOST, "intranet-7.corp.example.com")]),
    # Databases and directories.
    ('FATAL:  password authentication failed for user "reporting"', [(USER, "reporting")]),
    ("connection authorized: user=analytics database=sales", [(USER, "analytics")]),
    ("connection received: host=etl-worker-4 port=51000", [(HOST, "etl-worker-4")]),
    ("Access denied for user 'wpuser'@'10.0.0.12' (using password: YES)", [(USER, "wpuser")]),
    ('FATAL:  role "svc_ro" does not exist', [(USER, "svc_ro")]),
    (
        'conn=1001 op=0 BIND dn="uid=mfischer,ou=people,dc=example,dc=com" method=128',
        [(USER, "mfischer")],
    ),
    ("imap-login: Login: user=<olivia.b>, method=PLAIN, rip=192.0.2.8", [(USER, "olivia.b")]),
    (
        "postfix/smtpd[99]: connect from mail-out.example.net[192.0.2.25]",
        [(HOST, "mail-out.example.net")],
    ),
    # Hadoop, Zookeeper, OpenStack, Spark.
    (
        "Retrying connect to server: nn-master-2:8030. Already tried 0 time(s)",
        [(SERVER, "nn-master-2")],
    ),
    (
        "Address change detected. Old: rm-host-9/10.0.0.9:9000 New: rm-host-9:9000",
        [(HOST, "rm-host-9"), (SERVER, "rm-host-9")],
    ),
    ("Default file system [hdfs://namenode-01:9000]", [(SERVER, "namenode-01")]),
    ("Server environment:host.name=zk-node-3", [(HOST, "zk-node-3")]),
    ("Server environment:user.name=hdfsadmin", [(USER, "hdfsadmin")]),
    (
        "Auditing locally available compute resources for node cmp-4.rack2.cloud.example.us",
        [(SERVER, "cmp-4.rack2.cloud.example.us")],
    ),
    (
        "Successfully synced instances from host 'cmp-4.rack2.cloud.example.us'.",
        [(SERVER, "cmp-4.rack2.cloud.example.us")],
    ),
    ("Starting executor ID 3 on host worker-17", [(SERVER, "worker-17")]),
    (
        "Registering block manager exec-2.spark.internal:40511 with 366.3 MB RAM",
        [(SERVER, "exec-2.spark.internal")],
    ),
    # Kubernetes and Windows.
    (
        "Successfully assigned default/web-7d4b9c-x2x to gke-pool-1-abc123",
        [(HOST, "gke-pool-1-abc123")],
    ),
    (
        "Node ip-10-0-3-17.ec2.internal status is now: NodeReady",
        [(SERVER, "ip-10-0-3-17.ec2.internal")],
    ),
    (
        "An account failed to log on. Account Name:\t\tbthomas  Workstation Name:\tLAPTOP-7QX2",
        [(HOST, "LAPTOP-7QX2"), (USER, "bthomas")],
    ),
    (
        "Logon Account: CORP\\svc_sql  Source Workstation: WS-0042",
        [(HOST, "WS-0042"), (USER, "CORP\\svc_sql")],
    ),
    # Configuration, command lines and tracebacks.
    (
        "database:\n  host: db-primary.prod.svc.cluster.local\n  user: app_rw\n",
        [(HOST, "db-primary.prod.svc.cluster.local"), (USER, "app_rw")],
    ),
    (
        "spring.datasource.url=jdbc:postgresql://pg-01.corp.example.com:5432/orders",
        [(SERVER, "pg-01.corp.example.com")],
    ),
    ("spring.datasource.username=svc_orders", [(USER, "svc_orders")]),
    (
        "kafka.bootstrap.servers=broker-1:9092,broker-2:9092",
        [(SERVER, "broker-1"), (SERVER, "broker-2")],
    ),
    ("ssh -i ~/.ssh/id_ed25519 ubuntu@10.20.30.40", [(USER, "ubuntu")]),
    ("rsync -az ./data backup@nas01:/vol/backups", [(USER, "backup")]),
    ("GET http://admin:s3cr3t@192.0.2.60:8080/api", [(USER, "admin")]),
    (
        "HTTPSConnectionPool(host='api.internal.example.com', port=443): Max retries exceeded",
        [(HOST, "api.internal.example.com")],
    ),
    ('  File "/home/alice/project/app.py", line 42, in <module>', [(USER, "alice")]),
    # Free-standing fully qualified names.
    (
        "proxy.cs.example.edu:5070 open through proxy proxy.cs.example.edu:5070 HTTPS",
        [(SERVER, "proxy.cs.example.edu"), (SERVER, "proxy.cs.example.edu")],
    ),
    (
        "Resolved DC-04.emea.corp.example.com to /default-rack",
        [(SERVER, "DC-04.emea.corp.example.com")],
    ),
    ("backup pushed to files.example.co.uk", [(SERVER, "files.example.co.uk")]),
    # The client side, named by DNS after a bare `from`.
    ("login failure for jdoe from ws-14.corp.example.com", [(HOST, "ws-14.corp.example.com")]),
]

NEAR_MISSES: list[str] = [
    "GET /user/settings 200",
    "GET /api/user/profile/.well-known 404",
    "Changing view acls groups to: ",
    # Log vocabulary in user slots.
    "pam_unix(sshd:auth): check pass; user unknown",
    "User unknown timed out after 900 seconds",
    "Couldn't authenticate user",
    "Received disconnect from 192.0.2.7: 11: Closed due to user request. [preauth]",
    "No more user authentication methods available.",
    "session opened for user by (uid=0)",
    "authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=",
    "Got user-level KeeperException when processing sessionid:0x1",
    "the user clicks the button and the user sees a dialog",
    "user space memory and user data were freed",
    "ANONYMOUS FTP LOGIN FROM 192.0.2.8,  (anonymous)",
    "uid=1000 euid=1000 auid=1000",
    # Chat transcripts and command lines.
    "User: Can you summarise this log for me?",
    "User: Alice Smith asked about the invoice",
    "curl -u user:password https://api.example.invalid/",
    "postgres://user:password@db/app and user=username in the docs",
    'line "https://url:8000";@something else',
    'curl --user "$USER:$TOKEN" https://ci.example.invalid/',
    "Host: John and guest Mary talk about the weather",
    # Vocabulary in host slots, and IPs (the IP recognizer's).
    "connected to database",
    "Connection from 192.0.2.55 refused",
    "connection from 192.0.2.55 () at Sat Jul 16 08:14:04 2005",
    "Authentication failed from 192.0.2.39 (192.0.2.39): Permission denied",
    "Proxy server cannot establish a connection with the target",
    "Host key verification failed.",
    "No Route to Host from",
    "node 1 local, 0 on other nodes",
    "upgrade node 18.x to node v20",
    "server is in r-o mode",
    "Interface eth0 (192.0.2.1) is up",
    "GET http://localhost:8080/health and https://url:8000/",
    "bind 0.0.0.0/0.0.0.0:3888",
    "from /var/lib/zookeeper/version-2/snapshot.b00000084",
    # Java classes and packages, files, versions, properties, code.
    "Logging to org.slf4j.impl.Log4jLoggerAdapter(org.mortbay.log) via org.mortbay.log.Slf4jLog",
    "Adding protocol org.apache.hadoop.mapreduce.v2.api.MRClientProtocolPB to the server",
    "java.net.NoRouteToHostException: No route; package java.io and com.google.common.io",
    "Using callQueue class java.util.concurrent.LinkedBlockingQueue",
    "loaded properties from hadoop-metrics2.properties and config.yaml",
    "workerEnv.init() ok /etc/httpd/conf/workers2.properties",
    "yarn.client.max-cached-nodemanagers-proxies : 0",
    "run setup.py, deploy.sh, notes.md, lib.so and main.cf",
    "Version 1.0.6 Starting; klogd 1.4.1; jetty-6.1.26",
    "self.logger.info(msg); user.id = obj.id; threading.local(); x.gt(0)",
    "Built with ASP.NET and Node.js, see e.g. the docs",
    "Notification: 3 (n.leader), 0x100001564 (n.zxid), FOLLOWING (n.state)",
    "Server environment:java.vendor=Oracle Corporation; user.dir=/; os.name=Linux",
    "Linux version 2.6.5-1.358 (bhcompile@bugs-build.example.com) (gcc version 3.3.3)",
    "mail sent to ops-team@example.com",
    "git clone git@github.com:acme/widgets.git",
    "self.model.to(device); logger.info(msg); this.userService.getById(id); np.linalg.norm(v)",
    "session.timeout.ms=45000 and mapred.tip.id is deprecated, use mapreduce.task.id",
    "image: nginx:1.25-alpine and python:3.11-slim",
    "Nov 9 12:01:01 local@tbird-admin1 gmetad[1682]: data_thread() got no answer",
    "pulled app@sha256:0123456789abcdef0123456789abcdef01234567",
    "Error writing event org.apache.hadoop.mapreduce.jobhistory.Event@7317849d",
    "shutting down NodeCard(mLctn(R25-M1-N2), mLp(FF:F2:9F:16:CF:0F:00:0D), mIp(10.2.2.80))",
    "Frequent transitions for interface en0 (2607:F140:6000:0008:C6B3:01FF:FECD:467F)",
    "totalSteps=7163Calories:153367Floor:240Distance:5112",
    "x-coredata://DB05755C-483D-44B7-B93B-ED06E57FF420/CalDAVPrincipal/p11",
    "Error at Foo.bar(Foo.java:42) and UserService.find(UserService.java:88)",
    "We deployed version 1.4.2 to node 3 and server 2.",
    "Improve onboarding for user satisfaction and the retention of users.",
    "The user retention has been great; user Alice Smith wrote the spec.",
    "Connection from 0.0.0.0 port 22 on 0.0.0.0 port 22",
    "The user said: hello. The host asked: how are you?",
]


@pytest.mark.parametrize(("text", "expected"), SSH_AND_PAM + SYSTEM_TOOLS + SERVICES)
def test_finds_names_in_log_idioms(text: str, expected: list[tuple[str, str]]) -> None:
    assert sorted(found(text)) == sorted(expected)


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_ignores_log_vocabulary_and_code(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("db1.example.com", True),
        ("host.corp", True),
        ("www.example.it", True),
        ("example.it", False),
        ("user.id", False),
        ("setup.py", False),
        ("lib.wsi.edu.pl", True),
        ("org.apache.hadoop.ipc", False),
        ("hadoop.ipc.Server", False),
        ("10.0.0.1", False),
        ("single", False),
    ],
)
def test_fully_qualified_host_name(value: str, expected: bool) -> None:
    assert is_fully_qualified_host_name(value) is expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("node-7", True),
        ("web01", True),
        ("db01.prod", True),
        ("cannot", False),
        ("v2", False),
        ("18.x", False),
        ("is", False),
        ("localhost", False),
    ],
)
def test_evident_host_name(value: str, expected: bool) -> None:
    assert is_evident_host_name(value) is expected


def test_every_recognizer_has_a_cheap_precheck() -> None:
    for recognizer in LOG_IDIOM_RECOGNIZERS:
        assert recognizer.triggers or recognizer.needs_digit, recognizer.name


def test_recognizer_names_are_unique() -> None:
    names = [r.name for r in LOG_IDIOM_RECOGNIZERS]
    assert len(names) == len(set(names))
