"""What every benchmark shares: the message, the servers, the databases, the results."""

from __future__ import annotations

import contextlib
import copy
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx
import orjson
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO / "benchmarks"
RESULTS_DIR = BENCH_DIR / "results"
CONTRACTS = REPO / "contracts"
GOVERNANCE = REPO / "governance"
EXAMPLE = CONTRACTS / "reservation/examples/1.0/valid/01-requested-webshop-order.json"

# Where the PostgreSQL runs go: a fresh database ``bench_<random>`` is created on this server
# for each run and dropped after it.
POSTGRES_ADMIN_URL = os.environ.get(
    "CROSSDOCK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ADMIN_KEY = "cdk_bench-admin-key-" + uuid.uuid4().hex
ID_PLACEHOLDER = "@@ID@@"
SOURCE = "/connections/bench-webshop"


class BenchmarkError(Exception):
    """The benchmark could not run, or what it measured is wrong (lost messages, errors)."""


# --- the message ------------------------------------------------------------------------


def reservation_event(lines: int = 5) -> dict[str, Any]:
    """The shipped webshop reservation example with exactly ``lines`` lines.

    Lines are the example's own (valid GTINs and GLNs), repeated in turn and renumbered so
    that every ``line_no`` is unique.
    """
    event: dict[str, Any] = copy.deepcopy(orjson.loads(EXAMPLE.read_bytes())["event"])
    base = event["data"]["lines"]
    event["data"]["lines"] = [
        {**copy.deepcopy(base[index % len(base)]), "line_no": index + 1} for index in range(lines)
    ]
    event["source"] = SOURCE
    return event


def event_template(lines: int = 5) -> tuple[bytes, bytes]:
    """The event as compact JSON, cut where its ``id`` goes: ``prefix + id + suffix``."""
    event = reservation_event(lines)
    event["id"] = ID_PLACEHOLDER
    raw = orjson.dumps(event)
    prefix, found, suffix = raw.partition(ID_PLACEHOLDER.encode())
    if not found or ID_PLACEHOLDER.encode() in suffix:
        raise AssertionError("the id placeholder must occur exactly once")
    return prefix, suffix


# --- the machine ------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit() -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "hub"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return head + ("+dirty hub/" if dirty else "")


def machine_info() -> dict[str, Any]:
    load1, load5, _ = os.getloadavg()
    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "load_average_1m_5m": [round(load1, 2), round(load5, 2)],
        "hub_commit": _git_commit(),
        "packages": {
            name: _version(name)
            for name in (
                "fastapi",
                "starlette",
                "uvicorn",
                "uvloop",
                "httptools",
                "sqlalchemy",
                "psycopg",
                "orjson",
                "jsonschema",
                "jsonschema-rs",
                "httpx",
            )
        },
    }


def today() -> str:
    return datetime.now(UTC).date().isoformat()


# --- results ----------------------------------------------------------------------------


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_bytes(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    tmp.replace(path)
    return path


def write_text(filename: str, text: str) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / filename
    path.write_text(text)
    return path


def ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 3) if baseline else 0.0


# --- processes --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    """A server process on 127.0.0.1, its stderr and stdout going to ``log_path``."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise BenchmarkError(
                        f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.base_url}/health").status_code == 200:
                        return
                time.sleep(0.1)
        raise BenchmarkError(f"{self.name} did not answer /health in {timeout:.0f} s")

    def stop(self, timeout: float = 30.0) -> None:
        """Ask for a graceful stop (uvicorn drains, the hub commits what is queued)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("CROSSDOCK_")}


def _bin(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise BenchmarkError(f"{name} is not installed; run `make install`")
    return found


def hub_env(
    database_url: str, port: int = 0, extra_env: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a hub process (``serve``, ``worker`` or a CLI command)."""
    return _clean_env() | {
        "CROSSDOCK_DATABASE_URL": database_url,
        "CROSSDOCK_HOST": "127.0.0.1",
        "CROSSDOCK_PORT": str(port),
        "CROSSDOCK_BOOTSTRAP_ADMIN_KEY": ADMIN_KEY,
        "CROSSDOCK_CONTRACTS_PATH": str(CONTRACTS),
        "CROSSDOCK_GOVERNANCE_PATH": str(GOVERNANCE),
        "CROSSDOCK_MAPPINGS_PATH": str(REPO / "mappings"),
        # The sinks and peers listen on loopback, which governance/hub.yaml refuses; one
        # client sends far beyond the default rate limit.
        "CROSSDOCK_OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8,::1/128",
        "CROSSDOCK_RATE_LIMIT": "10000000/second",
        **(extra_env or {}),
    }


