"""Throughput and latency of GET /meta/creative-engine/variants/{id} on a real server.

    python bench/api.py [--requests 3000] [--concurrency 16] [--server gunicorn]

1. A temporary SQLite database is migrated and seeded: a manager with a token and one
   master with 15 variants (other masters' variants around it, so the query filters).
2. A real server process (gunicorn, or `runserver --noreload`) serves it on loopback
   with production-like settings (DEBUG off, throttling lifted for the run).
3. N client threads, each with its own keep-alive connection, send a fixed number of
   requests between them; every response must be 200 with 15 variants.
4. Prints requests/s and p50/p95/p99 latency. Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
VARIANTS_PER_MASTER = 15


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(workdir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
            "MEDIA_ROOT": str(workdir / "media"),
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-only-secret-key-not-for-production-use-0123456789",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "API_THROTTLE_USER": "100000000/hour",
            "CELERY_BROKER_URL": "",
            "CREATIVE_ENGINE_MODE": "stub",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def _prepare_database(env: dict[str, str]) -> tuple[str, str]:
    """Migrate and seed in a child process (settings come from env); returns the token
    and the master id."""
    seed = r"""
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from rest_framework.authtoken.models import Token
from productions.roles import MANAGER_GROUP, role_groups_ensure
from tests.factories import ProductionFactory, UserFactory, VariantFactory
role_groups_ensure()
user = UserFactory(username="bench-manager", groups=[MANAGER_GROUP])
token = Token.objects.create(user=user)
master = ProductionFactory(title="Bench master")
statuses = ["active"] * 3 + ["testing"] * 6 + ["fatigued"] * 2 + ["archived"] * 4
for number, status in enumerate(statuses, start=1):
    VariantFactory(parent=master, variant_number=number, status=status)
for _ in range(5):
    other = ProductionFactory()
    for number in range(1, 16):
        VariantFactory(parent=other, variant_number=number)
print(token.key, master.pk)
"""
    out = subprocess.run(
        [sys.executable, "-c", seed],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    token, master_id = out.stdout.split()[-2:]
    return token, master_id


def _start_server(
    env: dict[str, str], *, port: int, kind: str, workers: int, threads: int
) -> subprocess.Popen:
    if kind == "gunicorn":
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ]
    else:
        argv = [sys.executable, "manage.py", "runserver", "--noreload"]
        argv += ["--nothreading"] if threads <= 1 else []
        argv += [f"127.0.0.1:{port}"]
    return subprocess.Popen(argv, env=env, cwd=ROOT, start_new_session=True)


def _wait_ready(url: str, headers: dict[str, str], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, headers=headers, timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer 200 at {url} within {timeout:.0f}s")


def _load(
    url: str,
    headers: dict[str, str],
    *,
    total: int,
    concurrency: int,
) -> tuple[list[float], float, list[str]]:
    """Send `total` GETs from `concurrency` threads; returns latencies (s), wall time
    and any errors."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    remaining = [total]
    start_gate = threading.Barrier(concurrency + 1)

    def client() -> None:
        mine: list[float] = []
        with httpx.Client(headers=headers, timeout=30.0) as http:
            start_gate.wait()
            while True:
                with lock:
                    if remaining[0] == 0:
                        break
                    remaining[0] -= 1
                began = time.perf_counter()
                try:
                    response = http.get(url)
                    ok = response.status_code == 200 and (
                        len(response.json()["variants"]) == VARIANTS_PER_MASTER
                    )
                    problem = None if ok else f"HTTP {response.status_code}"
                except (httpx.HTTPError, ValueError, KeyError) as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                mine.append(time.perf_counter() - began)
                if problem:
                    with lock:
                        errors.append(problem)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    start_gate.wait()
    wall_start = time.perf_counter()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - wall_start, errors


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument(
        "--server", choices=["gunicorn", "runserver"], default="gunicorn"
    )
    parser.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1))
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="ce-bench-api-"))
    server: subprocess.Popen | None = None
    try:
        env = _server_env(workdir)
        token, master_id = _prepare_database(env)
        port = _free_port()
        server = _start_server(
            env, port=port, kind=args.server, workers=args.workers, threads=args.threads
        )
        url = f"http://127.0.0.1:{port}/meta/creative-engine/variants/{master_id}"
        headers = {"Authorization": f"Token {token}"}
        _wait_ready(url, headers)
        _load(url, headers, total=args.warmup, concurrency=min(4, args.concurrency))
        latencies, wall, errors = _load(
            url, headers, total=args.requests, concurrency=args.concurrency
        )
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"GET /meta/creative-engine/variants/{{id}} ({VARIANTS_PER_MASTER} variants), "
        f"{args.server} {args.workers}x{args.threads} on loopback, SQLite"
    )
    print(f"  requests     {len(latencies)} from {args.concurrency} concurrent clients")
    print(
        f"  errors       {len(errors)}" + (f" (first: {errors[0]})" if errors else "")
    )
    print(f"  throughput   {len(latencies) / wall:,.0f} requests/s")
    print(f"  latency p50  {_percentile(latencies, 0.50) * 1000:.1f} ms")
    print(f"  latency p95  {_percentile(latencies, 0.95) * 1000:.1f} ms")
    print(f"  latency p99  {_percentile(latencies, 0.99) * 1000:.1f} ms")
    print(f"  mean         {statistics.fmean(latencies) * 1000:.1f} ms")
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
