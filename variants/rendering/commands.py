"""Pure ffmpeg command building: plain data in, an argv out; no I/O, no database.

One ffmpeg process per variant, one input per cut (`-ss/-t` before `-i`, so ffmpeg seeks
instead of decoding from the start), the concat filter, the look, the text, the encode.
Two rules measured on this machine shape everything here:

- cut times sit on the output frame grid (whole frames at 30 fps) and every cut is
  trimmed/padded to exactly its frame count and its 1600 audio samples per frame, so
  audio and video cannot drift apart across cuts;
- a .cube look is applied as `format=gbrpf32le,lut3d` (the float path has SIMD; 8-bit
  RGB lut3d is 2-3x slower); a grading look is three 1D tables on yuv420p (`lut`), no
  RGB round trip at all (~15x cheaper than the float lut3d).

A cut can instead be encoded once as closed-GOP H.264 pieces (`build_pieces_pass_command`:
a stretch of the master decoded once, graded once per look, drawn once per text) and
variants joined from pieces without re-encoding the video (`build_piece_assembly_command`),
which is how a batch avoids decoding, grading and encoding the same frames for every
variant that uses them.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from variants.rendering.errors import FragmentOutsideVideoError, RenderError
from variants.rendering.looks import Grading, Look
from variants.rendering.text_layout import TextLayout, font_metrics, layout_text

ASSETS_DIR = Path(__file__).resolve().parent.parent / "assets"
DEFAULT_FONT = ASSETS_DIR / "fonts" / "DejaVuSans-Bold.ttf"

SAMPLE_RATE = 48000
GRID_TOLERANCE_FRAMES = 0.03  # ~1 ms at 30 fps: float noise, not a different frame
ASPECT_RATIOS = ("9:16", "4:5", "1:1")
LUT_PIXEL_FORMAT = "gbrpf32le"
POSTER_SECONDS = 1.0


class RenderSpecError(RenderError):
    """The render plan itself is wrong (off the frame grid, empty, inverted cut)."""


@dataclass(frozen=True)
class Segment:
    """One cut of the master, in seconds on the frame grid.

    `span` is the approved fragment the cut lies in; a cached grade covers the whole
    span so variants that trim the same fragment differently share it.
    """

    source_in: float
    source_out: float
    span: tuple[float, float] | None = None


@dataclass(frozen=True)
class RenderSpec:
    source: Path
    segments: tuple[Segment, ...]
    look: Look | None = None
    text_overlay: str = ""
    width: int = 1080
    height: int = 1920
    aspect_ratio: str = "9:16"
    fps: int = 30
    font: Path = DEFAULT_FONT
    source_duration: float | None = None
    source_has_audio: bool = True
    preset: str = "veryfast"
    crf: int = 21
    audio_bitrate: str = "128k"
    gop_seconds: int = 2

    def __post_init__(self) -> None:
        segments = tuple(
            s if isinstance(s, Segment) else Segment(float(s[0]), float(s[1]))
            for s in self.segments
        )
        object.__setattr__(self, "segments", segments)
        object.__setattr__(self, "source", Path(self.source))
        if isinstance(self.look, str):
            object.__setattr__(self, "look", Path(self.look))
        validate_spec(self)

    @property
    def output_size(self) -> tuple[int, int]:
        return output_size(self.width, self.height, self.aspect_ratio)

    @property
    def total_frames(self) -> int:
        return sum(segment_frames(s, self.fps)[1] for s in self.segments)

    @property
    def duration(self) -> float:
        return self.total_frames / self.fps


def output_size(width: int, height: int, aspect_ratio: str) -> tuple[int, int]:
    """9:16 is width x height; 4:5 and 1:1 crop the height from the same width."""
    if aspect_ratio == "9:16":
        return _even(width), _even(height)
    if aspect_ratio == "4:5":
        return _even(width), _even(width * 5 / 4)
    if aspect_ratio == "1:1":
        return _even(width), _even(width)
    raise RenderSpecError(
        f"Aspect ratio {aspect_ratio!r} is not one of {', '.join(ASPECT_RATIOS)}."
    )


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def to_frame(seconds: float, fps: int, *, what: str = "time") -> int:
    """The whole frame at `seconds`; refused when the time is off the frame grid."""
    exact = seconds * fps
    frame = round(exact)
    if not math.isfinite(exact) or abs(exact - frame) > GRID_TOLERANCE_FRAMES:
        raise RenderSpecError(
            f"The {what} {seconds!r}s is not on the 1/{fps} s frame grid "
            f"(frame {exact:.4f}); cut times must be whole frames."
        )
    return frame


def segment_frames(segment: Segment, fps: int) -> tuple[int, int]:
    """(first frame, frame count) of a segment."""
    first = to_frame(segment.source_in, fps, what="cut start")
    last = to_frame(segment.source_out, fps, what="cut end")
    return first, last - first


def format_time(frame: int, fps: int) -> str:
    """frame/fps in seconds, rounded *down* to the microsecond ffmpeg parses.

    Rounding down keeps the wanted frame inside the cut: ffmpeg drops frames before the
    -ss time, so a start rounded up by a microsecond would lose the first frame.
    """
    micros = frame * 1_000_000 // fps
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def validate_spec(spec: RenderSpec) -> None:
    if spec.fps <= 0 or SAMPLE_RATE % spec.fps:
        raise RenderSpecError(f"fps {spec.fps} must divide {SAMPLE_RATE}.")
    output_size(spec.width, spec.height, spec.aspect_ratio)
    if not spec.segments:
        raise RenderSpecError("A render needs at least one cut.")
    for index, segment in enumerate(spec.segments, start=1):
        first, count = segment_frames(segment, spec.fps)
        if first < 0:
            raise RenderSpecError(f"Cut {index} starts before the video.")
        if count <= 0:
            raise RenderSpecError(f"Cut {index} must end after it starts.")
        if spec.source_duration is not None:
            source_frames = math.floor(spec.source_duration * spec.fps + 1e-6)
            if first + count > source_frames:
                raise FragmentOutsideVideoError(
                    f"Cut {index} ({segment.source_in:.3f}-{segment.source_out:.3f}s) "
                    f"reaches outside the master, which is {spec.source_duration:.3f}s "
                    "long."
                )
        if segment.span is not None:
            span_first = to_frame(segment.span[0], spec.fps, what="fragment start")
            span_last = to_frame(segment.span[1], spec.fps, what="fragment end")
            if not span_first <= first < first + count <= span_last:
                raise RenderSpecError(
                    f"Cut {index} is not inside its fragment {segment.span}."
                )


# --- Escaping --------------------------------------------------------------------------


def escape_option_value(value: str) -> str:
    """Escape a value for a filter option *and* for the filtergraph around it.

    ffmpeg unescapes twice: the graph parser splits filters at `[],;` and removes one
    level of quoting, then the filter's option parser splits at `:` and removes another.
    Backslash-escaping each level (no quotes) is the form that survives both.
    """
    level1 = "".join("\\" + ch if ch in "\\':" else ch for ch in value)
    return "".join("\\" + ch if ch in "\\'[],;" else ch for ch in level1)


def escape_filter_path(path: str) -> str:
    return escape_option_value(str(path).replace("\\", "/"))


# --- Filters ---------------------------------------------------------------------------


def look_filters(look: Look | None) -> list[str]:
    if look is None:
        return []
    if isinstance(look, Grading):
        tables = look.yuv_expressions()
        return [
            "format=yuv420p",
            "lut="
            + ":".join(
                f"{plane}={escape_option_value(e)}" for plane, e in tables.items()
            ),
        ]
    return [
        f"format={LUT_PIXEL_FORMAT}",
        f"lut3d=file={escape_filter_path(str(look))}:interp=tetrahedral",
        "format=yuv420p",
    ]


def frame_filters(width: int, height: int, fps: int) -> list[str]:
    """Onto the output grid and size: CFR, cover-scale, centre crop, square pixels."""
    return [
        "setpts=PTS-STARTPTS",
        f"fps={fps}",
        f"scale={width}:{height}:force_original_aspect_ratio=increase",
        f"crop={width}:{height}",
        "setsar=1",
    ]


def exact_video(frames: int) -> list[str]:
    """Exactly `frames` frames: clone the last if the source runs short, then cut."""
    return ["tpad=stop=-1:stop_mode=clone", f"trim=end_frame={frames}"]


def exact_audio(frames: int, fps: int) -> list[str]:
    samples = frames * SAMPLE_RATE // fps
    return [
        "asetpts=PTS-STARTPTS",
        f"aresample={SAMPLE_RATE}",
        "aformat=sample_fmts=fltp:channel_layouts=stereo",
        f"apad=whole_len={samples}",
        f"atrim=end_sample={samples}",
    ]


def silence(frames: int, fps: int) -> str:
    samples = frames * SAMPLE_RATE // fps
    return (
        f"anullsrc=r={SAMPLE_RATE}:cl=stereo,"
        f"atrim=end_sample={samples},aformat=sample_fmts=fltp"
    )


def text_filters(
    text: str, *, width: int, height: int, font: Path
) -> tuple[list[str], TextLayout | None]:
    """drawtext filters, one per line, inside the safe zone, with an explicit font."""
    metrics = font_metrics(Path(font))
    missing = metrics.missing(text)
    cleaned = "".join(ch for ch in text if ch not in missing)
    layout = layout_text(cleaned, width=width, height=height, metrics=metrics)
    if layout is None:
        return [], None
    fontfile = escape_filter_path(str(font))
    filters = [
        (
            f"drawtext=fontfile={fontfile}:expansion=none"
            f":text={escape_option_value(line)}"
            f":fontsize={layout.font_size}:fontcolor=white"
            f":box=1:boxcolor=black@0.55:boxborderw={layout.box_border}"
            f":x=(w-text_w)/2:y={layout.line_y(i)}"
        )
        for i, line in enumerate(layout.lines)
    ]
    return filters, layout


# --- Commands --------------------------------------------------------------------------


@dataclass(frozen=True)
class Cut:
    """One ffmpeg input: `frames` frames from frame `start` of `path`.

    `prepared` inputs are already on the output grid and size (a cached span); the
    others are the master and go through the frame filters first. `look` is what is
    still to apply in this command (None when a cached span is already graded).
    """

    path: Path
    start: int
    frames: int
    prepared: bool = False
    has_audio: bool = True
    look: Look | None = None


def cuts_from_master(spec: RenderSpec) -> list[Cut]:
    cuts = []
    for segment in spec.segments:
        first, count = segment_frames(segment, spec.fps)
        cuts.append(
            Cut(
                path=spec.source,
                start=first,
                frames=count,
                has_audio=spec.source_has_audio,
                look=spec.look,
            )
        )
    return cuts


def _input_args(cut: Cut, fps: int) -> list[str]:
    return [
        "-ss",
        format_time(cut.start, fps),
        "-t",
        format_time(cut.frames, fps),
        "-i",
        str(cut.path),
    ]


def encode_args(spec: RenderSpec) -> list[str]:
    """H.264 High yuv420p CFR, closed GOP, AAC-LC 48 kHz stereo, +faststart."""
    gop = spec.fps * spec.gop_seconds
    return [
        "-c:v",
        "libx264",
        "-preset",
        spec.preset,
        "-crf",
        str(spec.crf),
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
        "-g",
        str(gop),
        "-keyint_min",
        str(gop),
        "-sc_threshold",
        "0",
        "-flags",
        "+cgop",
        "-r",
        str(spec.fps),
        "-fps_mode",
        "cfr",
        "-c:a",
        "aac",
        "-profile:a",
        "aac_low",
        "-b:a",
        spec.audio_bitrate,
        "-ar",
        str(SAMPLE_RATE),
        "-ac",
        "2",
        "-movflags",
        "+faststart",
        "-map_metadata",
        "-1",
        "-map_chapters",
        "-1",
    ]


def poster_frame(total_frames: int, fps: int) -> int:
    return min(total_frames - 1, round(POSTER_SECONDS * fps))


def build_assemble_command(
    cuts: Sequence[Cut],
    *,
    spec: RenderSpec,
    out_path: Path,
    poster_path: Path | None = None,
) -> list[str]:
    """The argv (without the binary) that concatenates `cuts`, adds text and encodes."""
    width, height = spec.output_size
    args: list[str] = ["-y"]
    chains: list[str] = []
    labels: list[str] = []
    for i, cut in enumerate(cuts):
        args += _input_args(cut, spec.fps)
        video = [] if cut.prepared else frame_filters(width, height, spec.fps)
        video += look_filters(cut.look)
        video += ["setpts=PTS-STARTPTS", *exact_video(cut.frames)]
        chains.append(f"[{i}:v]{','.join(video)}[v{i}]")
        if cut.has_audio:
            chains.append(f"[{i}:a]{','.join(exact_audio(cut.frames, spec.fps))}[a{i}]")
        else:
            chains.append(f"{silence(cut.frames, spec.fps)}[a{i}]")
        labels.append(f"[v{i}][a{i}]")
    chains.append(f"{''.join(labels)}concat=n={len(cuts)}:v=1:a=1[vc][ac]")
    texts, _ = text_filters(
        spec.text_overlay, width=width, height=height, font=spec.font
    )
    finish = [*texts, "format=yuv420p"]
    total = sum(c.frames for c in cuts)
    if poster_path is not None:
        p = poster_frame(total, spec.fps)
        chains.append(f"[vc]{','.join(finish)},split=2[vout][vp]")
        chains.append(
            f"[vp]trim=start_frame={p}:end_frame={p + 1},setpts=PTS-STARTPTS,"
            "scale=out_range=full,format=yuvj420p[poster]"
        )
    else:
        chains.append(f"[vc]{','.join(finish)}[vout]")
    args += ["-filter_complex", ";".join(chains)]
    args += ["-map", "[vout]", "-map", "[ac]", *encode_args(spec), "-f", "mp4"]
    args.append(str(out_path))
    if poster_path is not None:
        args += ["-map", "[poster]", *_poster_output_args(poster_path)]
    return args


def build_render_command(
    spec: RenderSpec, out_path: Path, *, poster_path: Path | None = None
) -> list[str]:
    """The one-process render of a spec straight from the master (argv w/o binary)."""
    return build_assemble_command(
        cuts_from_master(spec), spec=spec, out_path=out_path, poster_path=poster_path
    )


# --- Pieces ----------------------------------------------------------------------------
# A cut is a run of pieces: whole seconds from the start of its fragment, then the rest.
# Cuts of one fragment all start where the fragment starts (the planner keeps the
# approved opening frame), so a 4 s and a 3 s hook share their first three pieces.
PIECE_FRAMES_PER_SECOND = 1


@dataclass(frozen=True)
class PieceRun:
    """One cut as pieces: `boundaries` are frames of the master, first to last."""

    boundaries: tuple[int, ...]

    @property
    def pieces(self) -> list[tuple[int, int]]:
        """(first frame, frame count) of each piece."""
        return [(a, b - a) for a, b in itertools.pairwise(self.boundaries)]


def piece_run(first: int, count: int, *, anchor: int, fps: int) -> PieceRun:
    """The pieces of the cut [first, first + count): boundaries every second from
    `anchor` (the fragment's first frame), clipped to the cut."""
    step = fps // PIECE_FRAMES_PER_SECOND
    end = first + count
    offset = (first - anchor) % step
    inner = range(first + (step - offset if offset else step), end, step)
    return PieceRun(boundaries=(first, *inner, end))


def video_encode_args(spec: RenderSpec, *, keyframes: Sequence[int]) -> list[str]:
    """The video half of `encode_args`, with a keyframe exactly at each of the
    `keyframes` (frame numbers of this encode) and nowhere else."""
    args = encode_args(spec)
    video = args[: args.index("-c:a")]
    # Pieces are at most a second long: a keyframe opens each, none other is wanted.
    gop = str(spec.fps * spec.gop_seconds)
    video[video.index("-g") + 1] = gop
    video[video.index("-keyint_min") + 1] = gop
    expression = "+".join(f"eq(n,{k})" for k in keyframes)
    return [*video, "-force_key_frames", f"expr:{expression}"]


@dataclass(frozen=True)
class PieceOutput:
    """One encoder of a pass: master frames [boundaries[0], boundaries[-1]) as
    closed-GOP pieces split at `boundaries`, written to `out_pattern` (one `%d`)."""

    boundaries: tuple[int, ...]
    out_pattern: Path


@dataclass(frozen=True)
class TextBranch:
    """The pieces of a pass that show `text` (over one look)."""

    text: str
    outputs: tuple[PieceOutput, ...]


@dataclass(frozen=True)
class LookBranch:
    """The pieces of a pass graded with `look`, by the text they show."""

    look: Look | None
    texts: tuple[TextBranch, ...]


def build_pieces_pass_command(
    *, spec: RenderSpec, start: int, frames: int, looks: Sequence[LookBranch]
) -> list[str]:
    """Encode pieces of master frames [start, start + frames) in one ffmpeg process:
    the stretch is decoded and put on the output grid once; each look grades only
    the frames its pieces cover, once, and each text draws only its pieces' frames,
    once; each `PieceOutput` is a trim of that and its own encoder (video only; the
    sound is cut per variant). `spec` gives the source, the output grid, the font
    and the encoder settings."""
    width, height = spec.output_size
    base = [*frame_filters(width, height, spec.fps), *exact_video(frames)]
    chains = [f"[0:v]{','.join(base)},split={len(looks)}" + _labels("g", len(looks))]
    outputs: list[PieceOutput] = []
    for g, branch in enumerate(looks):
        look_from, look_to = _covered(o for t in branch.texts for o in t.outputs)
        graded = [
            _trim(look_from - start, look_to - start),
            *look_filters(branch.look),
            f"split={len(branch.texts)}",
        ]
        chains.append(
            f"[g{g}]{','.join(graded)}" + _labels(f"g{g}t", len(branch.texts))
        )
        for t, text in enumerate(branch.texts):
            text_from, text_to = _covered(text.outputs)
            texts, _ = text_filters(
                text.text, width=width, height=height, font=spec.font
            )
            drawn = [
                _trim(text_from - look_from, text_to - look_from),
                *texts,
                "format=yuv420p",
                f"split={len(text.outputs)}",
            ]
            chains.append(
                f"[g{g}t{t}]{','.join(drawn)}"
                + _labels(f"g{g}t{t}o", len(text.outputs))
            )
            for o, output in enumerate(text.outputs):
                first, end = output.boundaries[0], output.boundaries[-1]
                trim = _trim(first - text_from, end - text_from)
                chains.append(f"[g{g}t{t}o{o}]{trim}[p{len(outputs)}]")
                outputs.append(output)
    args = ["-y", "-an", *_input_args(Cut(spec.source, start, frames), spec.fps)]
    args += ["-filter_complex", ";".join(chains)]
    for index, output in enumerate(outputs):
        args += ["-map", f"[p{index}]", *_piece_encode_args(spec, output)]
    return args


def _covered(outputs: Iterable[PieceOutput]) -> tuple[int, int]:
    """The master frames from the first output's start to the last one's end."""
    ranges = [(o.boundaries[0], o.boundaries[-1]) for o in outputs]
    return min(a for a, _ in ranges), max(b for _, b in ranges)


def _trim(first: int, end: int) -> str:
    """Frames [first, end) of the branch, timed from zero."""
    return f"trim=start_frame={first}:end_frame={end},setpts=PTS-STARTPTS"


def _labels(prefix: str, count: int) -> str:
    return "".join(f"[{prefix}{i}]" for i in range(count))


def _piece_encode_args(spec: RenderSpec, output: PieceOutput) -> list[str]:
    splits = [b - output.boundaries[0] for b in output.boundaries[1:-1]]
    args = [*video_encode_args(spec, keyframes=[0, *splits]), "-an"]
    if not splits:
        return [*args, "-f", "mp4", str(output.out_pattern).replace("%d", "0")]
    return [
        *args,
        "-f",
        "segment",
        "-segment_format",
        "mp4",
        "-segment_frames",
        ",".join(str(f) for f in splits),
        "-reset_timestamps",
        "1",
        str(output.out_pattern),
    ]


@dataclass(frozen=True)
class AudioCut:
    """The master's sound for one cut (or silence when it has none)."""

    start: int
    frames: int


def build_piece_assembly_command(
    *,
    spec: RenderSpec,
    concat_list: Path,
    audio_cuts: Sequence[AudioCut],
    out_path: Path,
) -> list[str]:
    """Join the pieces in `concat_list` without re-encoding the video; cut and encode
    the sound per variant (exact samples per cut, as in the one-process render)."""
    args = ["-y", "-f", "concat", "-safe", "0", "-i", str(concat_list)]
    chains, labels = [], []
    for i, cut in enumerate(audio_cuts, start=1):
        if spec.source_has_audio:
            args += [
                "-vn",
                *_input_args(Cut(spec.source, cut.start, cut.frames), spec.fps),
            ]
            chains.append(f"[{i}:a]{','.join(exact_audio(cut.frames, spec.fps))}[a{i}]")
        else:
            chains.append(f"{silence(cut.frames, spec.fps)}[a{i}]")
        labels.append(f"[a{i}]")
    chains.append(f"{''.join(labels)}concat=n={len(labels)}:v=0:a=1[ac]")
    # The sound's and the container's half of `encode_args`: AAC, faststart, no tags.
    audio_and_container = encode_args(spec)
    audio_and_container = audio_and_container[audio_and_container.index("-c:a") :]
    return [
        *args,
        "-filter_complex",
        ";".join(chains),
        "-map",
        "0:v:0",
        "-map",
        "[ac]",
        "-c:v",
        "copy",
        *audio_and_container,
        "-f",
        "mp4",
        str(out_path),
    ]


def build_poster_command(
    *, spec: RenderSpec, video: Path, poster_path: Path
) -> list[str]:
    """The poster frame (POSTER_SECONDS in) of `spec` rendered to `video`, as a
    full-range JPEG."""
    frame = poster_frame(spec.total_frames, spec.fps)
    return [
        "-y",
        "-ss",
        format_time(frame, spec.fps),
        "-i",
        str(video),
        "-vf",
        "scale=out_range=full,format=yuvj420p",
        *_poster_output_args(poster_path),
    ]


def _poster_output_args(poster_path: Path) -> list[str]:
    """One frame as a JPEG file (the poster), whatever feeds it."""
    return [
        "-frames:v",
        "1",
        "-c:v",
        "mjpeg",
        "-q:v",
        "3",
        "-f",
        "image2",
        "-update",
        "1",
        str(poster_path),
    ]
