"""Render one variant to an MP4 and a poster, through the storage API.

A render worker shares nothing but the database, the broker and the media storage: it
copies its inputs (the master, .cube looks) from storage into a scratch folder of its
own (RENDER_SCRATCH_DIR, one fresh folder per render, removed whatever happens),
renders there, and saves the results through the storage API. What it keeps between
renders (fetched masters, encoded pieces) is a cache on its own disk
(RENDER_CACHE_DIR), bounded by RENDER_CACHE_MAX_BYTES.

Idempotent and race-safe by the lifecycle: only the call that moves the variant
draft → rendering does the work; a rendered (or later) variant is left alone; a second
concurrent call is refused by the conditional UPDATE and exits quietly.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import logging
import shutil
import tempfile
import time
from collections.abc import Collection, Mapping
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any
from uuid import UUID

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File

from productions.guard import HumanRuleViolation, check_variant_respects_human_rules
from productions.looks import LUTS_DIRNAME
from productions.media import CorruptMediaError, master_local_path, probe_media
from productions.models import CreativeFragment
from productions.selectors import approved_fragment_ids
from productions.storage import StoredFileMissing, copy_to_local, media_storage
from productions.url_safety import (
    FetchError,
    IPNetwork,
    Resolver,
    UnsafeURLError,
    system_resolver,
)
from variants.choices import VariantStatus
from variants.models import CreativeVariant
from variants.rendering.commands import RenderSpec, Segment
from variants.rendering.errors import RenderError, TransientRenderError
from variants.rendering.looks import LookError, resolve_look
from variants.rendering.renderer import (
    DEFAULT_CACHE_MAX_BYTES,
    PieceCache,
    RenderResult,
    render_to_file,
)
from variants.services.lifecycle import (
    VariantTransitionRefused,
    variant_mark_failed,
    variant_mark_rendered,
    variant_transition,
)
from variants.services.work import (
    Claim,
    dispatch_superseded,
    lease_fields,
    lease_holder_name,
)

logger = logging.getLogger(__name__)

# For claims made before leases existed (no holder recorded): longer than the render
# task's hard time limit, a variant still "rendering" after this was abandoned.
RENDER_STALE_AFTER = timedelta(minutes=15)
_TRANSIENT_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EAGAIN, errno.EIO, errno.EMFILE, errno.ENFILE}
)
_DONE_STATUSES = frozenset(
    {
        VariantStatus.RENDERED,
        VariantStatus.UPLOADING,
        VariantStatus.TESTING,
        VariantStatus.ACTIVE,
        VariantStatus.FATIGUED,
        VariantStatus.ARCHIVED,
    }
)

# A batch is 5-15 variants; a refresh adds a few. More waiting siblings than this are
# left to their own renders (one pass's graph and encoders stay bounded).
BATCH_MAX_VARIANTS = 30

_piece_caches: dict[Path, PieceCache] = {}


def render_cache_dir() -> Path:
    """The worker's own cache folder: RENDER_CACHE_DIR, else SCRATCH/cache."""
    folder = getattr(settings, "RENDER_CACHE_DIR", "") or ""
    return Path(folder) if folder else Path(settings.RENDER_SCRATCH_DIR) / "cache"


def default_piece_cache() -> PieceCache:
    """The worker's piece cache (one instance per folder per process, so a master's
    content hash is computed once), bounded by RENDER_CACHE_MAX_BYTES."""
    root = render_cache_dir() / "pieces"
    if root not in _piece_caches:
        _piece_caches[root] = PieceCache(
            root,
            max_bytes=int(
                getattr(settings, "RENDER_CACHE_MAX_BYTES", DEFAULT_CACHE_MAX_BYTES)
            ),
        )
    return _piece_caches[root]


def master_fetch_cache_dir() -> Path:
    """Where masters are kept once fetched from storage or their URL."""
    return render_cache_dir() / "masters"


class RenderPlanError(RenderError):
    """The variant's plan cannot be rendered (fragments gone, cut outside fragment)."""


