"""Real renders with the bundled ffmpeg, checked by real probing (PyAV), at 360x640."""

import itertools
import os
import subprocess
import time
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from productions.media import probe_media
from variants.choices import DURATION_BOUNDS, DurationCategory
from variants.rendering import renderer
from variants.rendering.commands import (
    DEFAULT_FONT,
    RenderSpec,
    Segment,
    escape_filter_path,
    escape_option_value,
    text_filters,
)
from variants.rendering.demo_media import read_frame_code
from variants.rendering.errors import FFmpegError
from variants.rendering.ffmpeg import ffmpeg_binary, run_ffmpeg
from variants.rendering.looks import Grading, cube_text, grading_lut
from variants.rendering.renderer import PieceCache, file_sha256, render_to_file
from variants.rendering.text_layout import safe_zone

from .conftest import TEST_HEIGHT, TEST_WIDTH

# Hook 0-3 s, body 8-12 s, CTA 16.5-19 s of the master: 9.5 s, a medium variant.
CUTS = [(0.0, 3.0), (8.0, 12.0), (16.5, 19.0)]


def _spec(master: Path, **overrides) -> RenderSpec:
    values = {
        "source": master,
        "segments": CUTS,
        "text_overlay": "Listen now: it's 100% new",
        "width": TEST_WIDTH,
        "height": TEST_HEIGHT,
        "source_duration": 20.0,
    }
    values.update(overrides)
    return RenderSpec(**values)


def _planned_source_frames(spec: RenderSpec) -> list[int]:
    frames = []
    for segment in spec.segments:
        first, last = round(segment.source_in * 30), round(segment.source_out * 30)
        frames.extend(range(first, last))
    return frames


def _frame_codes(path: Path) -> list[int]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        return [
            read_frame_code(frame.to_ndarray(format="gray"), width, height)
            for frame in container.decode(video=0)
        ]


@pytest.fixture(scope="module")
def rendered(synthetic_master, tmp_path_factory):
    """One medium variant rendered straight from the master (shared by several tests)."""
    out = tmp_path_factory.mktemp("rendered") / "variant.mp4"
    spec = _spec(synthetic_master)
    return spec, render_to_file(spec, out)


def test_a_rendered_variant_is_h264_high_yuv420p_30fps_with_aac_lc_48k_stereo(rendered):
    _, result = rendered

    media = probe_media(result.path)

    assert (media.video_codec, media.profile, media.pix_fmt) == (
        "h264",
        "High",
        "yuv420p",
    )
    assert media.fps == 30
    assert (media.width, media.height) == (TEST_WIDTH, TEST_HEIGHT)
    assert (media.audio_codec, media.audio_profile) == ("aac", "LC")
    assert (media.sample_rate, media.channels) == (48000, 2)


