"""Locating and running ffmpeg: the setting wins, errors carry ffmpeg's words."""

import time

import pytest

from variants.rendering.errors import (
    FFmpegError,
    FFmpegTimeoutError,
    RenderError,
    TransientRenderError,
)
from variants.rendering.ffmpeg import ffmpeg_binary, run_ffmpeg


def test_the_bundled_binary_is_used_unless_a_system_ffmpeg_is_configured(settings):
    settings.FFMPEG_BINARY = ""
    assert "imageio_ffmpeg" in ffmpeg_binary()

    settings.FFMPEG_BINARY = "/usr/local/bin/ffmpeg"
    assert ffmpeg_binary() == "/usr/local/bin/ffmpeg"


def test_a_missing_binary_names_the_setting(settings):
    settings.FFMPEG_BINARY = "/nowhere/ffmpeg"

    with pytest.raises(RenderError, match="FFMPEG_BINARY"):
        run_ffmpeg(["-version"])


def test_a_failing_command_carries_the_tail_of_ffmpegs_stderr():
    with pytest.raises(FFmpegError) as caught:
        run_ffmpeg(["-i", "/nowhere/master.mp4", "-f", "null", "-"])

    assert "exit" in str(caught.value)
    assert "No such file or directory" in str(caught.value)


def test_a_command_past_its_deadline_is_killed_and_counts_as_transient():
    started = time.monotonic()

    with pytest.raises(FFmpegTimeoutError) as caught:
        run_ffmpeg(
            ["-re", "-f", "lavfi", "-i", "testsrc2=size=64x64", "-f", "null", "-"],
            timeout_seconds=0.5,
        )

    assert time.monotonic() - started < 5
    assert isinstance(caught.value, TransientRenderError)