@contextlib.contextmanager
def hub_server(
    database_url: str, workdir: Path, *, extra_env: dict[str, str] | None = None
) -> Iterator[Server]:
    """``crossdock serve`` as a real subprocess, in ``workdir``, on a free loopback port."""
    port = free_port()
    env = hub_env(database_url, port, extra_env)
    log_path = workdir / f"hub-{port}.log"
    with _started("hub", [_bin("crossdock"), "serve"], env, workdir, port, log_path) as server:
        yield server


WORKER_READY = "Crossdock worker"


@contextlib.contextmanager
def worker_processes(
    database_url: str,
    workdir: Path,
    count: int = 1,
    *,
    extra_env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> Iterator[list[Server]]:
    """``count`` ``crossdock worker`` processes (delivery workers and jobs, no API).

    They are all started at once and yielded once every one of them said it runs; a worker
    has no port (``Server.port`` is 0), its log says when it is ready.
    """
    env = hub_env(database_url, 0, extra_env)
    workers: list[Server] = []
    try:
        for number in range(count):
            log_path = workdir / f"worker-{number}-{uuid.uuid4().hex[:6]}.log"
            with log_path.open("wb") as log:
                process = subprocess.Popen(
                    [_bin("crossdock"), "worker"],
                    cwd=workdir,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            workers.append(Server(f"worker {number}", process, 0, log_path))
        deadline = time.monotonic() + timeout
        for worker in workers:
            while WORKER_READY not in worker.log_tail(200):
                if worker.process.poll() is not None:
                    raise BenchmarkError(
                        f"{worker.name} exited with {worker.process.returncode}:\n"
                        f"{worker.log_tail()}"
                    )
                if time.monotonic() > deadline:
                    raise BenchmarkError(f"{worker.name} did not start in {timeout:.0f} s")
                time.sleep(0.05)
        yield workers
    finally:
        for worker in workers:
            worker.stop()


def crossdock_command(database_url: str, workdir: Path, *args: str) -> str:
    """Run one ``crossdock`` CLI command against the database; its output."""
    try:
        done = subprocess.run(
            [_bin("crossdock"), *args],
            cwd=workdir,
            env=hub_env(database_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchmarkError(f"crossdock {' '.join(args)} did not finish: {exc}") from exc
    if done.returncode != 0:
        raise BenchmarkError(
            f"crossdock {' '.join(args)} failed ({done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return done.stdout + done.stderr


@contextlib.contextmanager
def python_server(
    name: str, app: str, workdir: Path, env: dict[str, str] | None = None
) -> Iterator[Server]:
    """An ASGI app of this folder under uvicorn (uvloop, httptools, one process, no log)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    full_env = _clean_env() | {"PYTHONPATH": str(REPO)} | (env or {})
    log_path = workdir / f"{name.replace(' ', '-')}-{port}.log"
    with _started(name, command, full_env, REPO, port, log_path) as server:
        yield server


@contextlib.contextmanager
def bare_server(workdir: Path) -> Iterator[Server]:
    """The bare baseline app, under the same uvicorn settings as ``crossdock serve``."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "benchmarks.bare_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    env = _clean_env() | {"PYTHONPATH": str(REPO)}
    log_path = workdir / f"bare-{port}.log"
    with _started("bare endpoint", command, env, REPO, port, log_path) as server:
        yield server


@contextlib.contextmanager
def _started(
    name: str, command: list[str], env: dict[str, str], cwd: Path, port: int, log_path: Path
) -> Iterator[Server]:
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    server = Server(name, process, port, log_path)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


# --- databases --------------------------------------------------------------------------


def sqlite_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'bench.db'}"


def sqlalchemy_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def postgres_available() -> str | None:
    """``None`` if the benchmark PostgreSQL answers, else why not."""
    try:
        engine = create_engine(
            sqlalchemy_url(POSTGRES_ADMIN_URL), connect_args={"connect_timeout": 5}
        )
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL at {POSTGRES_ADMIN_URL} does not answer: {exc}"
    return None


def add_postgres(
    name: str, options: Options, kinds: list[str], kind: str, notes: list[str]
) -> dict[str, str]:
    """Add ``kind`` to ``kinds`` when PostgreSQL is wanted and answers; its settings, if so.

    When it is wanted but does not answer, say why in ``notes`` (and on the console).
    """
    if not options.postgres:
        return {}
    why_not = postgres_available()
    if why_not is not None:
        notes.append(f"PostgreSQL skipped: {why_not}")
        print(f"[{name}] {notes[-1]}")
        return {}
    kinds.append(kind)
    return postgres_settings()


def postgres_settings() -> dict[str, str]:
    engine = create_engine(sqlalchemy_url(POSTGRES_ADMIN_URL))
    try:
        with engine.connect() as conn:
            return {
                name: str(conn.execute(text(f"SHOW {name}")).scalar())
                for name in ("server_version", "fsync", "synchronous_commit", "shared_buffers")
            }
    finally:
        engine.dispose()


@contextlib.contextmanager
def postgres_database(template: str | None = None) -> Iterator[str]:
    """A fresh database ``bench_<random>`` on the benchmark server, dropped afterwards.

    With ``template`` (the URL of another benchmark database, which nobody may be connected
    to), the new database is a copy of it: the same pre-loaded backlog for every run.
    """
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(sqlalchemy_url(POSTGRES_ADMIN_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if template is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        else:
            source = make_url(template).database
            if not source or not re.fullmatch(r"bench_[0-9a-f]+", source):
                raise ValueError(template)
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{source}"'))
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def stored_keys(database_url: str, id_prefix: str) -> set[str]:
    """The keys of stored messages whose event id starts with ``id_prefix``."""
    if not re.fullmatch(r"[A-Za-z0-9-]+", id_prefix):
        raise ValueError(id_prefix)
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT key FROM messages WHERE event_id LIKE :pattern"),
                {"pattern": id_prefix + "%"},
            )
            return {row[0] for row in rows}
    finally:
        engine.dispose()


def stored_count(database_url: str) -> int:
    engine = create_engine(sqlalchemy_url(database_url))
    try:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM messages")).scalar_one())
    finally:
        engine.dispose()


def _cpu_times() -> tuple[int, int]:
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def background_cpu(seconds: float = 1.0) -> float:
    """How busy the machine is without us, in percent of all cores (a noise indicator)."""
    try:
        busy0, total0 = _cpu_times()
        time.sleep(seconds)
        busy1, total1 = _cpu_times()
    except (OSError, ValueError, IndexError):
        return -1.0
    return round(100.0 * (busy1 - busy0) / max(1, total1 - total0), 1)


@dataclass(frozen=True)
class Options:
    """Command-line knobs shared by the benchmarks."""

    duration: float = 10.0
    warmup: float = 2.0
    rounds: int = 3
    connections: int = 64
    concurrency: int = 4
    batch_size: int = 500
    postgres: bool = True
    profile: bool = False
    # the delivery benchmarks
    backlog: int = 5_000  # messages pre-loaded for a drain
    delivery_concurrency: int = 64  # deliveries in flight (worker, connection, bare loop)
    dead_letters: int = 10_000  # bulk-replay


def median(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


# --- CPU accounting ---------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads) so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime


def postgres_cpu_seconds() -> float:
    """CPU seconds of every process named ``postgres`` on this machine (the server's)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if (entry / "comm").read_text().strip() == "postgres":
                total += process_cpu_seconds(int(entry.name))
    return total


class CpuMeter:
    """CPU used between :meth:`start` and :meth:`stop`: the machine, named processes, PostgreSQL.

    Reported in cores (CPU seconds per wall second): on 2 cores, 2.0 is a saturated machine.
    """

    def __init__(self) -> None:
        self._pids: dict[str, int] = {}
        self._start: dict[str, float] = {}
        self._result: dict[str, float] = {}

    def watch(self, name: str, pid: int) -> None:
        self._pids[name] = pid
        if self._start:
            self._start[name] = process_cpu_seconds(pid)

    def _sample(self) -> dict[str, float]:
        busy, _ = _cpu_times()
        sample = {name: process_cpu_seconds(pid) for name, pid in self._pids.items()}
        sample["postgresql"] = postgres_cpu_seconds()
        sample["machine_busy_ticks"] = busy / _TICK
        sample["wall"] = time.monotonic()
        return sample

    def start(self) -> None:
        self._start = self._sample()

    def stop(self) -> dict[str, float]:
        end = self._sample()
        wall = max(1e-9, end["wall"] - self._start["wall"])
        self._result = {
            name: round((end[name] - self._start.get(name, end[name])) / wall, 2)
            for name in end
            if name not in ("wall", "machine_busy_ticks")
        }
        self._result["machine"] = round(
            (end["machine_busy_ticks"] - self._start["machine_busy_ticks"]) / wall, 2
        )
        self._result["seconds"] = round(wall, 2)
        return self._result
