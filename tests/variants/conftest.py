"""Fixtures for rendering tests: small synthetic masters made once per session by ffmpeg.

Renders in tests run at 360x640 (pass width/height explicitly): the machine has two
cores shared with other work, and every property checked here holds at any size.
"""

from pathlib import Path

import pytest

from variants.rendering.demo_media import make_synthetic_master
from variants.rendering.looks import cube_text, grading_lut
from variants.rendering.renderer import PieceCache

TEST_WIDTH = 360
TEST_HEIGHT = 640


@pytest.fixture(scope="session")
def synthetic_master(tmp_path_factory) -> Path:
    """20 s, 360x640, 30 fps, H.264 + AAC, frame numbers coded in the top right."""
    folder = tmp_path_factory.mktemp("masters")
    return make_synthetic_master(
        folder / "master.mp4", duration=20.0, width=TEST_WIDTH, height=TEST_HEIGHT
    )


@pytest.fixture(scope="session")
def film_cube(tmp_path_factory) -> Path:
    """A strong look (contrast up, colder, desaturated) as a .cube file."""
    path = tmp_path_factory.mktemp("luts") / "film.cube"
    path.write_text(
        cube_text(grading_lut({"contrast": 1.3, "saturation": 0.5, "warmth": -0.8}))
    )
    return path


@pytest.fixture
def piece_cache(tmp_path) -> PieceCache:
    return PieceCache(tmp_path / "piece-cache")


@pytest.fixture
def small_render_size(settings):
    settings.RENDER_WIDTH = TEST_WIDTH
    settings.RENDER_HEIGHT = TEST_HEIGHT
    return TEST_WIDTH, TEST_HEIGHT
