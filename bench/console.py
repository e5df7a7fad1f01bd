"""Console page speed: server time, CPU time and queries for every console page at
50 masters × 15 variants × 30 days of metrics (22,500 daily rows), against the 300 ms
goal.

    python bench/console.py                    # a scratch SQLite file
    DATABASE_URL=postgres://… python bench/console.py

Each page (tests.console.world.console_pages, the list the query tests count) is
requested through Django's test client (the whole middleware stack, the templates, the
queries; no network) once to warm caches, then `--repeat` times. Printed per page: the
median wall time, the median CPU time of this process (`time.process_time`: on a shared
machine, what the page itself cost), the query count, the same at a tenth of the world,
and the growth full / tenth, which shows time follows the page, not the rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = (
        f"sqlite:///{tempfile.mkdtemp(prefix='bench-console-')}/console.db"
    )
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

from productions.roles import MANAGER_GROUP  # noqa: E402
from tests.console.world import build_world, console_pages  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

GOAL_MS = 300.0


@dataclass(frozen=True)
class Timing:
    wall_ms: float
    worst_ms: float
    cpu_ms: float
    queries: int


def measure(client: Client, url: str, repeat: int) -> Timing:
    client.get(url)
    walls, cpus = [], []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            cpu = time.process_time()
            start = time.perf_counter()
            answer = client.get(url)
            walls.append((time.perf_counter() - start) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code}")
        queries = len(captured)
    return Timing(
        statistics.median(walls), max(walls), statistics.median(cpus), queries
    )


def run(masters: int, repeat: int) -> dict[str, Timing]:
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    world = build_world(masters=masters, variants_per_master=15, days=30)
    built = time.perf_counter() - started
    print(
        f"-- {masters} masters × 15 variants × 30 days "
        f"({len(world.variants) * 30:,} daily rows; built in {built:.1f} s)"
    )
    user = UserFactory(username="bench-manager", groups=[MANAGER_GROUP])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    return {
        name: measure(client, url, repeat) for name, url in console_pages(world).items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--masters", type=int, default=50)
    args = parser.parse_args()
    settings.DEBUG = False
    setup_test_environment()
    print(f"database: {connection.vendor}")
    tenth = run(max(args.masters // 10, 1), args.repeat)
    full = run(args.masters, args.repeat)
    print(
        f"\n   {'page':22} {'wall ms':>8} {'worst':>6} {'CPU ms':>7} {'queries':>7}"
        f" {'tenth ms':>9} {'tenth CPU':>9} {'tenth q':>7} {'growth':>7}"
    )
    for name, at in full.items():
        small = tenth[name]
        print(
            f"   {name:22} {at.wall_ms:8.1f} {at.worst_ms:6.0f} {at.cpu_ms:7.1f} "
            f"{at.queries:7d} {small.wall_ms:9.1f} {small.cpu_ms:9.1f} "
            f"{small.queries:7d} {at.wall_ms / small.wall_ms:6.2f}×"
        )
    slowest = max(full.items(), key=lambda item: item[1].wall_ms)
    over = [name for name, at in full.items() if at.wall_ms > GOAL_MS]
    print(
        f"\nslowest page at full size: {slowest[0]} {slowest[1].wall_ms:.0f} ms "
        f"({slowest[1].wall_ms / GOAL_MS:.2f} × the {GOAL_MS:.0f} ms goal); "
        f"over the goal: {', '.join(over) or 'none'}"
    )


if __name__ == "__main__":
    main()
