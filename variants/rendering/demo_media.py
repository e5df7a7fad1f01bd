"""Synthetic masters: a test pattern in visually distinct sections with a tone per section.

Used by `load_demo`, the tests and the benchmark, so nothing depends on a real video. Each
section has its own hue, a large "SECTION n" label and its own pitch, which makes a wrong
cut visible and audible; a strip of boxes in the top corner spells each frame's number
in binary, so a test can check frame by frame which master frame landed where.
"""

from __future__ import annotations

from pathlib import Path

from variants.rendering.commands import DEFAULT_FONT, escape_filter_path
from variants.rendering.ffmpeg import run_ffmpeg

SECTION_SECONDS = 4.0
FRAME_CODE_BITS = 12


def frame_code_boxes(width: int, height: int) -> list[tuple[int, int, int, int]]:
    """(x, y, w, h) of the frame-number bits, least significant first, top right.

    Each box is white when its bit of the source frame number is set, so a test can read
    which master frame ended up where. It sits in the top 14 % that overlays avoid.
    """
    size = max(6, width // 40)
    x0 = width - (FRAME_CODE_BITS + 1) * size
    y = max(2, height // 40)
    return [(x0 + i * size, y, size, size) for i in range(FRAME_CODE_BITS)]


def read_frame_code(luma, width: int, height: int) -> int:  # type: ignore[no-untyped-def]
    """The frame number encoded in a decoded frame's luma plane (a 2-D array)."""
    value = 0
    for bit, (x, y, w, h) in enumerate(frame_code_boxes(width, height)):
        centre = luma[y + h // 4 : y + 3 * h // 4, x + w // 4 : x + 3 * w // 4]
        if float(centre.mean()) > 128:
            value |= 1 << bit
    return value


def make_synthetic_master(
    path: Path,
    *,
    duration: float = 20.0,
    width: int = 1080,
    height: int = 1920,
    fps: int = 30,
    font_path: Path = DEFAULT_FONT,
) -> Path:
    """Write a synthetic H.264/AAC master to `path` and return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sections = max(1, int(duration // SECTION_SECONDS))
    font = escape_filter_path(str(font_path))
    size = max(16, height // 14)
    video = (
        f"testsrc2=size={width}x{height}:rate={fps}:duration={duration},"
        f"hue=H=2*PI*floor(t/{SECTION_SECONDS})/{sections + 1}:s=1.4,"
        f"drawtext=fontfile='{font}':fontsize={size}:fontcolor=white"
        f":box=1:boxcolor=black@0.6:boxborderw={size // 4}"
        f":text='SECTION %{{eif\\:floor(t/{SECTION_SECONDS})+1\\:d}}'"
        ":x=(w-text_w)/2:y=(h-text_h)/2,"
        + _frame_code_filters(width, height)
        + ",format=yuv420p[v]"
    )
    audio = (
        f"aevalsrc=exprs='0.3*sin(2*PI*(330+110*floor(t/{SECTION_SECONDS}))*t)'"
        f":sample_rate=48000:duration={duration},aformat=channel_layouts=stereo[a]"
    )
    run_ffmpeg(
        [
            "-y",
            "-filter_complex",
            f"{video};{audio}",
            "-map",
            "[v]",
            "-map",
            "[a]",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "20",
            "-g",
            str(2 * fps),
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-movflags",
            "+faststart",
            str(path),
        ]
    )
    return path


def _frame_code_filters(width: int, height: int) -> str:
    boxes = frame_code_boxes(width, height)
    x0, y, size, _ = boxes[0]
    strip = f"drawbox=x={x0 - 2}:y={y - 2}:w={size * len(boxes) + 4}:h={size + 4}"
    filters = [f"{strip}:color=black:t=fill"]
    filters += [
        f"drawbox=x={x}:y={by}:w={w}:h={h}:color=white:t=fill"
        f":enable='mod(floor(n/{1 << bit})\\,2)'"
        for bit, (x, by, w, h) in enumerate(boxes)
    ]
    return ",".join(filters)
