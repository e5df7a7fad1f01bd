"""The pure command builder: deterministic argv, the frame grid, sizes, escaping, text."""

from pathlib import Path

import pytest

from variants.rendering.commands import (
    DEFAULT_FONT,
    AudioCut,
    LookBranch,
    PieceOutput,
    RenderSpec,
    RenderSpecError,
    Segment,
    TextBranch,
    build_piece_assembly_command,
    build_pieces_pass_command,
    build_render_command,
    escape_option_value,
    format_time,
    output_size,
    piece_run,
    to_frame,
)
from variants.rendering.errors import FragmentOutsideVideoError
from variants.rendering.looks import Grading
from variants.rendering.text_layout import font_metrics, layout_text, safe_zone

MASTER = Path("/media/masters/master.mp4")


def _spec(**overrides):
    values = {
        "source": MASTER,
        "segments": [(0.0, 3.0), (8.0, 12.0), (16.5, 19.0)],
        "text_overlay": "Listen now",
        "width": 360,
        "height": 640,
        "source_duration": 20.0,
    }
    values.update(overrides)
    return RenderSpec(**values)


def _filter_graph(argv):
    return argv[argv.index("-filter_complex") + 1]


def test_the_same_spec_builds_the_same_command_every_time():
    # Given two equal specs
    first, second = _spec(), _spec()

    # When both are built
    a = build_render_command(first, Path("/out/v.mp4"), poster_path=Path("/out/v.jpg"))
    b = build_render_command(second, Path("/out/v.mp4"), poster_path=Path("/out/v.jpg"))

    # Then the argv is identical, byte for byte
    assert a == b


def test_each_cut_is_one_seeking_input_before_its_i():
    argv = build_render_command(_spec(), Path("/out/v.mp4"))

    inputs = [i for i, arg in enumerate(argv) if arg == "-i"]
    assert len(inputs) == 3
    for i in inputs:
        assert argv[i - 4] == "-ss" and argv[i - 2] == "-t"
        assert argv[i + 1] == str(MASTER)
    assert "concat=n=3:v=1:a=1" in _filter_graph(argv)


def test_cut_times_are_written_on_the_frame_grid_rounded_down_to_the_microsecond():
    # 100/30 s is 3.3333333…: rounding up would make ffmpeg drop frame 100
    assert format_time(100, 30) == "3.333333"
    assert format_time(2, 30) == "0.066666"
    assert format_time(90, 30) == "3.000000"
    argv = build_render_command(
        _spec(segments=[(100 / 30, 200 / 30)]), Path("/out/v.mp4")
    )
    assert argv[argv.index("-ss") + 1] == "3.333333"
    assert argv[argv.index("-t") + 1] == "3.333333"


def test_every_cut_is_forced_to_its_exact_frame_and_sample_count():
    argv = build_render_command(_spec(), Path("/out/v.mp4"))
    graph = _filter_graph(argv)

    # 3 s, 4 s, 2.5 s at 30 fps and 1600 samples per frame
    for frames in (90, 120, 75):
        assert f"trim=end_frame={frames}[" in graph
        assert (
            f"apad=whole_len={frames * 1600},atrim=end_sample={frames * 1600}" in graph
        )


def test_a_time_off_the_frame_grid_is_refused():
    with pytest.raises(RenderSpecError, match="frame grid"):
        _spec(segments=[(0.0, 3.01)])


def test_float_noise_around_a_frame_is_accepted_as_that_frame():
    assert to_frame(0.1 + 0.2, 30) == 9
    assert to_frame(3.3333333333, 30) == 100


def test_a_cut_outside_the_video_is_refused():
    with pytest.raises(FragmentOutsideVideoError, match="outside the master"):
        _spec(segments=[(18.0, 21.0)], source_duration=20.0)


@pytest.mark.parametrize(
    "segments",
    [[], [(3.0, 3.0)], [(5.0, 4.0)], [(-1.0, 2.0)]],
    ids=["no cuts", "empty cut", "inverted cut", "before the start"],
)
def test_an_impossible_cut_list_is_refused(segments):
    with pytest.raises(RenderSpecError):
        _spec(segments=segments)


def test_a_cut_must_lie_inside_its_fragment_span():
    with pytest.raises(RenderSpecError, match="inside its fragment"):
        _spec(segments=[Segment(2.0, 5.0, span=(0.0, 4.0))])


