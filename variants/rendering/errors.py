"""Render errors. Permanent ones mark the variant failed; transient ones are retried."""


class RenderError(Exception):
    """A render that cannot succeed as asked (bad input, bad look, ffmpeg refused)."""


class TransientRenderError(RenderError):
    """A render that may succeed later (disk full, network down, machine overloaded)."""


class FragmentOutsideVideoError(RenderError):
    """A planned cut reaches outside the master."""


class FFmpegError(RenderError):
    """ffmpeg exited non-zero; the message carries the tail of its stderr."""


class FFmpegTimeoutError(TransientRenderError):
    """ffmpeg ran past its deadline and was killed."""
