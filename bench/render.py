"""Render benchmark: a cycle of the bench master, then a refresh cycle, against the floor.

    python bench/render.py                 # full size
    python bench/render.py --width 540 --height 960 --skip-naive

The 15 variants are planned by the engine's own planner (`plan_batch`) from the bench
master's approved fragments, then 5 of them are refreshed (`plan_refresh`), as the
second cycle would after they fatigue. Each batch is measured against:
- the encode-only floor: raw frames of the same total length straight into libx264
  with the same settings (what encoding every output second once costs);
- optionally a naive render: one ffmpeg command per variant from the master, nothing
  shared.
The engine renders from its piece cache (empty before the first batch, kept for the
refresh), each render given the variants still to render as its batch, as the render
service does. The floor's encoder settings are the engine's own (`encode_args` of the
same spec: codec, preset, CRF, GOP), so the ratio compares like with like. The machine
may be shared, so CPU seconds (user + system of this process and its ffmpeg children)
are printed next to wall seconds; the CPU ratios are the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from variants.planning import planned_pieces  # noqa: E402
from variants.planning.inputs import (  # noqa: E402
    FragmentInput,
    MasterInput,
    VariantPlan,
)
from variants.planning.planner import plan_batch  # noqa: E402
from variants.planning.refresh import plan_refresh  # noqa: E402
from variants.rendering.commands import (  # noqa: E402
    RenderSpec,
    Segment,
    build_render_command,
    encode_args,
)
from variants.rendering.demo_media import make_synthetic_master  # noqa: E402
from variants.rendering.ffmpeg import run_ffmpeg  # noqa: E402
from variants.rendering.looks import (  # noqa: E402
    Look,
    cube_text,
    grading_lut,
    resolve_look,
)
from variants.rendering.renderer import PieceCache, render_to_file  # noqa: E402

FPS = 30
SEED = 14
# Approved fragments of the 20 s master: (id, type, start, end) seconds.
FRAGMENTS = (
    ("hook-a", "hook", 0.0, 4.0),
    ("hook-b", "hook", 4.0, 8.0),
    ("body-a", "body", 8.0, 15.0),
    ("body-b", "body", 9.0, 16.0),
    ("cta", "cta", 16.0, 20.0),
)
STYLE_GUIDE = {
    "hashtags": ["#newmusic", "#single", "#indie", "#presave"],
    "required_phrases": ["New single out Friday"],
    "cta_text": "Pre-save it today",
    "luts": {
        "film": "film.cube",
        "warm": {"warmth": 0.6, "saturation": 1.2, "gamma": 1.1},
    },
}
FILM = {"contrast": 1.15, "saturation": 0.8, "warmth": -0.3}


@dataclass
class Run:
    name: str
    wall: float
    cpu: float
    output_seconds: float


def bench_inputs() -> tuple[MasterInput, list[FragmentInput]]:
    master = MasterInput(
        id="bench",
        title="Bench master",
        duration=20.0,
        style_guide=STYLE_GUIDE,
        authorized_pixels=("pixel-1",),
    )
    fragments = [
        FragmentInput(id=i, fragment_type=t, start_time=a, end_time=b)
        for i, t, a, b in FRAGMENTS
    ]
    return master, fragments


def plan_cycles(refreshes: int = 5) -> tuple[list[VariantPlan], list[VariantPlan]]:
    """The first cycle's 15 plans, and the refresh of `refreshes` of them."""
    master, fragments = bench_inputs()
    batch = plan_batch(master=master, fragments=fragments, seed=SEED, count=15)
    taken = frozenset(p.signature for p in batch.plans)
    # What the first cycle left in the piece cache, as the refresh service reads it.
    earlier = planned_pieces(
        (p.color_look, p.text_overlay, p.slots) for p in batch.plans
    )
    refreshed = []
    for n, fatigued in enumerate(batch.plans[:refreshes], start=16):
        plan = plan_refresh(
            master=master,
            fragments=fragments,
            fatigued=fatigued,
            fragment_scores={},
            seed=SEED + n,
            variant_number=n,
            exclude_signatures=taken,
            earlier_pieces=earlier,
        )
        taken |= {plan.signature}
        refreshed.append(plan)
    return list(batch.plans), refreshed


def spec_of(
    plan: VariantPlan, *, master: Path, media_root: Path, width: int, height: int
) -> RenderSpec:
    """What the render service builds from a stored variant of this plan."""
    spans = {i: (a, b) for i, _, a, b in FRAGMENTS}
    return RenderSpec(
        source=master,
        segments=tuple(
            Segment(s.source_in, s.source_out, span=spans[s.fragment_id])
            for s in plan.slots
        ),
        look=resolve_look(
            plan.color_look, luts=STYLE_GUIDE["luts"], media_root=media_root
        ),
        text_overlay=plan.text_overlay,
        width=width,
        height=height,
        source_duration=20.0,
    )


