"""Render benchmark: the 15 variants of a 1080x1920 master, against two references.

    python bench/render.py                 # full size, all three runs
    python bench/render.py --width 540 --height 960 --skip-naive

Prints seconds per variant, output seconds per wall second, and two ratios:
- against an encode-only floor: raw frames of the same length straight into libx264
  with the same settings (what encoding alone costs; nothing can beat it);
- against a naive render: one ffmpeg command per variant from the master with the float
  lut3d in the graph, nothing shared between variants.

The machine may be shared, so CPU seconds (user + system of the ffmpeg children) are
printed next to wall seconds; the CPU ratios are the steadier figure.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

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
from variants.rendering.renderer import GradeCache, render_to_file  # noqa: E402

FPS = 30
# Approved fragments of the 20 s master: (start, end) seconds.
HOOKS = [(0.0, 4.0), (4.0, 8.0)]
BODIES = [(8.0, 15.0), (9.0, 16.0)]
CTAS = [(16.0, 20.0)]
# Seconds per slot (hook, body, cta) for short 6 s, medium 10 s, long 15 s.
SLOT_SECONDS = {
    "short": (2.0, 2.0, 2.0),
    "medium": (3.0, 4.0, 3.0),
    "long": (4.0, 7.0, 4.0),
}
DURATIONS = ("short", "medium", "long")
STRUCTURES = {
    "hook_body_cta": ("hook", "body", "cta"),
    "hook_inverted": ("cta", "body", "hook"),
    "cta_forward": ("cta", "hook", "body"),
}
LOOKS = ("natural", "film", "warm")
TEXTS = ("Listen now", "New single out Friday", "Pre-save it today — link in bio")


@dataclass
class Run:
    name: str
    wall: float
    cpu: float
    output_seconds: float


def plan_specs(
    master: Path, looks: dict[str, Look | None], width: int, height: int
) -> list[RenderSpec]:
    """15 variants: 3 structures x 3 durations, alternating fragments, 3 looks."""
    specs = []
    for i in range(15):
        duration = DURATIONS[i % 3]
        structure = list(STRUCTURES)[(i // 3) % 3]
        fragments = {
            "hook": HOOKS[i % len(HOOKS)],
            "body": BODIES[(i // 2) % len(BODIES)],
            "cta": CTAS[0],
        }
        seconds = dict(
            zip(("hook", "body", "cta"), SLOT_SECONDS[duration], strict=True)
        )
        segments = []
        for slot in STRUCTURES[structure]:
            start, end = fragments[slot]
            # Hooks and CTAs keep their start; bodies are taken from their middle.
            offset = 0.0 if slot != "body" else ((end - start) - seconds[slot]) / 2
            offset = round(offset * FPS) / FPS
            cut_in = start + offset
            segments.append(Segment(cut_in, cut_in + seconds[slot], span=(start, end)))
        look = LOOKS[(i + i // 3) % 3]
        specs.append(
            RenderSpec(
                source=master,
                segments=tuple(segments),
                look=looks[look],
                text_overlay=TEXTS[i % 3],
                width=width,
                height=height,
                source_duration=20.0,
            )
        )
    return specs


def _as_cube(look: Look, work: Path) -> Path:
    if isinstance(look, Path):
        return look
    path = work / "luts" / "naive-grading.cube"
    path.write_text(cube_text(grading_lut(look)))
    return path


def measured(name: str, output_seconds: float, work: Callable[[], None]) -> Run:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    work()
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(name=name, wall=wall, cpu=cpu, output_seconds=output_seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--width", type=int, default=1080)
    parser.add_argument("--height", type=int, default=1920)
    parser.add_argument("--skip-naive", action="store_true")
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument(
        "--cube-looks",
        action="store_true",
        help="both named looks as .cube files (the worst case: no Y'CbCr grading)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-render-"))
    try:
        print(f"# {args.width}x{args.height}, {os.cpu_count()} CPUs, work dir {work}")
        master = make_synthetic_master(
            work / "master.mp4", duration=20.0, width=args.width, height=args.height
        )
        film = work / "luts" / "film.cube"
        film.parent.mkdir()
        film.write_text(
            cube_text(
                grading_lut({"contrast": 1.15, "saturation": 0.8, "warmth": -0.3})
            )
        )
        warm_grading = {"warmth": 0.6, "saturation": 1.2, "gamma": 1.1}
        warm = resolve_look("warm", luts={"warm": warm_grading}, media_root=work)
        if args.cube_looks:
            warm = work / "luts" / "warm.cube"
            warm.write_text(cube_text(grading_lut(warm_grading)))
        looks = {"natural": None, "film": film, "warm": warm}
        print(
            "# looks: natural (none), film (.cube, float lut3d), warm ("
            + (".cube, float lut3d)" if args.cube_looks else "grading, Y'CbCr tables)")
        )
        specs = plan_specs(master, looks, args.width, args.height)
        total = sum(s.duration for s in specs)
        print(f"# 15 variants, {total:.0f} s of output")
        runs: list[Run] = []

        if not args.skip_floor:
            raw = work / "raw.nut"
            run_ffmpeg(["-y", "-i", str(master), "-an", "-c:v", "rawvideo", str(raw)])

            def floor() -> None:
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

            runs.append(measured("encode-only floor", total, floor))
            raw.unlink()

        if not args.skip_naive:
            # The naive reference applies every look as a float lut3d from a .cube.
            naive_specs = [
                replace(s, look=_as_cube(s.look, work)) if s.look else s for s in specs
            ]

            def naive() -> None:
                for i, spec in enumerate(naive_specs):
                    run_ffmpeg(
                        build_render_command(
                            spec,
                            work / f"naive-{i}.mp4",
                            poster_path=work / f"naive-{i}.jpg",
                        )
                    )

            runs.append(measured("naive per-variant render", total, naive))

        cache = GradeCache(work / "grade-cache")

        def engine() -> None:
            for i, spec in enumerate(specs):
                render_to_file(spec, work / f"variant-{i}.mp4", cache=cache)

        runs.append(measured("engine (graded spans cached)", total, engine))
        print(f"# grade cache: {cache.misses} spans prepared, {cache.hits} reused")

        print(
            f"{'run':32s} {'wall s':>8s} {'cpu s':>8s} {'s/variant':>10s} {'out s/s':>8s}"
        )
        for run in runs:
            print(
                f"{run.name:32s} {run.wall:8.1f} {run.cpu:8.1f} {run.wall / 15:10.2f}"
                f" {run.output_seconds / run.wall:8.2f}"
            )
        by_name = {r.name.split(" ")[0]: r for r in runs}
        engine_run = by_name["engine"]
        for ref in ("encode-only", "naive"):
            if ref in by_name:
                base = by_name[ref]
                print(
                    f"ratio engine / {ref}: wall {engine_run.wall / base.wall:.2f}, "
                    f"cpu {engine_run.cpu / base.cpu:.2f}"
                )
    finally:
        if args.keep:
            print(f"# kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