def variant_render(
    *,
    variant_id: UUID | str,
    revive_failed: bool = False,
    holder: str = "",
    token: str | None = None,
    cache: PieceCache | None = None,
    resolver: Resolver = system_resolver,
    allowed_networks: Collection[IPNetwork] = (),
) -> None:
    """Render a draft variant; on failure mark it failed with the reason.

    1. Claim it with a lease for `holder`: draft → rendering (failed → draft first
       when `revive_failed`; a render whose holder is provably gone, or this task's
       own earlier attempt, is taken over at once). A message whose dispatch `token`
       was superseded, or a variant someone live is rendering, returns quietly.
    2. Re-check the human rules (fragments still approved, hashtags, pixel).
    3. In a fresh scratch folder: the master (from storage or by SSRF-safe fetch,
       through the worker's cache) and any .cube look copied in; the master probed.
    4. Render there from cached pieces (what the master's other variants waiting
       for a render miss is encoded in the same passes, so a batch decodes, grades
       and encodes each frame once on this worker), save video and poster through
       the storage API; the scratch folder is removed whatever happened.
    5. rendering → rendered with path, checksum, probed duration and time.
    Any failure deletes stored files and marks the variant failed; transient failures
    are re-raised as TransientRenderError so the task can retry.
    """
    holder = holder or lease_holder_name()
    if not _claim(
        variant_id=variant_id, revive_failed=revive_failed, holder=holder, token=token
    ):
        return
    stored: list[str] = []
    try:
        variant = CreativeVariant.objects.select_related("parent").get(id=variant_id)
        master = variant.parent
        check_variant_respects_human_rules(
            master=master,
            fragment_ids=[
                str(slot.get("fragment_id", "")) for slot in variant.fragments_order
            ],
            hashtags=variant.hashtags,
            pixel_id=variant.pixel_id or None,
            approved_fragment_ids=approved_fragment_ids(production_id=master.pk),
        )
        spans = _fragment_spans(master.pk)
        segments = _segments(variant, spans)
        scratch_root = Path(settings.RENDER_SCRATCH_DIR)
        scratch_root.mkdir(parents=True, exist_ok=True)
        sweep_scratch(scratch_root)
        with tempfile.TemporaryDirectory(prefix="render-", dir=scratch_root) as tmp:
            work = Path(tmp)
            luts = (master.style_guide or {}).get("luts")
            look = resolve_look(
                variant.color_look,
                luts=scratch_luts(luts, look_name=variant.color_look, scratch=work),
                media_root=work,
            )
            with master_local_path(
                master,
                resolver=resolver,
                allowed_networks=allowed_networks,
                fetch_cache=master_fetch_cache_dir(),
            ) as source:
                info = probe_media(source)
                spec = RenderSpec(
                    source=source,
                    segments=segments,
                    look=look,
                    text_overlay=variant.text_overlay,
                    width=settings.RENDER_WIDTH,
                    height=settings.RENDER_HEIGHT,
                    aspect_ratio=variant.aspect_ratio,
                    source_duration=info.duration,
                    source_has_audio=info.has_audio,
                )
                result = render_to_file(
                    spec,
                    work / f"{variant.id}.mp4",
                    poster_path=work / f"{variant.id}.jpg",
                    cache=cache if cache is not None else default_piece_cache(),
                    batch=_waiting_siblings(variant, spec=spec, spans=spans, work=work),
                )
            video_name, poster_name = _store(variant, result, stored)
        variant_mark_rendered(
            variant_id=variant.id,
            video_file=video_name,
            poster_file=poster_name,
            video_checksum=result.checksum_sha256,
            probed_duration=result.probed_duration,
        )
    except VariantTransitionRefused:
        # Moved on under us (archived by a human, taken over as stale): not ours now.
        _delete_stored(stored)
        logger.warning("variant %s changed state during its render", variant_id)
        return
    except Exception as exc:
        _delete_stored(stored)
        transient = is_transient(exc)
        reason = failure_reason(exc)
        try:
            variant_mark_failed(variant_id=variant_id, reason=reason)
        except VariantTransitionRefused:
            logger.warning("variant %s failed but is no longer working", variant_id)
        if transient:
            raise TransientRenderError(reason) from exc
        if not isinstance(exc, _EXPECTED_PERMANENT):
            logger.exception("variant %s: unexpected render failure", variant_id)


_EXPECTED_PERMANENT = (
    RenderError,
    CorruptMediaError,
    LookError,
    HumanRuleViolation,
    UnsafeURLError,
    FetchError,
)


