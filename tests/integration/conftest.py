"""Fixtures for pipeline tests on the real broker: topics, a producer that remembers what it
sent, a checker that reads a topic to its end, and `scrubber run` as a subprocess.

Every test gets its own topics and consumer group (uuid suffix) and metrics ports from the OS, so
it can run beside other suites on the same broker. The broker is started through
scripts/kafka.sh (idempotent); SCRUBBER_KAFKA_BOOTSTRAP points the tests at another one.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from prometheus_client.parser import text_string_to_metric_families

REPO_ROOT = Path(__file__).resolve().parents[2]
KAFKA_SCRIPT = REPO_ROOT / "scripts" / "kafka.sh"
# Large enough for the 5 MB poison record, everywhere a size limit applies.
LARGE_MESSAGE_BYTES = 16 << 20

# Every record of benchmarks/corpus.py carries its sequence number, as text or as JSON.
_SEQ_TEXT = re.compile(rb"\bseq=(\d+)")
_SEQ_JSON = re.compile(rb'"seq":\s*(\d+)')
# The planted canaries (canary_value(seq)): the local part alone would already be a leak.
CANARY = re.compile(rb"canary\d{7}")

Headers = list[tuple[str, bytes]]


def seq_of(value: bytes | None) -> int | None:
    if not value:
        return None
    found = _SEQ_JSON.search(value) or _SEQ_TEXT.search(value)
    return int(found.group(1)) if found else None


def canaries_in(blob: bytes | str | None) -> list[str]:
    if blob is None:
        return []
    data = blob.encode("utf-8", "surrogateescape") if isinstance(blob, str) else blob
    return sorted({m.decode() for m in CANARY.findall(data)})


# ---------------------------------------------------------------- the broker


def _start_broker() -> str:
    done = subprocess.run(
        ["bash", str(KAFKA_SCRIPT), "up"], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.fail(f"scripts/kafka.sh up failed:\n{done.stderr[-3000:]}")
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    bootstrap = os.environ.get("SCRUBBER_KAFKA_BOOTSTRAP") or _start_broker()
    try:
        AdminClient({"bootstrap.servers": bootstrap}).list_topics(timeout=15)
    except KafkaException as exc:
        pytest.fail(f"Kafka broker at {bootstrap} is unreachable ({exc}); run `make kafka-up`")
    return bootstrap


@dataclass
class Kafka:
    """Topics and clients on one broker; topics made here are deleted at teardown."""

    bootstrap: str
    created: list[str] = field(default_factory=list)
    # `scripts/kafka.sh COMMAND` for a broker the test owns (pause/resume), else None.
    control: Callable[[str], str] | None = None
    admin: AdminClient = field(init=False)

    def __post_init__(self) -> None:
        self.admin = AdminClient({"bootstrap.servers": self.bootstrap})

    def topic(self, stem: str, partitions: int = 1, config: dict[str, str] | None = None) -> str:
        name = f"it-{stem}-{uuid.uuid4().hex[:10]}"
        new = NewTopic(name, num_partitions=partitions, replication_factor=1, config=config or {})
        self.admin.create_topics([new])[name].result(timeout=30)
        self.created.append(name)
        return name

    def delete_created(self) -> None:
        if not self.created:
            return
        with contextlib.suppress(KafkaException):
            for future in self.admin.delete_topics(self.created).values():
                with contextlib.suppress(KafkaException):
                    future.result(timeout=30)

    def producer(self, **settings: Any) -> Producer:
        return Producer(
            {
                "bootstrap.servers": self.bootstrap,
                "enable.idempotence": True,
                "acks": "all",
                "linger.ms": 5,
                "message.max.bytes": LARGE_MESSAGE_BYTES,
                **settings,
            }
        )

    def produce(
        self,
        topic: str,
        values: Iterable[bytes | tuple[bytes | None, bytes, Headers]],
        partition: int | None = None,
        spread: int | None = None,
    ) -> list[tuple[int, int]]:
        """Send and wait for every delivery; (partition, offset) of each value, in order.
        `spread=N` deals the values round-robin over partitions 0..N-1."""
        producer = self.producer()
        where: list[tuple[int, int] | None] = []
        failures: list[KafkaError] = []

        def remember(index: int) -> Callable[[KafkaError | None, Message], None]:
            def done(error: KafkaError | None, message: Message) -> None:
                if error is not None:
                    failures.append(error)
                else:
                    where[index] = (message.partition(), message.offset())

            return done

        for index, item in enumerate(values):
            key, value, headers = (None, item, []) if isinstance(item, bytes) else item
            where.append(None)
            chosen = partition if spread is None else index % spread
            extra = {} if chosen is None else {"partition": chosen}
            while True:
                try:
                    producer.produce(
                        topic, value=value, key=key, headers=headers,
                        on_delivery=remember(index), **extra,
                    )  # fmt: skip
                    break
                except BufferError:
                    producer.poll(0.1)
            producer.poll(0)
        assert producer.flush(120) == 0, "test producer: records still queued after 120 s"
        assert failures == [], f"test producer: deliveries failed: {failures[:3]}"
        assert all(w is not None for w in where)
        return [w for w in where if w is not None]

    def high_watermarks(self, topic: str) -> dict[int, int]:
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "it-watermarks"})
        try:
            partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            return {
                p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in partitions
            }
        finally:
            consumer.close()

    def committed(self, group: str, topic: str, partitions: Iterable[int]) -> dict[int, int]:
        """The group's committed offsets (-1001 when none), read without joining the group."""
        consumer = Consumer({"bootstrap.servers": self.bootstrap, "group.id": group})
        try:
            found = consumer.committed([TopicPartition(topic, p) for p in partitions], timeout=10)
            return {tp.partition: tp.offset for tp in found}
        finally:
            consumer.close()

    def read_all(
        self, topic: str, read_committed: bool = False, timeout: float = 120.0
    ) -> list[Message]:
        """Every record of `topic` from the beginning to its current end (EOF on each
        partition); call it once the writers are done."""
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": f"it-checker-{uuid.uuid4().hex[:10]}",
                "enable.auto.commit": False,
                "enable.partition.eof": True,
                "isolation.level": "read_committed" if read_committed else "read_uncommitted",
                "fetch.max.bytes": LARGE_MESSAGE_BYTES * 2,
                "max.partition.fetch.bytes": LARGE_MESSAGE_BYTES,
            }
        )
        try:
            partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
            consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
            at_end: set[int] = set()
            out: list[Message] = []
            deadline = time.monotonic() + timeout
            while len(at_end) < len(partitions):
                assert time.monotonic() < deadline, f"{topic}: not read to its end in {timeout}s"
                for message in consumer.consume(1000, 1.0):
                    error = message.error()
                    if error is None:
                        out.append(message)
                        at_end.discard(message.partition())
                    elif error.code() == KafkaError._PARTITION_EOF:
                        at_end.add(message.partition())
                    else:
                        raise KafkaException(error)
            return out
        finally:
            consumer.close()

    def wait_committed(
        self,
        group: str,
        topic: str,
        timeout: float = 120.0,
        alive: Callable[[], None] | None = None,
    ) -> float:
        """Wait until the group committed the topic's end on every partition that holds
        records (an empty partition has nothing to commit); seconds taken."""
        started = time.monotonic()
        target = {p: end for p, end in self.high_watermarks(topic).items() if end > 0}
        while True:
            committed = self.committed(group, topic, target)
            if all(committed.get(p, -1) >= end for p, end in target.items()):
                return time.monotonic() - started
            if alive is not None:
                alive()
            if time.monotonic() - started > timeout:
                pytest.fail(f"group {group}: committed {committed}, wanted {target}")
            time.sleep(0.2)