@pytest.mark.parametrize(
    ("aspect", "size"),
    [("9:16", (1080, 1920)), ("4:5", (1080, 1350)), ("1:1", (1080, 1080))],
)
def test_aspect_ratios_crop_the_height_from_the_same_width(aspect, size):
    assert output_size(1080, 1920, aspect) == size


def test_an_unknown_aspect_ratio_is_refused():
    with pytest.raises(RenderSpecError, match="Aspect ratio"):
        _spec(aspect_ratio="16:9")


def test_the_look_is_applied_in_planar_float_rgb_and_natural_has_no_lut():
    graded = _filter_graph(
        build_render_command(_spec(look=Path("/l/a.cube")), Path("o"))
    )
    natural = _filter_graph(build_render_command(_spec(), Path("o")))

    assert "format=gbrpf32le,lut3d=file=/l/a.cube:interp=tetrahedral" in graded
    assert "lut3d" not in natural


def test_a_grading_look_is_three_tables_on_yuv420p_without_rgb():
    graph = _filter_graph(
        build_render_command(_spec(look=Grading(saturation=1.3)), Path("o"))
    )

    assert "format=yuv420p,lut=y=" in graph
    assert "gbrpf32le" not in graph and "lut3d" not in graph


def test_the_encode_is_h264_high_cfr_closed_gop_aac_48k_stereo_faststart():
    argv = build_render_command(_spec(), Path("/out/v.mp4"))
    joined = " ".join(argv)

    for expected in (
        "-c:v libx264",
        "-profile:v high",
        "-pix_fmt yuv420p",
        "-g 60 -keyint_min 60",
        "-flags +cgop",
        "-r 30 -fps_mode cfr",
        "-c:a aac -profile:a aac_low",
        "-ar 48000 -ac 2",
        "-movflags +faststart",
    ):
        assert expected in joined


def test_a_master_without_audio_gets_exact_silence():
    graph = _filter_graph(
        build_render_command(_spec(source_has_audio=False), Path("o"))
    )

    assert "[0:a]" not in graph
    assert graph.count("anullsrc=r=48000:cl=stereo") == 3


def test_drawtext_always_names_the_shipped_font_file():
    graph = _filter_graph(build_render_command(_spec(), Path("o")))

    assert f"fontfile={DEFAULT_FONT}" in graph
    assert DEFAULT_FONT.is_file()
    assert "expansion=none" in graph


def _av_get_token(text: str, terminators: str) -> tuple[str, str]:
    """libavutil's av_get_token: a token up to a terminator, quotes/escapes removed."""
    out: list[str] = []
    i, keep = 0, 0
    while i < len(text) and text[i] in " \n\t\r":
        i += 1
    while i < len(text) and text[i] not in terminators:
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
            keep = len(out)
        elif ch == "'":
            end = text.find("'", i + 1)
            end = len(text) if end < 0 else end
            out.extend(text[i + 1 : end])
            i = end + 1
            keep = len(out)
        else:
            out.append(ch)
            i += 1
    while len(out) > keep and out[-1] in " \n\t\r":
        out.pop()
    return "".join(out), text[i:]


@pytest.mark.parametrize(
    "text",
    [
        "it's 100% real",
        'say "hi": now',
        "[a,b]; c=d",
        "back\\slash \\' mix",
        "déjà vu — ünïcode",
        "'''",
        "ends with a backslash\\",
    ],
)
def test_escaped_text_survives_the_graph_and_option_parsers_unchanged(text):
    # Given a drawtext option carrying the escaped text, followed by another filter
    graph = f"drawtext=text={escape_option_value(text)}:fontsize=20,null"

    # When ffmpeg's graph parser takes the filter's arguments (up to , ; [ ])
    args, rest = _av_get_token(graph.split("=", 1)[1], "[],;")
    # and the option parser takes the value of text= (up to :)
    value, _ = _av_get_token(args.split("=", 1)[1], ":")

    # Then drawtext receives exactly the original text, and the graph goes on
    assert value == text
    assert rest == ",null"


def test_a_cut_is_pieces_of_a_second_from_the_start_of_its_fragment():
    # A 3.5 s cut from the fragment's start, and a 2 s cut 0.5 s into it
    assert piece_run(240, 105, anchor=240, fps=30).pieces == [
        (240, 30),
        (270, 30),
        (300, 30),
        (330, 15),
    ]
    assert piece_run(255, 60, anchor=240, fps=30).pieces == [
        (255, 15),
        (270, 30),
        (300, 15),
    ]