def _claim(
    *, variant_id: UUID | str, revive_failed: bool, holder: str, token: str | None
) -> bool:
    row = (
        CreativeVariant.objects.filter(id=variant_id)
        .values(
            "status",
            "status_changed_at",
            "lease_holder",
            "lease_expires_at",
            "dispatch_token",
        )
        .first()
    )
    if row is None:
        logger.warning("variant %s does not exist; nothing to render", variant_id)
        return False
    status = row["status"]
    if status in _DONE_STATUSES:
        return False
    if dispatch_superseded(current=row["dispatch_token"], token=token):
        logger.info("variant %s: render message superseded; dropped", variant_id)
        return False
    # The message's token must still be the variant's when it claims (the sweep
    # may replace it in between).
    expect = {"dispatch_token": row["dispatch_token"]}
    try:
        if status == VariantStatus.FAILED:
            if not revive_failed:
                return False
            variant_transition(
                variant_id=variant_id,
                from_statuses=[VariantStatus.FAILED],
                to_status=VariantStatus.DRAFT,
                expect=expect,
            )
        elif status == VariantStatus.RENDERING:
            if not Claim.of(row).may_be_taken_by(
                holder, stale_after=RENDER_STALE_AFTER
            ):
                return False  # someone alive is rendering it right now
            logger.warning("variant %s: taking over an abandoned render", variant_id)
            variant_transition(
                variant_id=variant_id,
                from_statuses=[VariantStatus.RENDERING],
                to_status=VariantStatus.DRAFT,
                expect={**expect, "lease_holder": row["lease_holder"]},
            )
        variant_transition(
            variant_id=variant_id,
            from_statuses=[VariantStatus.DRAFT],
            to_status=VariantStatus.RENDERING,
            expect=expect,
            **lease_fields(holder),
        )
    except VariantTransitionRefused:
        return False
    return True


def sweep_scratch(root: Path, *, older_than: timedelta = RENDER_STALE_AFTER) -> int:
    """Remove render folders left by a killed worker (a render's folder goes with its
    render; one older than RENDER_STALE_AFTER outlived any task's time limit).
    Returns how many were removed."""
    cutoff = time.time() - older_than.total_seconds()
    removed = 0
    for folder in root.glob("render-*"):
        with contextlib.suppress(FileNotFoundError):
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
    return removed


def scratch_luts(
    luts: Any, *, look_name: str, scratch: Path
) -> Mapping[str, Any] | None:
    """The style guide's looks with the chosen .cube file copied from storage
    (`luts/<path>`) into `scratch`, where `resolve_look` then reads it.

    A path under MEDIA_ROOT written as absolute (older style guides) names the same
    stored file. Anything the look resolver would refuse is left for it to refuse.
    """
    if not isinstance(luts, Mapping) or not isinstance(luts.get(look_name), str):
        return luts
    value = str(luts[look_name])
    relative = value
    if Path(value).is_absolute():
        try:
            relative = str(
                Path(value)
                .resolve()
                .relative_to((Path(settings.MEDIA_ROOT) / LUTS_DIRNAME).resolve())
            )
        except ValueError:
            return luts
    parts = PurePosixPath(relative.replace("\\", "/")).parts
    if not parts or any(p in ("", ".", "..") for p in parts):
        return luts
    name = "/".join((LUTS_DIRNAME, *parts))
    try:
        copy_to_local(media_storage(), name, scratch / LUTS_DIRNAME / Path(*parts))
    except StoredFileMissing as exc:
        raise LookError(
            f"The LUT {value!r} of look {look_name!r} is not in the media storage."
        ) from exc
    return {**luts, look_name: "/".join(parts)}


def _waiting_siblings(
    variant: CreativeVariant,
    *,
    spec: RenderSpec,
    spans: Mapping[str, tuple[float, float]],
    work: Path,
) -> list[RenderSpec]:
    """What the master's other variants waiting for a render (draft, or rendering
    elsewhere) will ask of the piece cache, so that this render's passes encode their
    pieces too: each stretch of the master decoded once for the whole batch. A sibling
    whose plan or look does not resolve is left out; its own render says why."""
    siblings = (
        CreativeVariant.objects.filter(
            parent_id=variant.parent_id,
            status__in=(VariantStatus.DRAFT, VariantStatus.RENDERING),
        )
        .exclude(id=variant.id)
        .order_by("variant_number")
        .only("id", "fragments_order", "color_look", "text_overlay", "aspect_ratio")[
            :BATCH_MAX_VARIANTS
        ]
    )
    luts = (variant.parent.style_guide or {}).get("luts")
    specs = []
    for sibling in siblings:
        try:
            look = resolve_look(
                sibling.color_look,
                luts=scratch_luts(luts, look_name=sibling.color_look, scratch=work),
                media_root=work,
            )
            specs.append(
                dataclasses.replace(
                    spec,
                    segments=_segments(sibling, spans),
                    look=look,
                    text_overlay=sibling.text_overlay,
                    aspect_ratio=sibling.aspect_ratio,
                )
            )
        except (RenderError, LookError, OSError) as exc:
            logger.info("variant %s left out of the batch: %s", sibling.id, exc)
    return specs


