"""ffmpeg for the renderer: `productions.ffmpeg`'s runner, its failures as render errors.

A timeout is transient (the task retries it on a less loaded machine); a missing binary
or a refused command is a permanent render failure with ffmpeg's own words.
"""

from __future__ import annotations

from collections.abc import Sequence

from productions import ffmpeg
from productions.ffmpeg import DEFAULT_TIMEOUT_SECONDS, ffmpeg_binary
from variants.rendering.errors import FFmpegError, FFmpegTimeoutError, RenderError

__all__ = ["DEFAULT_TIMEOUT_SECONDS", "ffmpeg_binary", "run_ffmpeg"]


def run_ffmpeg(
    args: Sequence[str], *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> float:
    """`productions.ffmpeg.run_ffmpeg`, raising FFmpegTimeoutError, RenderError (no
    binary) or FFmpegError instead of its errors; returns the wall seconds taken."""
    try:
        return ffmpeg.run_ffmpeg(args, timeout_seconds=timeout_seconds)
    except ffmpeg.FFmpegTimedOut as exc:
        raise FFmpegTimeoutError(str(exc)) from exc
    except ffmpeg.FFmpegNotFound as exc:
        raise RenderError(str(exc)) from exc
    except ffmpeg.FFmpegFailed as exc:
        raise FFmpegError(str(exc)) from exc
