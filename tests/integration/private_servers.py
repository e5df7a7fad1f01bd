"""Throw-away PostgreSQL and Redis servers, started inside the test session on free
ports, so a test can restart them mid-work without touching the shared ones.

PostgreSQL refuses to run as root: as root the server's commands run as the
`postgres` OS user (`runuser`), in a data directory that user owns. Redis runs with
no persistence, so a restart loses every queued message, as a crashed broker does.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_bin_dir() -> Path | None:
    """The newest installed PostgreSQL server's binaries, or None."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def postgres_missing() -> str:
    """Why a private PostgreSQL cannot start here ("" when it can)."""
    bin_dir = postgres_bin_dir()
    if bin_dir is None or not (bin_dir / "pg_ctl").exists():
        return "PostgreSQL server binaries (initdb, pg_ctl) are not installed"
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            return "running as root needs runuser to start PostgreSQL as postgres"
        try:
            import pwd

            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root needs a 'postgres' OS user to run PostgreSQL"
    if not (bin_dir / "pg_dump").exists() or not (bin_dir / "psql").exists():
        return "pg_dump and psql are needed to copy the test database"
    return ""


def redis_missing() -> str:
    return "" if shutil.which("redis-server") else "redis-server is not installed"


def _redis_server() -> str:
    return shutil.which("redis-server") or "redis-server"


class PrivatePostgres:
    """A PostgreSQL cluster of its own: `start`, `restart(outage=...)`, `stop`."""

    def __init__(self) -> None:
        self.bin_dir = postgres_bin_dir()
        assert self.bin_dir is not None
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="ce-private-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        if os.geteuid() == 0:
            shutil.chown(self.base, user="postgres", group="postgres")
        self._as_server_user(
            [
                str(self.bin_dir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ]
        )

    def _as_server_user(self, argv: list[str]) -> None:
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        prefix = [runuser, "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            prefix + argv, check=True, capture_output=True, cwd=self.base, timeout=120
        )

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=60"
        )
        self._as_server_user(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    def stop(self, *, mode: str = "fast") -> None:
        self._as_server_user(
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data),
                "-m",
                mode,
                "-w",
                "stop",
            ]
        )

    def restart(self, *, outage: float) -> None:
        """Stop (every connection dropped), stay down `outage` seconds, start."""
        self.stop()
        time.sleep(outage)
        self.start()

    def psql(self, *args: str, stdin: bytes | None = None) -> None:
        subprocess.run(
            [
                str(self.bin_dir / "psql"),
                *("-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"),
                *("-v", "ON_ERROR_STOP=1", *args),
            ],
            input=stdin,
            check=True,
            capture_output=True,
            timeout=120,
        )

    def copy_database(self, *, name: str, host: str, port: str, user: str) -> None:
        """Create `name` here as a copy of the same database on `host:port`."""
        self.psql("-d", "postgres", "-c", f'CREATE DATABASE "{name}"')
        dump = subprocess.run(
            [
                str(self.bin_dir / "pg_dump"),
                *("--no-owner", "-h", host, "-p", port, "-U", user, name),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        self.psql("-d", name, stdin=dump.stdout)

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already down
            self.stop(mode="immediate")
        shutil.rmtree(self.base, ignore_errors=True)


class PrivateRedis:
    """A Redis of its own with no persistence: a restart loses every message."""

    def __init__(self) -> None:
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="ce-private-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                _redis_server(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.base),
                "--logfile",
                str(self.base / "redis.log"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=1)
        deadline = time.monotonic() + 30
        while True:
            try:
                client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.1)
            finally:
                client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # no persistence: nothing is saved
            self.process.wait(timeout=30)

    def restart(self, *, outage: float) -> None:
        self.stop()
        time.sleep(outage)
        self.start()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
