"""Console page speed: server time and queries per page at 50 masters × 15 variants ×
30 days of metrics (22,500 daily rows), against the 300 ms goal.

    python bench/console.py                    # a scratch SQLite file
    DATABASE_URL=postgres://… python bench/console.py --keep

Each page is requested through Django's test client (the whole middleware stack, the
templates, the queries; no network) once to warm caches, then `--repeat` times; the
median and worst server times are printed with the query count and the ratio to the
goal, and the same pages at a tenth of the world, to show time follows the page, not
the rows.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
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
from django.urls import reverse  # noqa: E402

from productions.roles import MANAGER_GROUP  # noqa: E402
from tests.console.world import World, build_world  # noqa: E402
from tests.factories import UserFactory  # noqa: E402

GOAL_MS = 300.0


def pages(world: World) -> dict[str, str]:
    master = world.masters[0]
    variant = world.variants[0]
    return {
        "dashboard": reverse("admin:index"),
        "creative grid": reverse("admin:variants_creativevariant_changelist"),
        "grid sorted by ROAS": reverse("admin:variants_creativevariant_changelist")
        + "?o=-6",  # the ROAS column
        "variant page": reverse(
            "admin:variants_creativevariant_change", args=[variant.pk]
        ),
        "master list": reverse("admin:productions_creativeproduction_changelist"),
        "master page": reverse(
            "admin:productions_creativeproduction_change", args=[master.pk]
        ),
        "fragment list": reverse("admin:productions_creativefragment_changelist"),
        "cycle runs": reverse("admin:creative_engine_cyclerun_changelist"),
        "promotion log": reverse("admin:promotion_promotionlog_changelist"),
        "daily metrics": reverse("admin:promotion_variantdailymetric_changelist"),
    }


def measure(client: Client, url: str, repeat: int) -> tuple[float, float, int]:
    client.get(url)
    times = []
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            answer = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        if answer.status_code != 200:
            raise SystemExit(f"{url} answered {answer.status_code}")
        queries = len(captured)
    return statistics.median(times), max(times), queries


def run(masters: int, repeat: int) -> dict[str, tuple[float, float, int]]:
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    world = build_world(masters=masters, variants_per_master=15, days=30)
    built = time.perf_counter() - started
    print(
        f"\n-- {masters} masters × 15 variants × 30 days "
        f"({len(world.variants) * 30:,} daily rows; built in {built:.1f} s)"
    )
    user = UserFactory(username="bench-manager", groups=[MANAGER_GROUP])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = Client()
    client.force_login(user)
    results = {}
    print(
        f"   {'page':22} {'median ms':>10} {'worst ms':>9} {'queries':>8} {'/ goal':>7}"
    )
    for name, url in pages(world).items():
        median, worst, queries = measure(client, url, repeat)
        results[name] = (median, worst, queries)
        print(
            f"   {name:22} {median:10.1f} {worst:9.1f} {queries:8d} "
            f"{median / GOAL_MS:7.2f}"
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--masters", type=int, default=50)
    args = parser.parse_args()
    settings.DEBUG = False
    setup_test_environment()
    print(f"database: {connection.vendor}")
    small = run(max(args.masters // 10, 1), args.repeat)
    large = run(args.masters, args.repeat)
    print("\n-- growth, large / small world (time; queries)")
    for name in large:
        print(
            f"   {name:22} {large[name][0] / small[name][0]:5.2f}×  "
            f"{large[name][2]} vs {small[name][2]} queries"
        )
    slowest = max(large.items(), key=lambda item: item[1][0])
    print(
        f"\nslowest page at full size: {slowest[0]} {slowest[1][0]:.0f} ms "
        f"({slowest[1][0] / GOAL_MS:.2f} × the {GOAL_MS:.0f} ms goal)"
    )


if __name__ == "__main__":
    main()