@pytest.fixture
def kafka(kafka_bootstrap: str) -> Iterator[Kafka]:
    helper = Kafka(kafka_bootstrap)
    yield helper
    helper.delete_created()


# ---------------------------------------------------------------- ports and configs


PG_DSN = os.environ.get(
    "SCRUBBER_PG_DSN", "postgresql://scrubber:scrubber@127.0.0.1:55432/scrubber"
)


def _pg_answers(dsn: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.Error:
        return False


@contextlib.contextmanager
def fresh_pg_schema(prefix: str) -> Iterator[tuple[str, str]]:
    """(a DSN whose tables live in a fresh schema, the schema's name), started through
    scripts/postgres.sh if PostgreSQL does not answer; the schema is dropped afterwards."""
    import psycopg

    if not _pg_answers(PG_DSN):
        subprocess.run(["bash", str(REPO_ROOT / "scripts" / "postgres.sh"), "up"], check=False,
                       capture_output=True, timeout=600)  # fmt: skip
    if not _pg_answers(PG_DSN):
        pytest.fail(f"PostgreSQL at {PG_DSN} is unreachable; run `make pg-up`")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_DSN, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {name}")
    try:
        yield f"{PG_DSN}?options=-csearch_path%3D{name}", name
    finally:
        with psycopg.connect(PG_DSN, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {name} CASCADE")


def free_port(count: int = 1) -> int:
    """A port P such that P .. P+count-1 are free now."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            base = probe.getsockname()[1]
        if base + count > 65535:
            continue
        sockets = []
        try:
            for port in range(base, base + count):
                s = socket.socket()
                sockets.append(s)
                s.bind(("0.0.0.0", port))  # the metrics server binds all interfaces
            return base
        except OSError:
            continue
        finally:
            for s in sockets:
                s.close()
    raise RuntimeError("no free port range found")


def pipeline_config(
    bootstrap: str,
    group: str,
    route_input: str,
    route_output: str,
    quarantine: str,
    *,
    route_format: str = "auto",
    kafka_settings: dict[str, Any] | None = None,
    pipeline: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "kafka": {
            "bootstrap_servers": bootstrap,
            "group_id": group,
            "settings": kafka_settings or {},
        },
        "routes": [
            {"name": "it", "input": route_input, "output": route_output, "format": route_format}
        ],
        "quarantine": {"topic": quarantine},
        "pipeline": pipeline or {},
        **(extra or {}),
    }


class ConfigMap:
    """A Kubernetes ConfigMap volume: config.yaml -> ..data/config.yaml, ..data -> ..<version>;
    an update writes a new version folder and swaps the `..data` symlink atomically."""

    def __init__(self, root: Path, data: dict[str, Any]) -> None:
        self.root = root
        self.version = 0
        self.update(data)
        (root / "config.yaml").symlink_to("..data/config.yaml")
        self.path = root / "config.yaml"

    def update(self, data: dict[str, Any] | str) -> None:
        self.version += 1
        folder = self.root / f"..v{self.version}"
        folder.mkdir(parents=True)
        text = data if isinstance(data, str) else yaml.safe_dump(data)
        (folder / "config.yaml").write_text(text, encoding="utf-8")
        (self.root / "..data_tmp").symlink_to(folder.name)
        os.replace(self.root / "..data_tmp", self.root / "..data")


# ---------------------------------------------------------------- `scrubber run`


def _scrubber_command() -> list[str]:
    script = Path(sys.executable).with_name("scrubber")
    return [str(script)] if script.exists() else [sys.executable, "-m", "scrubber.cli"]


class ScrubberProcess:
    """`scrubber run` as a child process; its stderr and stdout go to a file we can read.

    Its instance id (transactional ids, group.instance.id) is `instance`, else unique to this
    process: give a restarted process its predecessor's to take over at once, as a restarted
    pod would."""

    def __init__(
        self,
        config: dict[str, Any],
        workdir: Path,
        workers: int = 1,
        env: dict[str, str] | None = None,
        name: str = "scrubber",
        instance: str | None = None,
        log_level: str | None = None,
        config_file: Path | None = None,
    ) -> None:
        """`config_file`: run with this file (a test that changes it) instead of writing
        `config` to one of its own."""
        self.workers = workers
        self.port = free_port()  # one endpoint for all workers
        self.instance = instance or f"{name}-{uuid.uuid4().hex[:6]}"
        self.config_path = workdir / f"{name}-{uuid.uuid4().hex[:6]}.yaml"
        self.log_path = self.config_path.with_suffix(".log")
        if config_file is None:
            self.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")
        else:
            self.config_path = config_file
        self._log = self.log_path.open("wb")
        level = ["--log-level", log_level] if log_level else []
        command = [*_scrubber_command(), *level, "run", "--config", str(self.config_path)]
        command += ["--workers", str(workers), "--metrics-port", str(self.port)]
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            command,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            env={**os.environ, "SCRUBBER_INSTANCE_ID": self.instance, **(env or {})},
        )

    # -- state

    def alive(self) -> bool:
        return self.process.poll() is None

    def assert_alive(self) -> None:
        if not self.alive():
            pytest.fail(f"scrubber exited with {self.process.returncode}:\n{self.logs()[-3000:]}")

    def logs(self) -> str:
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def _get(self, path: str) -> tuple[int, bytes]:
        url = f"http://127.0.0.1:{self.port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # loopback
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            with exc:  # an HTTPError holds the connection open until closed
                return exc.code, exc.read()

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Until /readyz says ready (every worker: engine loaded, partitions assigned, broker
        reachable)."""
        started = time.monotonic()
        while True:
            self.assert_alive()
            with contextlib.suppress(OSError):
                if self.readyz() == 200:
                    return time.monotonic() - started
            if time.monotonic() - started > timeout:
                pytest.fail(f"not ready in {timeout}s:\n{self.logs()[-3000:]}")
            time.sleep(0.1)

    def healthz(self) -> int:
        return self._get("/healthz")[0]

    def readyz(self) -> int:
        return self._get("/readyz")[0]

    def metrics_text(self) -> str:
        status, body = self._get("/metrics")
        assert status == 200
        return body.decode()

    def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples called `name` whose labels include `labels`."""
        return metric_value(self.metrics_text(), name, **labels)

    # -- ending it

    def terminate(self, timeout: float = 60.0) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"scrubber ignored SIGTERM for {timeout}s:\n{self.logs()[-3000:]}")
        self._log.close()
        return code

    def close_log(self) -> None:
        self._log.close()

    def kill(self) -> None:
        """kill -9: no flush, no commit. With --workers N, the supervisor and workers go too
        (as in a container, where they die with its first process)."""
        children = _descendants_of(self.process.pid)
        self.process.kill()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.process.wait(30)
        self._log.close()


def workers_of(process: ScrubberProcess) -> list[int]:
    """The worker processes of `run --workers N`: the children of its supervisor."""
    return [w for s in _children_of(process.process.pid) for w in _children_of(s)]


def _descendants_of(pid: int) -> list[int]:
    children = _children_of(pid)
    return [*children, *(d for c in children for d in _descendants_of(c))]


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def metric_value(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


@pytest.fixture
def scrubbers(tmp_path: Path) -> Iterator[Callable[..., ScrubberProcess]]:
    """Start `scrubber run` processes; any still running at teardown are stopped."""
    started: list[ScrubberProcess] = []

    def start(config: dict[str, Any], **kwargs: Any) -> ScrubberProcess:
        process = ScrubberProcess(config, tmp_path, **kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.alive():
            process.kill()
        process.close_log()


# ---------------------------------------------------------------- checking output


@dataclass
class Tally:
    """What came out: sequence numbers counted, records without one, canaries found."""

    seqs: Counter[int] = field(default_factory=Counter)
    without_seq: list[bytes] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)

    def missing(self, expected: Iterable[int]) -> list[int]:
        return sorted(set(expected) - set(self.seqs))

    def duplicates(self) -> dict[int, int]:
        return {s: n for s, n in sorted(self.seqs.items()) if n > 1}


def message_canaries(message: Message) -> list[str]:
    found = canaries_in(message.value()) + canaries_in(message.key())
    for _, value in message.headers() or []:
        found += canaries_in(value)
    return found


def tally(messages: Iterable[Message]) -> Tally:
    result = Tally()
    for message in messages:
        result.leaks += message_canaries(message)
        seq = seq_of(message.value())
        if seq is None:
            result.without_seq.append(message.value() or b"")
        else:
            result.seqs[seq] += 1
    return result


def header(message: Message, name: str) -> bytes | None:
    for key, value in message.headers() or []:
        if key == name:
            return value if isinstance(value, bytes) else None
    return None