def test_a_rendered_variant_is_constant_frame_rate_with_a_closed_two_second_gop(
    rendered,
):
    _, result = rendered

    with av.open(str(result.path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.pts is not None]
        tick = Fraction(1, 30) / stream.time_base

    pts = sorted(p.pts for p in packets)
    assert {b - a for a, b in itertools.pairwise(pts)} == {tick}
    keyframes = sorted(p.pts // tick for p in packets if p.is_keyframe)
    assert keyframes == list(range(0, len(pts), 60))


def test_the_duration_is_the_plan_within_one_frame_and_in_its_category(rendered):
    spec, result = rendered

    low, high = DURATION_BOUNDS[DurationCategory.MEDIUM]
    assert abs(result.probed_duration - spec.duration) <= 1 / 30
    assert low <= result.probed_duration <= high
    with av.open(str(result.path)) as container:
        audio = container.streams.audio[0]
        audio_seconds = float(audio.duration * audio.time_base)
    assert abs(audio_seconds - spec.duration) < 1024 / 48000


def test_every_output_frame_is_the_planned_master_frame(rendered):
    # The master carries its frame number in a code strip: cuts on the frame grid must
    # land exactly, with no frame lost or repeated at the joins.
    spec, result = rendered

    assert _frame_codes(result.path) == _planned_source_frames(spec)


def _top_level_boxes(path: Path) -> list[str]:
    data, boxes, offset = path.read_bytes(), [], 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        boxes.append(data[offset + 4 : offset + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[offset + 8 : offset + 16], "big")
        if size < 8:
            break
        offset += size
    return boxes


def test_the_index_comes_first_so_playback_starts_before_the_download_ends(rendered):
    _, result = rendered

    boxes = _top_level_boxes(result.path)

    assert boxes.index("moov") < boxes.index("mdat")


def test_the_poster_is_a_jpeg_frame_of_the_variant(rendered):
    _, result = rendered

    assert result.poster_path.read_bytes()[:3] == b"\xff\xd8\xff"
    with av.open(str(result.poster_path)) as poster:
        frame = next(poster.decode(video=0))
    assert (frame.width, frame.height) == (TEST_WIDTH, TEST_HEIGHT)


def test_the_checksum_is_the_sha256_of_the_file(rendered):
    _, result = rendered

    assert result.checksum_sha256 == file_sha256(result.path)


def test_a_graded_render_from_pieces_keeps_every_frame_and_reuses_pieces(
    synthetic_master, film_cube, piece_cache, tmp_path
):
    # Given two variants with the same look and text cutting the same hook from its
    # start (2 s and 3 s) and different bodies and CTAs
    spans = [(0.0, 4.0), (8.0, 15.0), (16.0, 20.0)]
    short = _spec(
        synthetic_master,
        look=film_cube,
        segments=[Segment(0.0, 2.0, spans[0]), Segment(9.0, 11.0, spans[1])],
    )
    longer = _spec(
        synthetic_master,
        look=film_cube,
        segments=[Segment(0.0, 3.0, spans[0]), Segment(16.0, 19.5, spans[2])],
    )

    # When both are rendered from the piece cache
    first = render_to_file(short, tmp_path / "a.mp4", cache=piece_cache)
    second = render_to_file(longer, tmp_path / "b.mp4", cache=piece_cache)

    # Then the second encoded only the hook's third second and the CTA's four
    # pieces, reused the two seconds of hook, and every frame is the plan's
    assert (first.pieces_encoded, first.pieces_reused) == (4, 0)
    assert (second.pieces_encoded, second.pieces_reused) == (5, 2)
    assert _frame_codes(first.path) == _planned_source_frames(short)
    assert _frame_codes(second.path) == _planned_source_frames(longer)


def test_a_batch_is_encoded_in_one_pass_per_stretch_and_every_render_is_exact(
    synthetic_master, film_cube, piece_cache, tmp_path, monkeypatch
):
    # Given three variants of one master: two looks, two texts, overlapping bodies
    # (8-15 s and 9-16 s) and cuts of one hook ending in the same and other seconds
    spans = [(0.0, 4.0), (8.0, 15.0), (9.0, 16.0)]
    batch = [
        _spec(
            synthetic_master,
            look=film_cube,
            segments=[Segment(0.0, 2.5, spans[0]), Segment(8.0, 11.0, spans[1])],
        ),
        _spec(
            synthetic_master,
            segments=[Segment(0.0, 3.0, spans[0]), Segment(9.0, 12.5, spans[2])],
        ),
        _spec(
            synthetic_master,
            look=film_cube,
            text_overlay="Out Friday",
            segments=[Segment(0.0, 2.0, spans[0]), Segment(9.0, 10.0, spans[2])],
        ),
    ]
    passes = []
    real_run = renderer.run_ffmpeg

    def run_counting_passes(args, **kwargs):
        if "-force_key_frames" in args:
            passes.append(args)
        return real_run(args, **kwargs)

    monkeypatch.setattr(renderer, "run_ffmpeg", run_counting_passes)

    # When the first is rendered with the others as its batch, then the others
    results = [
        render_to_file(batch[0], tmp_path / "0.mp4", cache=piece_cache, batch=batch[1:])
    ]
    results += [
        render_to_file(spec, tmp_path / f"{n}.mp4", cache=piece_cache, batch=batch[n:])
        for n, spec in enumerate(batch[1:], start=1)
    ]

    # Then the first render encoded every piece of the batch, in two passes (the hook,
    # and the bodies as one stretch), and the later renders only joined pieces
    assert len(passes) == 2
    assert [r.pieces_encoded for r in results] == [piece_cache.misses, 0, 0]
    assert [r.pieces_reused for r in results] == [0, 7, 3]
    assert piece_cache.misses == len(list(piece_cache.root.glob("*.mp4")))
    # and every frame of every variant is the planned master frame
    for spec, result in zip(batch, results, strict=True):
        assert _frame_codes(result.path) == _planned_source_frames(spec)


def test_a_batch_encodes_each_frame_of_a_look_and_text_once(
    synthetic_master, piece_cache, tmp_path
):
    # Given two variants with the same look and text cutting one hook to 2.5 s and 4 s
    short = _spec(synthetic_master, segments=[Segment(0.0, 2.5, (0.0, 4.0))])
    longer = _spec(synthetic_master, segments=[Segment(0.0, 4.0, (0.0, 4.0))])

    # When they are rendered as one batch
    a = render_to_file(short, tmp_path / "a.mp4", cache=piece_cache, batch=[longer])
    b = render_to_file(longer, tmp_path / "b.mp4", cache=piece_cache)

    # Then the short cut's end is a boundary of the long cut's pieces: the 120 frames
    # are encoded once (not 135), and both variants are their planned frames
    frames = [int(p.stem.rsplit("-", 1)[1]) for p in piece_cache.root.glob("*.mp4")]
    assert sum(frames) == 120
    assert b.pieces_encoded == 0
    assert _frame_codes(a.path) == _planned_source_frames(short)
    assert _frame_codes(b.path) == _planned_source_frames(longer)


def test_a_render_from_pieces_is_the_same_delivery_format_as_a_direct_render(
    synthetic_master, piece_cache, tmp_path
):
    spec = _spec(synthetic_master)

    result = render_to_file(spec, tmp_path / "v.mp4", cache=piece_cache)

    media = probe_media(result.path)
    assert (media.video_codec, media.profile, media.pix_fmt) == (
        "h264",
        "High",
        "yuv420p",
    )
    assert (media.audio_codec, media.sample_rate, media.channels) == ("aac", 48000, 2)
    assert abs(result.probed_duration - spec.duration) <= 1 / 30
    assert _top_level_boxes(result.path).index("moov") < _top_level_boxes(
        result.path
    ).index("mdat")
    with av.open(str(result.path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.pts is not None]
        tick = Fraction(1, 30) / stream.time_base
        audio = container.streams.audio[0]
        audio_seconds = float(audio.duration * audio.time_base)
    pts = sorted(p.pts for p in packets)
    # Constant frame rate across the joins; a keyframe opens every piece, and no GOP
    # is longer than the two seconds Meta asks for.
    assert {b - a for a, b in itertools.pairwise(pts)} == {tick}
    keyframes = sorted(p.pts // tick for p in packets if p.is_keyframe)
    assert keyframes[0] == 0
    assert max(b - a for a, b in itertools.pairwise([*keyframes, len(pts)])) <= 60
    assert abs(audio_seconds - spec.duration) < 1024 / 48000
    assert result.poster_path.read_bytes()[:3] == b"\xff\xd8\xff"


def test_pieces_differ_by_look_and_text_and_nothing_else(
    synthetic_master, film_cube, piece_cache, tmp_path
):
    plain = _spec(synthetic_master, segments=[Segment(0.0, 1.0, (0.0, 4.0))])
    graded = _spec(
        synthetic_master, look=film_cube, segments=[Segment(0.0, 1.0, (0.0, 4.0))]
    )
    other_text = _spec(
        synthetic_master,
        text_overlay="Out Friday",
        segments=[Segment(0.0, 1.0, (0.0, 4.0))],
    )
    copied_master = tmp_path / "copy.mp4"
    copied_master.write_bytes(synthetic_master.read_bytes())
    same_bytes = _spec(copied_master, segments=[Segment(0.0, 1.0, (0.0, 4.0))])

    keys = [piece_cache.key(s, first=0, frames=30) for s in (plain, graded, other_text)]

    assert len(set(keys)) == 3
    assert piece_cache.key(same_bytes, first=0, frames=30) == keys[0]


def test_the_cached_and_the_direct_graded_renders_look_the_same(
    synthetic_master, film_cube, piece_cache, tmp_path
):
    spec = _spec(synthetic_master, look=film_cube, text_overlay="")
    direct = render_to_file(spec, tmp_path / "direct.mp4")
    cached = render_to_file(spec, tmp_path / "cached.mp4", cache=piece_cache)

    a, b = _middle_frame(direct.path), _middle_frame(cached.path)

    assert np.abs(a.astype(int) - b.astype(int)).mean() < 1.0


def _middle_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return frames[len(frames) // 2]


def test_a_look_changes_the_colours(synthetic_master, film_cube, tmp_path):
    natural = render_to_file(
        _spec(synthetic_master, text_overlay=""), tmp_path / "n.mp4"
    )
    graded = render_to_file(
        _spec(synthetic_master, text_overlay="", look=film_cube), tmp_path / "g.mp4"
    )

    a, b = _middle_frame(natural.path), _middle_frame(graded.path)
    # the film look is desaturated: less spread between channels
    spread = lambda img: np.std(img.astype(float), axis=2).mean()  # noqa: E731
    assert spread(b) < 0.8 * spread(a)


@pytest.fixture(scope="module")
def pastel_master(tmp_path_factory):
    """Colours well inside the RGB gamut, where a Y'CbCr grade and an RGB LUT agree."""
    path = tmp_path_factory.mktemp("pastel") / "pastel.mp4"
    source = (
        f"testsrc2=size={TEST_WIDTH}x{TEST_HEIGHT}:rate=30:duration=1,format=rgb24,"
        "lutrgb=r=val/2+64:g=val/2+64:b=val/2+64,format=yuv420p"
    )
    run_ffmpeg(
        ["-y", "-f", "lavfi", "-i", source, "-c:v", "libx264", "-crf", "8", str(path)]
    )
    return path


def test_a_grading_renders_on_the_video_planes_like_its_cube_through_lut3d(
    pastel_master, tmp_path
):
    # Given a grading look and the .cube built from it
    grading = Grading(contrast=1.2, saturation=0.6, warmth=0.5, gamma=1.1)
    cube = tmp_path / "grading.cube"
    cube.write_text(cube_text(grading_lut(grading)))
    common = {
        "segments": [(0.0, 1.0)],
        "source_duration": 1.0,
        "source_has_audio": False,
        "text_overlay": "",
    }

    # When one render applies the tables on Y'CbCr and the other the float lut3d
    natural = render_to_file(_spec(pastel_master, **common), tmp_path / "n.mp4")
    tables = render_to_file(
        _spec(pastel_master, look=grading, **common), tmp_path / "t.mp4"
    )
    lut3d = render_to_file(
        _spec(pastel_master, look=cube, **common), tmp_path / "l.mp4"
    )

    # Then the two agree to a level or two, far closer than either is to no grade
    a, b, n = (_middle_frame(r.path).astype(int) for r in (tables, lut3d, natural))
    assert np.abs(a - b).mean() < 2.5
    assert np.abs(n - b).mean() > 10


def test_four_by_five_crops_the_frame(synthetic_master, tmp_path):
    result = render_to_file(
        _spec(synthetic_master, aspect_ratio="4:5"), tmp_path / "portrait.mp4"
    )

    assert (result.media.width, result.media.height) == (360, 450)


@pytest.fixture(scope="module")
def black_master(tmp_path_factory):
    path = tmp_path_factory.mktemp("black") / "black.mp4"
    run_ffmpeg(
        [
            "-y",
            "-f",
            "lavfi",
            "-i",
            f"color=black:size={TEST_WIDTH}x{TEST_HEIGHT}:rate=30:duration=2",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ]
    )
    return path


def test_a_silent_master_gets_a_silent_stereo_track(black_master, tmp_path):
    spec = _spec(
        black_master,
        segments=[(0.0, 1.0), (1.0, 2.0)],
        source_duration=2.0,
        source_has_audio=False,
    )

    result = render_to_file(spec, tmp_path / "silent.mp4")

    assert (result.media.audio_codec, result.media.channels) == ("aac", 2)


@pytest.mark.parametrize(
    ("aspect", "height"), [("9:16", TEST_HEIGHT), ("1:1", TEST_WIDTH)]
)
def test_long_text_stays_inside_the_reels_safe_zone(
    black_master, tmp_path, aspect, height
):
    # Given a long caption over a black video
    text = "WWW Pre-save the brand new single today and share it with everyone " * 2
    spec = _spec(
        black_master,
        segments=[(0.0, 1.0)],
        source_duration=2.0,
        source_has_audio=False,
        text_overlay=text,
        aspect_ratio=aspect,
    )

    # When it is rendered
    result = render_to_file(spec, tmp_path / "text.mp4")

    # Then every lit pixel lies inside the safe zone (clear of top 14 %, bottom 35 %,
    # sides 6 %)
    with av.open(str(result.path)) as container:
        luma = next(container.decode(video=0)).to_ndarray(format="gray")
    ys, xs = np.nonzero(luma > 40)
    zone = safe_zone(TEST_WIDTH, height)
    assert len(xs) > 500
    assert zone.left <= xs.min() and xs.max() < zone.right
    assert zone.top <= ys.min() and ys.max() < zone.bottom


def _drawn(filter_text: str, tmp_path: Path) -> bytes:
    out = subprocess.run(
        [
            ffmpeg_binary(),
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "color=black:size=640x120:duration=0.04:rate=25",
            "-vf",
            filter_text,
            "-frames:v",
            "1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "gray",
            "-",
        ],
        capture_output=True,
        check=True,
    )
    return out.stdout


def test_text_full_of_ffmpeg_syntax_draws_exactly_like_the_same_text_from_a_file(
    tmp_path,
):
    # Given text with every character ffmpeg's parsers treat specially
    text = 'It\'s 50%: [a,b]; c\\d = "e" %{n}'
    textfile = tmp_path / "text.txt"
    textfile.write_text(text)
    common = f"fontfile={escape_filter_path(str(DEFAULT_FONT))}:fontsize=28"
    common += ":fontcolor=white:x=10:y=40:expansion=none"

    # When it is drawn once escaped inline and once read from a file
    inline = _drawn(f"drawtext={common}:text={escape_option_value(text)}", tmp_path)
    from_file = _drawn(
        f"drawtext={common}:textfile={escape_filter_path(str(textfile))}", tmp_path
    )

    # Then the pixels are identical (and something was drawn)
    assert inline == from_file
    assert max(inline) > 200


def test_the_overlay_filters_draw_the_layout_lines(tmp_path):
    filters, layout = text_filters(
        "Listen now", width=TEST_WIDTH, height=TEST_HEIGHT, font=DEFAULT_FONT
    )

    assert layout is not None and layout.lines == ("Listen now",)
    assert len(filters) == 1


def test_a_failed_render_leaves_no_file_behind(synthetic_master, tmp_path):
    # Given a look whose file vanished between planning and rendering
    spec = _spec(synthetic_master, look=tmp_path / "gone.cube")
    out_dir = tmp_path / "out"

    # When it is rendered
    with pytest.raises(FFmpegError) as caught:
        render_to_file(spec, out_dir / "v.mp4")

    # Then the error carries ffmpeg's own words and nothing is left in the folder
    assert "gone.cube" in str(caught.value)
    assert list(out_dir.iterdir()) == []


def test_a_corrupt_master_fails_the_render_cleanly(tmp_path):
    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(np.random.default_rng(7).bytes(200_000))
    spec = _spec(corrupt)

    with pytest.raises(FFmpegError, match="ffmpeg failed"):
        render_to_file(spec, tmp_path / "out" / "v.mp4")

    assert list((tmp_path / "out").iterdir()) == []


def test_the_cache_evicts_the_least_recently_used_pieces_beyond_its_bound(tmp_path):
    # Given four 1 KB pieces, three of them idle for an hour, one in use right now
    cache = PieceCache(tmp_path, max_bytes=2048, min_age_seconds=600)
    now = time.time()
    for name, age in (("a", 3600), ("b", 3500), ("c", 3400), ("busy", 0)):
        entry = tmp_path / f"{name}.mp4"
        entry.write_bytes(b"x" * 1024)
        os.utime(entry, (now - age, now - age))
    # ...and "a", the oldest, just used again
    assert cache.lookup("a") is not None

    # When the cache trims itself
    cache.evict()

    # Then the least recently used idle pieces went until it fits
    assert sorted(p.stem for p in tmp_path.glob("*.mp4")) == ["a", "busy"]
    assert cache.bytes_used() == 2048