def _fragment_spans(master_id: UUID) -> dict[str, tuple[float, float]]:
    """Every fragment of the master: id -> (start, end) seconds."""
    return {
        str(pk): (start, end)
        for pk, start, end in CreativeFragment.objects.filter(
            master_creative_id=master_id
        ).values_list("id", "start_time", "end_time")
    }


def _segments(
    variant: CreativeVariant, spans: Mapping[str, tuple[float, float]]
) -> tuple[Segment, ...]:
    """The planned cuts, each with the span of its fragment (for the piece cache)."""
    slots: list[dict[str, Any]] = list(variant.fragments_order or [])
    if not slots:
        raise RenderPlanError(f"Variant {variant.id} has no fragments to render.")
    ids = [str(slot.get("fragment_id", "")) for slot in slots]
    segments = []
    for position, (slot, fragment_id) in enumerate(zip(slots, ids, strict=True), 1):
        if fragment_id not in spans:
            raise RenderPlanError(
                f"Slot {position}: fragment {fragment_id or '?'} is not a fragment of "
                "this master."
            )
        try:
            cut_in, cut_out = float(slot["source_in"]), float(slot["source_out"])
        except (KeyError, TypeError, ValueError) as exc:
            raise RenderPlanError(
                f"Slot {position}: source_in/source_out are missing or not numbers."
            ) from exc
        start, end = spans[fragment_id]
        if cut_in < start - 1e-3 or cut_out > end + 1e-3:
            raise RenderPlanError(
                f"Slot {position}: cut {cut_in:.3f}-{cut_out:.3f}s is outside its "
                f"fragment {start:.3f}-{end:.3f}s."
            )
        segments.append(
            Segment(cut_in, cut_out, span=_grid_span(start, end, cut_in, cut_out))
        )
    return tuple(segments)


def _grid_span(
    start: float, end: float, cut_in: float, cut_out: float, fps: int = 30
) -> tuple[float, float]:
    """The fragment's span widened/narrowed to whole frames, still containing the cut."""
    first = min(round(start * fps), round(cut_in * fps))
    last = max(round(end * fps), round(cut_out * fps))
    return first / fps, last / fps


def _store(
    variant: CreativeVariant, result: RenderResult, stored: list[str]
) -> tuple[str, str]:
    """Save video and poster through the FileFields' storage; names go into `stored`."""
    with result.path.open("rb") as fh:
        variant.video_file.save(f"{variant.id}.mp4", File(fh), save=False)
    video_name = str(variant.video_file.name)
    stored.append(video_name)
    with result.poster_path.open("rb") as fh:
        variant.poster_file.save(f"{variant.id}.jpg", File(fh), save=False)
    poster_name = str(variant.poster_file.name)
    stored.append(poster_name)
    return video_name, poster_name


def _delete_stored(names: list[str]) -> None:
    storage = CreativeVariant._meta.get_field("video_file").storage  # type: ignore[attr-defined]
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.exception("could not delete %s after a failed render", name)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying later: full disk, network trouble, an overloaded machine."""
    if isinstance(exc, TransientRenderError):
        return True
    if isinstance(exc, FetchError | UnsafeURLError):
        return exc.transient
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
        return exc.errno in _TRANSIENT_ERRNOS
    return False


def failure_reason(exc: BaseException) -> str:
    """A sentence for the admin: what kind of failure, then the message."""
    kinds: list[tuple[type[BaseException] | tuple[type[BaseException], ...], str]] = [
        (SoftTimeLimitExceeded, "Rendering ran past the task's time limit"),
        (HumanRuleViolation, "Refused by the human rules"),
        (CorruptMediaError, "The master video cannot be used"),
        (UnsafeURLError, "The master URL was refused"),
        (FetchError, "The master could not be fetched"),
        (LookError, "The colour look cannot be used"),
        (RenderPlanError, "The variant plan cannot be rendered"),
        (RenderError, "Rendering failed"),
        (OSError, "A file operation failed"),
    ]
    for kind, label in kinds:
        if isinstance(exc, kind):
            return f"{label}: {exc}"
    return f"Unexpected {type(exc).__name__}: {exc}"
