"""Locate and run ffmpeg: the one subprocess runner the apps share.

The binary comes from the imageio-ffmpeg wheel (libx264, AAC, lut3d, drawtext, concat),
so `pip install` alone gives every machine the same ffmpeg; FFMPEG_BINARY points at a
system ffmpeg instead. Failures raise this module's errors; the renderer words them as
render errors (`variants.rendering.ffmpeg`), thumbnails as unreadable media.
"""

from __future__ import annotations

import errno
import logging
import subprocess
import time
from collections.abc import Sequence
from functools import lru_cache

from django.conf import settings

logger = logging.getLogger(__name__)

STDERR_TAIL_CHARS = 2000
DEFAULT_TIMEOUT_SECONDS = 600.0


class FFmpegFailed(Exception):
    """ffmpeg exited non-zero; the message carries the tail of its stderr."""


class FFmpegTimedOut(FFmpegFailed):
    """ffmpeg ran past its deadline and was killed."""


class FFmpegNotFound(FFmpegFailed):
    """The configured ffmpeg binary does not exist."""


def ffmpeg_binary() -> str:
    """settings.FFMPEG_BINARY when set, else the binary the imageio-ffmpeg wheel ships."""
    configured = str(getattr(settings, "FFMPEG_BINARY", "") or "")
    return configured or _bundled_ffmpeg()


@lru_cache(maxsize=1)
def _bundled_ffmpeg() -> str:
    import imageio_ffmpeg

    return str(imageio_ffmpeg.get_ffmpeg_exe())


def stderr_tail(stderr: bytes | str, limit: int = STDERR_TAIL_CHARS) -> str:
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    text = text.strip()
    return text if len(text) <= limit else "…" + text[-limit:]


def run_ffmpeg(
    args: Sequence[str], *, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
) -> float:
    """Run ffmpeg with `args` (argv without the binary); return the wall seconds taken.

    Raises FFmpegFailed with the stderr tail on a non-zero exit, FFmpegTimedOut when
    it runs past `timeout_seconds` (the process is killed, not left behind), and
    OSError(ENOSPC) when ffmpeg ran out of disk, so callers can retry that later.
    """
    argv = [ffmpeg_binary(), "-hide_banner", "-nostdin", "-loglevel", "error", *args]
    started = time.monotonic()
    try:
        completed = subprocess.run(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=timeout_seconds,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise FFmpegTimedOut(
            f"ffmpeg ran longer than {timeout_seconds:.0f}s and was stopped. "
            f"{stderr_tail(exc.stderr or b'')}"
        ) from exc
    except FileNotFoundError as exc:
        raise FFmpegNotFound(
            f"ffmpeg binary not found at {argv[0]!r}; check FFMPEG_BINARY."
        ) from exc
    elapsed = time.monotonic() - started
    if completed.returncode != 0:
        tail = stderr_tail(completed.stderr)
        if "No space left on device" in tail:
            raise OSError(errno.ENOSPC, f"ffmpeg: no space left on device. {tail}")
        raise FFmpegFailed(f"ffmpeg failed (exit {completed.returncode}): {tail}")
    logger.debug("ffmpeg took %.2fs: %s", elapsed, " ".join(argv))
    return elapsed
