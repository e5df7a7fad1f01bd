"""The one ffmpeg runner: its errors say what happened, in ffmpeg's words."""

import pytest

from productions.ffmpeg import FFmpegFailed, FFmpegNotFound, FFmpegTimedOut, run_ffmpeg


def test_a_failing_command_raises_with_the_tail_of_ffmpegs_stderr():
    with pytest.raises(FFmpegFailed, match="No such file or directory"):
        run_ffmpeg(["-i", "/nowhere/master.mp4", "-f", "null", "-"])


def test_a_command_past_its_deadline_is_killed():
    with pytest.raises(FFmpegTimedOut):
        run_ffmpeg(
            ["-re", "-f", "lavfi", "-i", "testsrc2=size=64x64", "-f", "null", "-"],
            timeout_seconds=0.5,
        )


def test_a_missing_binary_names_the_setting(settings):
    settings.FFMPEG_BINARY = "/nowhere/ffmpeg"

    with pytest.raises(FFmpegNotFound, match="FFMPEG_BINARY"):
        run_ffmpeg(["-version"])