def _as_cube(look: Look, work: Path) -> Path:
    if isinstance(look, Path):
        return look
    path = work / "luts" / "naive-grading.cube"
    path.write_text(cube_text(grading_lut(look)))
    return path


def _cpu_seconds() -> float:
    """User + system seconds of this process (the engine's Python) and its finished
    children (every ffmpeg)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


def measured(name: str, output_seconds: float, work: Callable[[], None]) -> Run:
    before = _cpu_seconds()
    started = time.monotonic()
    work()
    wall = time.monotonic() - started
    cpu = _cpu_seconds() - before
    return Run(name=name, wall=wall, cpu=cpu, output_seconds=output_seconds)


def floor_work(specs: Sequence[RenderSpec], raw: Path, work: Path) -> None:
    for i, spec in enumerate(specs):
        video_only = encode_args(spec)[: encode_args(spec).index("-c:a")]
        run_ffmpeg(
            [
                "-y",
                "-t",
                f"{spec.duration:.6f}",
                "-i",
                str(raw),
                "-an",
                *video_only,
                "-f",
                "mp4",
                str(work / f"floor-{i}.mp4"),
            ]
        )


def engine_work(
    specs: Sequence[RenderSpec], cache: PieceCache, work: Path, tag: str
) -> Callable[[], None]:
    def render() -> None:
        # As the render service does: each render's batch is the variants of the
        # master still waiting for theirs.
        for i, spec in enumerate(specs):
            render_to_file(
                spec, work / f"{tag}-{i}.mp4", cache=cache, batch=specs[i + 1 :]
            )

    return render


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--width", type=int, default=1080)
    parser.add_argument("--height", type=int, default=1920)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        print(f"# {args.width}x{args.height}, {os.cpu_count()} CPUs, work dir {work}")
        master = make_synthetic_master(
            work / "master.mp4", duration=20.0, width=args.width, height=args.height
        )
        (work / "luts").mkdir()
        (work / "luts" / "film.cube").write_text(cube_text(grading_lut(FILM)))
        first_plans, refresh_plans = plan_cycles()

        def specs_of(plans: Sequence[VariantPlan]) -> list[RenderSpec]:
            return [
                spec_of(
                    p,
                    master=master,
                    media_root=work,
                    width=args.width,
                    height=args.height,
                )
                for p in plans
            ]

        first, refresh = specs_of(first_plans), specs_of(refresh_plans)
        looks = sorted({p.color_look for p in first_plans})
        texts = sorted({p.text_overlay for p in first_plans})
        print(
            f"# planner: {len(first)} variants, looks {looks}, overlays {texts}; "
            f"{len(refresh)} refreshed in the second cycle"
        )
        raw = work / "raw.nut"
        run_ffmpeg(["-y", "-i", str(master), "-an", "-c:v", "rawvideo", str(raw)])
        cache = PieceCache(work / "pieces")
        rows: list[tuple[str, Run, Run]] = []
        for label, specs, tag in (
            ("first cycle", first, "first"),
            ("refresh cycle", refresh, "refresh"),
        ):
            total = sum(s.duration for s in specs)
            print(f"# {label}: {len(specs)} variants, {total:.0f} s of output")
            floor = measured(
                "encode-only floor", total, lambda s=specs: floor_work(s, raw, work)
            )
            misses, hits = cache.misses, cache.hits
            engine = measured(
                "engine (piece cache)", total, engine_work(specs, cache, work, tag)
            )
            print(
                f"#   pieces encoded {cache.misses - misses}, reused "
                f"{cache.hits - hits}; cache {cache.bytes_used() / 1e6:.0f} MB"
            )
            rows.append((label, floor, engine))
            if not args.skip_naive and tag == "first":
                naive_specs = [
                    replace(s, look=_as_cube(s.look, work)) if s.look else s
                    for s in specs
                ]

                def naive(n: list[RenderSpec] = naive_specs) -> None:
                    for i, spec in enumerate(n):
                        run_ffmpeg(
                            build_render_command(
                                spec,
                                work / f"naive-{i}.mp4",
                                poster_path=work / f"naive-{i}.jpg",
                            )
                        )

                naive_run = measured("naive per-variant render", total, naive)
                rows.append((label, naive_run, engine))
        raw.unlink()

        print(f"{'batch':14s} {'run':26s} {'wall s':>8s} {'cpu s':>8s} {'out s/s':>8s}")
        for label, reference, engine in rows:
            for run in (reference, engine):
                print(
                    f"{label:14s} {run.name:26s} {run.wall:8.1f} {run.cpu:8.1f}"
                    f" {run.output_seconds / run.wall:8.2f}"
                )
        for label, reference, engine in rows:
            print(
                f"ratio {label} engine / {reference.name.split(' ')[0]}: "
                f"cpu {engine.cpu / reference.cpu:.2f}, "
                f"wall {engine.wall / reference.wall:.2f}"
            )
    finally:
        if args.keep:
            print(f"# kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
