"""Render one RenderSpec to an MP4 and a JPEG poster, atomically.

Files are written under temporary names next to their destination and renamed only after
the result probes as planned, so a failed or killed render leaves nothing half-written.

With a `PieceCache`, every cut is a run of closed-GOP H.264 pieces (at most a second
each, from the start of its fragment, graded and with the variant's text) that are
encoded once and kept; a variant is its pieces joined by the concat demuxer with the
video copied, not encoded again, and its sound cut from the master and encoded (cheap).
Decoding, grading and encoding are most of a render's CPU, so a render is handed the
master's other variants waiting to render (its batch) and the cache encodes what they
all miss in one pass per stretch of the master: a batch costs about one decode of the
frames it uses, one grade per look and one encode of each frame per look and text, not
the sum of its variants.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import itertools
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from productions.media import (
    CorruptMediaError,
    MediaInfo,
    evict_oldest_files,
    probe_media,
)
from variants.rendering.commands import (
    AudioCut,
    LookBranch,
    PieceOutput,
    RenderSpec,
    TextBranch,
    build_piece_assembly_command,
    build_pieces_pass_command,
    build_poster_command,
    build_render_command,
    piece_run,
    segment_frames,
    to_frame,
)
from variants.rendering.errors import FFmpegError, RenderError
from variants.rendering.ffmpeg import run_ffmpeg
from variants.rendering.looks import Grading, Look

logger = logging.getLogger(__name__)

PIECE_FORMAT_VERSION = 2
# Pieces are encoded video (~0.5 MB per second at 1080x1920): a 20 s master with its
# looks and two overlays fits in a few hundred MB. Least recently used go first beyond.
DEFAULT_CACHE_MAX_BYTES = 1024**3
# Pieces used this recently are never evicted: a render may be about to join them.
CACHE_EVICTION_MIN_AGE_SECONDS = 15 * 60


@dataclass(frozen=True)
class RenderResult:
    path: Path
    poster_path: Path
    checksum_sha256: str
    probed_duration: float
    media: MediaInfo
    seconds: float
    pieces_encoded: int = 0
    pieces_reused: int = 0


def file_sha256(path: Path, chunk: int = 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


class PieceCache:
    """Encoded pieces (`<dressing>-<first frame>-<frames>.mp4`) in a folder of the
    worker's own, bounded.

    The dressing is a content hash (master bytes, look, text, font, size, encoder
    settings), so a master fetched again into a new file still hits, and a changed LUT
    misses. Prepares of one master take turns; the atomic rename keeps a piece whole
    whatever else runs. A hit refreshes the file's time: eviction is least recently
    used first.
    """

    def __init__(
        self,
        root: Path,
        *,
        max_bytes: int = DEFAULT_CACHE_MAX_BYTES,
        min_age_seconds: float = CACHE_EVICTION_MIN_AGE_SECONDS,
    ) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.min_age_seconds = min_age_seconds
        self._hashes: dict[tuple[str, int, int], str] = {}
        self.hits = 0
        self.misses = 0

    def content_hash(self, path: Path) -> str:
        stat = path.stat()
        identity = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
        if identity not in self._hashes:
            self._hashes[identity] = file_sha256(path)
        return self._hashes[identity]

    def _look_identity(self, look: Look | None) -> object:
        if look is None:
            return None
        if isinstance(look, Grading):
            return ["grading", repr(look)]
        return ["cube", self.content_hash(Path(look))]

    def dressing_key(self, spec: RenderSpec) -> str:
        """What every piece of `spec` shares: the master's bytes, look, text, font,
        size and encoder settings (a content hash, so a master fetched again into a
        new file still hits, and a changed LUT misses)."""
        parts = {
            "v": PIECE_FORMAT_VERSION,
            "source": self.content_hash(spec.source),
            "look": self._look_identity(spec.look),
            "text": spec.text_overlay,
            "font": self.content_hash(spec.font) if spec.text_overlay else None,
            "size": [*spec.output_size, spec.fps],
            "encode": [spec.preset, spec.crf],
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def key(self, spec: RenderSpec, *, first: int, frames: int) -> str:
        return _piece_key(self.dressing_key(spec), first, frames)

    def path(self, key: str) -> Path:
        return self.root / f"{key}.mp4"

    def lookup(self, key: str) -> Path | None:
        path = self.path(key)
        try:
            os.utime(path)
        except FileNotFoundError:
            return None
        return path

    def bytes_used(self) -> int:
        total = 0
        for entry in self.root.glob("*.mp4"):
            with contextlib.suppress(FileNotFoundError):
                total += entry.stat().st_size
        return total

    def evict(self) -> None:
        """Delete least recently used pieces beyond max_bytes (not recently used)."""
        evict_oldest_files(
            self.root,
            "*.mp4",
            max_bytes=self.max_bytes,
            min_age_seconds=self.min_age_seconds,
        )

    def pieces_for(
        self,
        spec: RenderSpec,
        *,
        batch: Sequence[RenderSpec] = (),
        timeout_seconds: float | None = None,
    ) -> tuple[list[Path], int]:
        """Every piece of every cut of `spec`, in order, after encoding what `spec` and
        the rest of its `batch` miss (`prepare`). Returns the paths and how many of
        them were there before (reused)."""
        try:
            encoded = self.prepare([spec, *batch], timeout_seconds=timeout_seconds)
        except FFmpegError:
            if not batch:
                raise
            # Something of another variant's refused: this render must not fail by it.
            logger.warning("the batch's pieces failed to encode; encoding one render's")
            encoded = self.prepare([spec], timeout_seconds=timeout_seconds)
        index = self._index()
        keys = []
        for cut in self._cuts(spec):
            tiles = _tiling(cut.first, cut.end, index.get(cut.dressing, set()))
            if tiles is None:
                raise RenderError("A piece went missing from the cache mid-render.")
            keys += [_piece_key(cut.dressing, a, n) for a, n in tiles]
        paths = []
        for key in keys:
            path = self.lookup(key)
            if path is None:
                raise RenderError("A piece went missing from the cache mid-render.")
            paths.append(path)
        reused = sum(1 for key in keys if key not in encoded)
        self.hits += reused
        return paths, reused

    def prepare(
        self, specs: Sequence[RenderSpec], *, timeout_seconds: float | None = None
    ) -> set[str]:
        """Encode what the cuts of `specs` miss, each frame of a look and text once;
        return the keys of the pieces encoded.

        A cut is joined from pieces of its look and text that tile it exactly. The
        cuts no pieces tile yet are split at every second from their fragment's start
        (so later cuts share whole seconds), at every start and end of the other such
        cuts of their look and text (so a shorter cut's end is a boundary of the
        longer cut's pieces, not a piece encoded again) and at the ends of the pieces
        of their look and text already there (so those are reused). Missing pieces are
        encoded by stretches of the master (fragments that overlap are one stretch),
        each in one ffmpeg process that decodes it once, grades it once per look and
        draws it once per text, one encoder per run of abutting pieces. Concurrent
        prepares of one master in this folder take turns (a file lock), so the second
        finds the first's pieces instead of encoding them again.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        encoded: set[str] = set()
        for source, group in _by_source(specs, self.content_hash).items():
            with _folder_lock(self.root / f".prepare-{source[:16]}.lock"):
                wants = _missing_pieces(
                    [cut for spec in group for cut in self._cuts(spec)],
                    self._index(),
                    fps=group[0].fps,
                )
                for stretch in _stretches(wants.values(), self._pass_identity):
                    self._encode_stretch(stretch, timeout_seconds=timeout_seconds)
                encoded |= wants.keys()
        self.misses += len(encoded)
        self.evict()
        return encoded

    def _cuts(self, spec: RenderSpec) -> list[_Cut]:
        cuts = []
        for segment in spec.segments:
            first, count = segment_frames(segment, spec.fps)
            span = (
                (
                    to_frame(segment.span[0], spec.fps),
                    to_frame(segment.span[1], spec.fps),
                )
                if segment.span
                else (first, first + count)
            )
            cuts.append(_Cut(spec, self.dressing_key(spec), first, first + count, span))
        return cuts

    def _index(self) -> dict[str, set[tuple[int, int]]]:
        """The pieces in the folder: dressing key -> {(first frame, frames)}."""
        index: dict[str, set[tuple[int, int]]] = {}
        for entry in self.root.glob("*-*-*.mp4"):
            dressing, first, frames = entry.stem.rsplit("-", 2)
            if first.isdigit() and frames.isdigit():
                index.setdefault(dressing, set()).add((int(first), int(frames)))
        return index

    def _pass_identity(self, spec: RenderSpec) -> tuple[object, ...]:
        """What one pass shares: source, output grid, font and encoder settings."""
        return (
            self.content_hash(spec.source),
            spec.output_size,
            spec.fps,
            str(spec.font),
            spec.preset,
            spec.crf,
            spec.gop_seconds,
        )

    def _encode_stretch(
        self, stretch: _Stretch, *, timeout_seconds: float | None
    ) -> None:
        work = self.root / f".encode-{uuid.uuid4().hex}"
        work.mkdir()
        try:
            looks: list[LookBranch] = []
            moves: list[tuple[Path, str]] = []
            for look_id, texts in stretch.dressings.items():
                text_branches = []
                for text, runs in texts.items():
                    outputs = []
                    for run in runs:
                        pattern = work / f"p{len(moves)}-%d.mp4"
                        outputs.append(PieceOutput(tuple(run.boundaries), pattern))
                        moves += [
                            (work / f"p{len(moves)}-{i}.mp4", key)
                            for i, key in enumerate(run.keys)
                        ]
                    text_branches.append(TextBranch(text, tuple(outputs)))
                looks.append(LookBranch(stretch.looks[look_id], tuple(text_branches)))
            encoded_seconds = stretch.encoded_frames / stretch.spec.fps
            run_ffmpeg(
                build_pieces_pass_command(
                    spec=stretch.spec,
                    start=stretch.start,
                    frames=stretch.end - stretch.start,
                    looks=looks,
                ),
                timeout_seconds=timeout_seconds or 120.0 + 30.0 * encoded_seconds,
            )
            for made, key in moves:
                if not made.is_file():
                    raise RenderError(f"ffmpeg did not write the piece {made.name}.")
                os.replace(made, self.path(key))
        finally:
            shutil.rmtree(work, ignore_errors=True)


def _piece_key(dressing: str, first: int, frames: int) -> str:
    return f"{dressing}-{first}-{frames}"


@dataclass(frozen=True)
class _Cut:
    """One cut of a spec: master frames [first, end) of fragment `span`."""

    spec: RenderSpec
    dressing: str
    first: int
    end: int
    span: tuple[int, int]


@dataclass(frozen=True)
class _Piece:
    """One piece to encode: master frames [first, first + frames) of the cut of
    fragment `span` (master frames), as `spec` dresses it."""

    first: int
    frames: int
    key: str
    span: tuple[int, int]
    spec: RenderSpec

    @property
    def end(self) -> int:
        return self.first + self.frames


def _tiling(
    first: int, end: int, pieces: Iterable[tuple[int, int]]
) -> list[tuple[int, int]] | None:
    """The fewest pieces (first, frames) that join into exactly [first, end)."""
    ends_from: dict[int, list[int]] = {}
    for a, n in pieces:
        if first <= a and a + n <= end:
            ends_from.setdefault(a, []).append(a + n)
    paths: dict[int, list[tuple[int, int]]] = {first: []}
    frontier = [first]
    while frontier and end not in paths:
        reached = []
        for position in frontier:
            for stop in sorted(ends_from.get(position, ()), reverse=True):
                if stop not in paths:
                    paths[stop] = [*paths[position], (position, stop - position)]
                    reached.append(stop)
        frontier = reached
    return paths.get(end)


def _missing_pieces(
    cuts: Sequence[_Cut], index: Mapping[str, set[tuple[int, int]]], *, fps: int
) -> dict[str, _Piece]:
    """The pieces to encode so that every cut can be joined (see `prepare`)."""
    untiled = [
        cut
        for cut in cuts
        if _tiling(cut.first, cut.end, index.get(cut.dressing, set())) is None
    ]
    boundaries: dict[str, set[int]] = {}
    for cut in untiled:
        seconds = piece_run(
            cut.first, cut.end - cut.first, anchor=cut.span[0], fps=fps
        ).boundaries
        if cut.dressing not in boundaries:
            # The pieces already there: a cut may reuse them wherever they fit.
            boundaries[cut.dressing] = {
                b for a, n in index.get(cut.dressing, set()) for b in (a, a + n)
            }
        boundaries[cut.dressing].update(seconds)
    wants: dict[str, _Piece] = {}
    for cut in untiled:
        inside = sorted(
            b for b in boundaries[cut.dressing] if cut.first <= b <= cut.end
        )
        have = index.get(cut.dressing, set())
        for a, z in itertools.pairwise(inside):
            key = _piece_key(cut.dressing, a, z - a)
            if (a, z - a) not in have and key not in wants:
                wants[key] = _Piece(a, z - a, key, cut.span, cut.spec)
    return wants


@dataclass
class _Run:
    """Abutting pieces of one look and text: one encoder, split at `boundaries`."""

    boundaries: list[int]
    keys: list[str]


@dataclass
class _Stretch:
    """Master frames [start, end) decoded once, with the pieces to encode from them."""

    spec: RenderSpec
    start: int
    end: int
    looks: dict[object, Look | None] = field(default_factory=dict)
    # look identity -> text -> runs
    dressings: dict[object, dict[str, list[_Run]]] = field(default_factory=dict)
    encoded_frames: int = 0


def _by_source(
    specs: Sequence[RenderSpec], content_hash: Callable[[Path], str]
) -> dict[str, list[RenderSpec]]:
    groups: dict[str, list[RenderSpec]] = {}
    for spec in specs:
        groups.setdefault(content_hash(spec.source), []).append(spec)
    return groups


def _stretches(
    wants: Iterable[_Piece], identity: Callable[[RenderSpec], tuple[object, ...]]
) -> list[_Stretch]:
    """The missing pieces as passes: per pass identity, the pieces of fragments
    whose spans overlap form one stretch (abutting fragments stay apart: every
    branch of a pass sees its whole stretch)."""
    by_pass: dict[tuple[object, ...], list[_Piece]] = {}
    for piece in wants:
        by_pass.setdefault(identity(piece.spec), []).append(piece)
    stretches: list[_Stretch] = []
    for pieces in by_pass.values():
        pieces.sort(key=lambda p: p.span)
        current: list[_Piece] = []
        end = 0
        for piece in pieces:
            if current and piece.span[0] >= end:
                stretches.append(_stretch(current))
                current = []
            end = max(end, piece.span[1]) if current else piece.span[1]
            current.append(piece)
        if current:
            stretches.append(_stretch(current))
    return stretches


def _stretch(pieces: list[_Piece]) -> _Stretch:
    """A stretch of `pieces`: per look and text, chains of abutting pieces (a shorter
    cut's last piece overlaps a longer cut's, and is a run of its own)."""
    stretch = _Stretch(
        spec=pieces[0].spec,
        start=min(p.first for p in pieces),
        end=max(p.end for p in pieces),
    )
    combos: dict[tuple[object, str], list[_Piece]] = {}
    for piece in pieces:
        look_id = _look_key(piece.spec.look)
        stretch.looks.setdefault(look_id, piece.spec.look)
        combos.setdefault((look_id, piece.spec.text_overlay), []).append(piece)
        stretch.encoded_frames += piece.frames
    for (look_id, text), wanted in combos.items():
        runs = stretch.dressings.setdefault(look_id, {}).setdefault(text, [])
        pending = sorted(wanted, key=lambda p: (p.first, -p.frames))
        while pending:
            head = pending.pop(0)
            run = _Run(boundaries=[head.first, head.end], keys=[head.key])
            while nxt := next(
                (p for p in pending if p.first == run.boundaries[-1]), None
            ):
                pending.remove(nxt)
                run.boundaries.append(nxt.end)
                run.keys.append(nxt.key)
            runs.append(run)
    return stretch


def _look_key(look: Look | None) -> object:
    """Groups a pass's pieces by look (the cache key holds the look's content)."""
    return None if look is None else repr(look)


@contextlib.contextmanager
def _folder_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def render_timeout(spec: RenderSpec) -> float:
    """Generous: a 1080x1920 render runs at ~2 output seconds per wall second."""
    return 120.0 + 30.0 * spec.duration


def _concat_list(pieces: list[Path], path: Path) -> Path:
    lines = []
    for piece in pieces:
        quoted = str(piece.resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    path.write_text("\n".join(lines) + "\n")
    return path


def _render_from_pieces(
    spec: RenderSpec,
    cache: PieceCache,
    *,
    batch: Sequence[RenderSpec],
    tmp_video: Path,
    tmp_poster: Path,
) -> tuple[int, int]:
    """Pieces (encoded where `spec` or its batch miss them), joined; sound cut per
    variant; the poster. Returns (pieces encoded, pieces of `spec` reused)."""
    misses = cache.misses
    timeout = render_timeout(spec)
    pieces, reused = cache.pieces_for(spec, batch=batch)
    listing = _concat_list(pieces, tmp_video.with_suffix(".txt"))
    try:
        audio = [
            AudioCut(*segment_frames(segment, spec.fps)) for segment in spec.segments
        ]
        run_ffmpeg(
            build_piece_assembly_command(
                spec=spec, concat_list=listing, audio_cuts=audio, out_path=tmp_video
            ),
            timeout_seconds=timeout,
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            listing.unlink()
    run_ffmpeg(
        build_poster_command(spec=spec, video=tmp_video, poster_path=tmp_poster),
        timeout_seconds=timeout,
    )
    return cache.misses - misses, reused


def render_to_file(
    spec: RenderSpec,
    out_path: Path,
    *,
    poster_path: Path | None = None,
    cache: PieceCache | None = None,
    batch: Sequence[RenderSpec] = (),
) -> RenderResult:
    """Render `spec` to `out_path` (+ a JPEG poster), verify it, and return what it is.

    Without a cache: one ffmpeg process from the master (the reference render). With
    one, from its pieces; what `spec` and the other specs of its `batch` (the
    master's variants still to render) miss is encoded first, each piece once.

    The output is probed: a file whose duration is off the plan by more than a frame, or
    that is not H.264/AAC, is an error and is deleted.
    """
    out_path = Path(out_path)
    poster_path = Path(poster_path) if poster_path else out_path.with_suffix(".jpg")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    poster_path.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:12]
    tmp_video = out_path.with_name(f".{out_path.stem}.{token}.tmp.mp4")
    tmp_poster = poster_path.with_name(f".{poster_path.stem}.{token}.tmp.jpg")
    started = time.monotonic()
    encoded = reused = 0
    try:
        if cache is None:
            run_ffmpeg(
                build_render_command(spec, tmp_video, poster_path=tmp_poster),
                timeout_seconds=render_timeout(spec),
            )
        else:
            encoded, reused = _render_from_pieces(
                spec, cache, batch=batch, tmp_video=tmp_video, tmp_poster=tmp_poster
            )
        media = verify_output(tmp_video, spec)
        if not tmp_poster.is_file() or tmp_poster.stat().st_size == 0:
            raise RenderError("ffmpeg wrote no poster frame.")
        checksum = file_sha256(tmp_video)
        os.replace(tmp_video, out_path)
        os.replace(tmp_poster, poster_path)
    except BaseException:
        for leftover in (tmp_video, tmp_poster):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        raise
    seconds = time.monotonic() - started
    logger.info(
        "rendered %s (%.2fs of video) in %.2fs", out_path.name, media.duration, seconds
    )
    return RenderResult(
        path=out_path,
        poster_path=poster_path,
        checksum_sha256=checksum,
        probed_duration=media.duration,
        media=media,
        seconds=seconds,
        pieces_encoded=encoded,
        pieces_reused=reused,
    )


def verify_output(path: Path, spec: RenderSpec) -> MediaInfo:
    """The rendered file is what the plan says: length within a frame, H.264 + AAC."""
    try:
        media = probe_media(path)
    except CorruptMediaError as exc:
        raise RenderError(f"The rendered file does not probe: {exc}") from exc
    width, height = spec.output_size
    problems = []
    if abs(media.duration - spec.duration) > 1.0 / spec.fps + 1e-6:
        problems.append(
            f"duration {media.duration:.3f}s instead of {spec.duration:.3f}s"
        )
    if (media.width, media.height) != (width, height):
        problems.append(
            f"size {media.width}x{media.height} instead of {width}x{height}"
        )
    if media.video_codec != "h264" or media.audio_codec != "aac":
        problems.append(f"codecs {media.video_codec}/{media.audio_codec}")
    if problems:
        raise RenderError("The rendered file is off the plan: " + "; ".join(problems))
    return media
