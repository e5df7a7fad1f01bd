"""Looks: strict .cube parsing with line numbers, grading objects, style guide resolution."""

from pathlib import Path

import numpy as np
import pytest

from variants.rendering.looks import (
    Grading,
    LookError,
    LutParseError,
    cube_text,
    grading_lut,
    parse_cube,
    read_cube_file,
    resolve_look,
)

IDENTITY_2 = "LUT_3D_SIZE 2\n" + "\n".join(
    f"{r} {g} {b}" for b in (0, 1) for g in (0, 1) for r in (0, 1)
)


def test_a_valid_cube_parses_with_red_varying_fastest():
    lut = parse_cube('TITLE "id"\n# comment\n\n' + IDENTITY_2)

    assert lut.size == 2
    assert lut.title == "id"
    # table[b, g, r]: the second row of the file is pure red
    assert lut.table[0, 0, 1].tolist() == [1.0, 0.0, 0.0]
    assert lut.table[1, 0, 0].tolist() == [0.0, 0.0, 1.0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("LUT_3D_SIZE 2\n0 0 0\n0 0\n", "line 3: expected 3 numbers, found 2"),
        ("LUT_3D_SIZE 2\n0 0 0\n0 zero 0\n", "line 3: '0 zero 0' is not three numbers"),
        ("LUT_3D_SIZE 2\n0 0 nan\n", "line 2: values must be finite"),
        ("LUT_3D_SIZE two\n", "line 1: LUT_3D_SIZE needs one integer"),
        ("LUT_3D_SIZE 1000\n", "line 1: LUT_3D_SIZE 1000 is outside"),
        ("# header\nLUT_1D_SIZE 1024\n", "line 2: 1D LUTs are not supported"),
        ("0 0 0\n", "line 1: table data before LUT_3D_SIZE"),
        ("LUT_3D_SIZE 2\nCOLOR_MAGIC 1\n", "line 2: unknown keyword COLOR_MAGIC"),
        (IDENTITY_2 + "\n0 0 0\n", "line 10: more than the 8 rows"),
        ("LUT_3D_SIZE 2\n0 0 0\n", "1 table rows, LUT_3D_SIZE 2 needs 8"),
        ("TITLE nothing else\n", "no LUT_3D_SIZE line"),
    ],
)
def test_a_bad_cube_fails_with_the_file_and_line(text, message):
    with pytest.raises(LutParseError) as caught:
        parse_cube(text, source="grade.cube")

    assert str(caught.value).startswith("grade.cube")
    assert message in str(caught.value)


def test_a_binary_file_is_not_a_cube(tmp_path):
    path = tmp_path / "junk.cube"
    path.write_bytes(bytes(range(256)) * 10)

    with pytest.raises(LutParseError, match="junk.cube"):
        read_cube_file(path)


def test_a_grading_object_becomes_a_lut_that_round_trips_through_cube_text():
    lut = grading_lut({"contrast": 1.2, "saturation": 1.4, "warmth": 0.5}, size=9)

    again = parse_cube(cube_text(lut))

    assert again.size == 9
    assert np.allclose(again.table, lut.table, atol=1e-6)
    # warmer: at mid grey, red rises above blue
    r, _, b = lut.table[4, 4, 4]
    assert r > b


def test_a_neutral_grading_is_the_identity():
    lut = grading_lut({}, size=5)

    axis = np.linspace(0, 1, 5)
    assert np.allclose(lut.table[2, 3, 4], [axis[4], axis[3], axis[2]])


@pytest.mark.parametrize(
    "grading",
    [{"contrast": 9}, {"hue": 0.2}, {"gamma": "1.2"}, {"saturation": True}],
)
def test_a_grading_object_out_of_range_or_unknown_is_refused(grading):
    with pytest.raises(LookError):
        grading_lut(grading)


def test_natural_and_empty_looks_mean_no_grade(tmp_path):
    for name in ("natural", ""):
        assert resolve_look(name, luts={}, media_root=tmp_path) is None


def test_a_look_missing_from_the_style_guide_is_refused(tmp_path):
    with pytest.raises(LookError, match="'teal' is not in the master's style guide"):
        resolve_look(
            "teal",
            luts={"warm": {"warmth": 0.5}},
            media_root=tmp_path,
        )


def test_a_grading_look_resolves_to_its_validated_numbers(tmp_path):
    look = resolve_look("warm", luts={"warm": {"warmth": 0.5}}, media_root=tmp_path)

    assert look == Grading(warmth=0.5)


def test_a_neutral_grading_look_means_no_grade(tmp_path):
    luts = {"plain": {"contrast": 1, "saturation": 1.0}}

    assert resolve_look("plain", luts=luts, media_root=tmp_path) is None


def test_a_grading_renders_as_three_tables_on_the_video_planes():
    tables = Grading(contrast=1.2, saturation=1.5, warmth=0.5).yuv_expressions()

    assert set(tables) == {"y", "u", "v"}
    assert "*1.2+0.5" in tables["y"]
    assert tables["u"].startswith("clip(128+1.5*(val-128)-5.6,")
    assert tables["v"].startswith("clip(128+1.5*(val-128)+5.6,")


def test_a_cube_path_is_found_under_media_luts_and_parsed_first(tmp_path):
    (tmp_path / "luts").mkdir()
    (tmp_path / "luts" / "film.cube").write_text(IDENTITY_2)
    (tmp_path / "luts" / "broken.cube").write_text("LUT_3D_SIZE 2\n0 0 0\n1 1\n")
    luts = {"film": "film.cube", "broken": "broken.cube"}

    assert resolve_look("film", luts=luts, media_root=tmp_path) == (
        tmp_path / "luts" / "film.cube"
    )
    with pytest.raises(LutParseError, match="broken.cube, line 3"):
        resolve_look("broken", luts=luts, media_root=tmp_path)


@pytest.mark.parametrize("value", ["../../etc/passwd.cube", "/etc/film.cube"])
def test_a_cube_path_outside_the_media_folder_is_refused(tmp_path, value):
    media = tmp_path / "media"
    media.mkdir()

    with pytest.raises(LookError, match="outside the media folder"):
        resolve_look("x", luts={"x": value}, media_root=media)


def test_a_missing_cube_file_is_a_clear_error(tmp_path):
    with pytest.raises(LookError, match="does not exist"):
        resolve_look("x", luts={"x": "nope.cube"}, media_root=Path(tmp_path))