def test_a_pass_decodes_a_stretch_once_and_grades_each_look_once():
    # Given a stretch of 8-11.5 s wanted in two looks, one of them with two texts,
    # and a 3.5 s run plus a 0.5 s tail (a shorter cut's last piece) of the first
    spec = RenderSpec(source=MASTER, segments=[(8.0, 11.5)])
    cube = Path("/l/a.cube")
    looks = [
        LookBranch(
            cube,
            (
                TextBranch(
                    "Out now",
                    (
                        PieceOutput((240, 270, 300, 330, 345), Path("/c/a-%d.mp4")),
                        PieceOutput((300, 315), Path("/c/b-%d.mp4")),
                    ),
                ),
                TextBranch("", (PieceOutput((240, 270), Path("/c/c-%d.mp4")),)),
            ),
        ),
        LookBranch(
            None, (TextBranch("", (PieceOutput((240, 345), Path("/c/d-%d.mp4")),)),)
        ),
    ]

    argv = build_pieces_pass_command(spec=spec, start=240, frames=105, looks=looks)

    # Then the master is read once, the cube applied once, each output trimmed from it
    graph = argv[argv.index("-filter_complex") + 1]
    assert argv.count("-i") == 1
    assert (argv[argv.index("-ss") + 1], argv[argv.index("-t") + 1]) == (
        "8.000000",
        "3.500000",
    )
    assert graph.count("lut3d") == 1
    assert graph.count("drawtext") == 1
    assert "trim=end_frame=105,split=2[g0][g1]" in graph
    assert "trim=start_frame=60:end_frame=75" in graph
    assert argv.count("-map") == 4 and argv.count("libx264") == 4
    # and each encoder opens every piece with a keyframe and splits at them
    keyframes = argv[argv.index("-force_key_frames") + 1]
    assert keyframes == "expr:eq(n,0)+eq(n,30)+eq(n,60)+eq(n,90)"
    assert argv[argv.index("-segment_frames") + 1] == "30,60,90"
    assert "-c:a" not in argv
    assert argv[-1] == "/c/d-0.mp4"


def test_the_assembly_copies_the_video_and_encodes_the_sound_per_cut():
    spec = RenderSpec(source=MASTER, segments=[(0.0, 2.0), (8.0, 9.0)])

    argv = build_piece_assembly_command(
        spec=spec,
        concat_list=Path("/w/pieces.txt"),
        audio_cuts=[AudioCut(0, 60), AudioCut(240, 30)],
        out_path=Path("/w/v.mp4"),
    )

    assert argv[argv.index("-c:v") + 1] == "copy"
    assert argv[argv.index("-c:a") + 1] == "aac"
    assert argv[argv.index("-f") + 1] == "concat"
    assert argv.count("-vn") == 2
    assert "concat=n=2:v=0:a=1[ac]" in argv[argv.index("-filter_complex") + 1]


@pytest.mark.parametrize(
    ("width", "height"), [(1080, 1920), (1080, 1350), (1080, 1080), (360, 640)]
)
def test_text_layout_fits_inside_the_reels_safe_zone(width, height):
    metrics = font_metrics(DEFAULT_FONT)
    text = (
        "Pre-save the new single today — WWWWWWWWWWWWWWWWWWWWWWWW and tell a friend "
        * 2
    )

    layout = layout_text(text, width=width, height=height, metrics=metrics)

    zone = safe_zone(width, height)
    assert layout is not None
    assert layout.top - layout.box_border >= zone.top
    last_line_bottom = layout.line_y(len(layout.lines) - 1) + layout.line_height
    assert last_line_bottom + layout.box_border <= zone.bottom
    for line in layout.lines:
        width_px = metrics.text_width(line, layout.font_size)
        assert width_px + 2 * layout.box_border <= zone.width


def test_characters_the_font_lacks_are_left_out_of_the_overlay():
    graph = _filter_graph(
        build_render_command(_spec(text_overlay="Vibes 🎵 now"), Path("o"))
    )

    assert "🎵" not in graph
    assert "Vibes  now" in graph or "Vibes now" in graph
