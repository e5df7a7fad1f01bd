"""Scale benchmark: one production cycle over 10, 100 and 1,000 masters.

    python bench/scale.py                  # 10, 100, 1000 masters
    python bench/scale.py --masters 10 100

Each size runs in its own process on a fresh SQLite database, or, with DATABASE_URL
set to a PostgreSQL server, on a new database beside the one it names (test_<name>,
created and dropped per size), with in-process tasks and the stub Meta client.
Renders are stood in (a tiny prebuilt MP4 and poster are stored for each variant, so
storage, checksums and uploads are real) because their cost is measured by
bench/render.py and grows with variants, not masters. Printed per cycle step: wall
seconds, the bench process's CPU seconds (SQLite runs inside it; a PostgreSQL server's
work is not counted) and SQL queries; then the growth 1,000 / 100 of each (10 would be
linear). On a shared machine the wall time moves with the others' load, printed beside
it; the CPU seconds move less.
The Page's running-ads cap is lifted (a team with 1,000 masters runs many Pages):
with it, the engine would plan and upload only the first 250 variants.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STEPS = ("collect_insights", "fatigue", "generate", "render_and_upload", "promote")
# "Planned, persisted and ranked": the steps whose work grows with masters, renders
# and uploads aside.
PLAN_AND_RANK = ("generate", "promote")

FRAGMENTS = (
    ("hook", 0.0, 3.0),
    ("hook", 3.0, 5.5),
    ("hook", 10.0, 13.0),
    ("body", 5.0, 12.0),
    ("body", 11.0, 18.0),
    ("cta", 16.0, 20.0),
    ("cta", 13.5, 17.0),
    ("outro", 18.5, 20.0),
)


def _setup_django(work: Path) -> Callable[[], None]:
    """Django on a fresh, migrated database; returns what drops it again."""
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{work / 'scale.db'}")
    os.environ["MEDIA_ROOT"] = str(work / "media")
    os.environ["RENDER_SCRATCH_DIR"] = str(work / "scratch")
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ["CREATIVE_ENGINE_MODE"] = "stub"
    os.environ["META_MAX_RUNNING_ADS_PER_PAGE"] = "1000000"
    os.environ.setdefault("META_STUB_UPLOAD_FAILURE_RATE", "0")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "sqlite":  # a new file in this size's own folder
        call_command("migrate", verbosity=0, interactive=False)
        return lambda: None
    # A server database: each size gets its own new one (test_<name>, migrated), so
    # the 1,000-master cycle never also walks the 100 masters written before it.
    name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    return lambda: connection.creation.destroy_test_db(name, verbosity=0)


def _make_masters(count: int) -> None:
    """`count` active masters with approved fragments, written in bulk (not measured)."""
    from django.utils import timezone

    from creative_engine.management.commands.load_demo import (
        DEMO_STYLE_GUIDE,
        _demo_admin,
    )
    from productions.guard import actor_for_user, human_authorization
    from productions.models import CreativeFragment

    # Pixels and subgenres are written by a human with that right: the demo admin.
    approved_at = timezone.now()
    with human_authorization(actor_for_user(_demo_admin())):
        masters = _bulk_masters(count, DEMO_STYLE_GUIDE)
    CreativeFragment.objects.bulk_create(
        CreativeFragment(
            master_creative=master,
            fragment_type=kind,
            start_time=start,
            end_time=end,
            duration=end - start,
            approved=True,
            approved_at=approved_at,
        )
        for master in masters
        for kind, start, end in FRAGMENTS
    )


def _bulk_masters(count: int, style_guide: dict[str, Any]) -> list[Any]:
    from productions.models import CreativeProduction

    return CreativeProduction.objects.bulk_create(
        CreativeProduction(
            title=f"Scale master {n}",
            video_url=f"https://cdn.example.com/scale/{n}.mp4",
            duration=20.0,
            authorized_pixels=["1234567890123456"],
            authorized_subgenres=["synthwave"],
            genre="music",
            style_guide=style_guide,
            campaign_id="120210000000001",
            adset_id="120210000000002",
        )
        for n in range(count)
    )


@contextlib.contextmanager
def _renders_stood_in(work: Path) -> Iterator[None]:
    """The render service without ffmpeg: a prebuilt 1 s clip stands in for every
    variant (stored, checksummed and uploaded like a real one)."""
    from productions.media import MediaInfo
    from variants.rendering.demo_media import make_synthetic_master
    from variants.rendering.renderer import RenderResult, file_sha256
    from variants.services import rendering

    clip = make_synthetic_master(work / "clip.mp4", duration=1.0, width=64, height=112)
    poster = work / "clip.jpg"
    poster.write_bytes(b"\xff\xd8\xff\xe0stand-in poster")
    checksum = file_sha256(clip)

    @contextlib.contextmanager
    def master_path(master: Any, **_: Any) -> Iterator[Path]:
        yield clip

    def probe(path: Any) -> MediaInfo:
        return MediaInfo(
            20.0, 1080, 1920, 30.0, True, "h264", "High", "yuv420p", "aac", 48000, 2
        )

    def render(spec: Any, out_path: Path, *, poster_path: Path, **_: Any) -> Any:
        shutil.copyfile(clip, out_path)
        shutil.copyfile(poster, poster_path)
        media = probe(out_path)
        return RenderResult(out_path, poster_path, checksum, spec.duration, media, 0.0)

    saved = (
        rendering.master_local_path,
        rendering.probe_media,
        rendering.render_to_file,
    )
    rendering.master_local_path = master_path  # type: ignore[assignment]
    rendering.probe_media = probe  # type: ignore[assignment]
    rendering.render_to_file = render  # type: ignore[assignment]
    try:
        yield
    finally:
        (
            rendering.master_local_path,
            rendering.probe_media,
            rendering.render_to_file,
        ) = saved


def run_one(count: int) -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix=f"bench-scale-{count}-"))
    cleanups: list[Callable[[], None]] = []
    try:
        cleanups.append(_setup_django(work))
        from django.db import connection

        from creative_engine.services import cycle
        from creative_engine.services.cycle import cycle_execute, cycle_request
        from variants.models import CreativeVariant

        _make_masters(count)
        timings: dict[str, dict[str, float]] = {}

        def measured(name: str, step: Any) -> Any:
            def run(ctx: Any) -> None:
                queries = 0

                def count_query(execute: Any, *args: Any) -> Any:
                    nonlocal queries
                    queries += 1
                    return execute(*args)

                started, cpu = time.perf_counter(), time.process_time()
                with connection.execute_wrapper(count_query):
                    step(ctx)
                timings[name] = {
                    "seconds": time.perf_counter() - started,
                    "cpu": time.process_time() - cpu,
                    "queries": queries,
                }

            return run

        steps = [(name, measured(name, step)) for name, step in cycle.default_steps()]
        with _renders_stood_in(work):
            started = time.perf_counter()
            run = cycle_execute(run_id=cycle_request(options={}).pk, steps=steps)
            total = time.perf_counter() - started
        statuses: dict[str, int] = {}
        for status in CreativeVariant.objects.values_list("status", flat=True):
            statuses[status] = statuses.get(status, 0) + 1
        failed = CreativeVariant.objects.filter(status="failed").first()
        if failed is not None:  # a stand-in that no longer fits measures nothing
            raise SystemExit(
                f"{statuses.get('failed')} variants failed, for example: "
                f"{failed.failure_reason or 'no reason given'}"
            )
        return {
            "masters": count,
            "run_status": run.status,
            "steps": timings,
            "total_seconds": total,
            "variants": statuses,
        }
    finally:
        for cleanup in cleanups:
            cleanup()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--masters", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one)))
        return
    results = {}
    for count in args.masters:
        load = os.getloadavg()[0]  # the machine is shared: say how busy it was
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(count)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            sys.exit(f"{count} masters: {done.stderr.strip().splitlines()[-1:]}")
        results[count] = json.loads(done.stdout.strip().splitlines()[-1])
        results[count]["load"] = (load, os.getloadavg()[0])
        result = results[count]
        steps = ", ".join(
            f"{name} {t['seconds']:.1f} s ({t['cpu']:.1f} s CPU) / {t['queries']} q"
            for name, t in result["steps"].items()
        )
        print(
            f"# {count} masters: run {result['run_status']}, "
            f"{result['total_seconds']:.1f} s, variants {result['variants']}; {steps}",
            flush=True,
        )
    print(
        f"{'step':18s}"
        + "".join(f"{f'{n} s':>10s}{f'{n} cpu':>10s}{f'{n} q':>9s}" for n in results)
    )
    for step in STEPS:
        row = f"{step:18s}"
        for result in results.values():
            t = result["steps"].get(step, {"seconds": 0.0, "cpu": 0.0, "queries": 0})
            row += f"{t['seconds']:10.2f}{t['cpu']:10.2f}{t['queries']:9d}"
        print(row)
    for count, result in results.items():
        planned = sum(result["steps"][s]["seconds"] for s in PLAN_AND_RANK)
        planned_cpu = sum(result["steps"][s]["cpu"] for s in PLAN_AND_RANK)
        print(
            f"# {count} masters: planned, persisted and ranked in {planned:.1f} s "
            f"({planned_cpu:.1f} s CPU); whole cycle {result['total_seconds']:.1f} s; "
            f"load average {result['load'][0]:.1f} before, {result['load'][1]:.1f} after"
        )
    if 100 in results and 1000 in results:
        small, large = results[100], results[1000]
        for step in [*STEPS, "whole cycle"]:
            a, b = (_step_totals(r, step) for r in (small, large))
            print(
                f"growth 1000/100 {step:18s}"
                + "".join(
                    f"  {what} {b[what] / a[what] if a[what] else float('nan'):6.2f}"
                    for what in ("seconds", "cpu", "queries")
                )
            )


def _step_totals(result: dict[str, Any], step: str) -> dict[str, float]:
    """One step's wall seconds, CPU seconds and queries; every step's for the cycle."""
    steps = result["steps"]
    chosen = list(steps.values()) if step == "whole cycle" else [steps[step]]
    totals = {what: sum(t[what] for t in chosen) for what in ("cpu", "queries")}
    whole = step == "whole cycle"
    totals["seconds"] = result["total_seconds"] if whole else steps[step]["seconds"]
    return totals


if __name__ == "__main__":
    main()
