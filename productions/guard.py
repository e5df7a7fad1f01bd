"""The human rules, as code. Every write path that touches what humans approve calls this.

The engine may recombine what humans approved; it may never widen it. Concretely:
- `authorized_pixels`, `authorized_subgenres` and `genre` change only by a human holding
  `productions.change_authorization`, inside `human_authorization(actor)`;
- a variant uses only approved fragments of its own master;
- a variant attaches only an authorized pixel of its master;
- a variant carries only approved hashtags (style guide hashtags plus authorized subgenres).

A violation is logged at ERROR and raised as a `HumanRuleViolation` subclass; nothing
downstream catches and continues.

Pure on purpose: nothing here reads the database. The one read the rules need, the
master's approved fragments, is `productions.selectors.approved_fragment_ids`, done by
the caller once per batch (under the master's lock when writing).
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger("creative_engine.human_rules")

# The permission that opens `human_authorization`; the `admin` group holds it.
AUTHORIZATION_PERMISSION = "productions.change_authorization"

PROTECTED_FIELDS: tuple[str, ...] = (
    "authorized_pixels",
    "authorized_subgenres",
    "genre",
)


class HumanRuleViolation(Exception):
    """Base of every refusal; `code` is stable for API clients and logs."""

    code = "human_rule_violation"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        logger.error("human rule violation [%s]: %s", self.code, message)


class ProtectedFieldChangeRefused(HumanRuleViolation):
    code = "protected_field_change_refused"


class SystemApprovalRefused(HumanRuleViolation):
    """Approving or rejecting fragments is a human act; the system may never do it."""

    code = "system_approval_refused"


class UnapprovedFragmentRefused(HumanRuleViolation):
    code = "unapproved_fragment_refused"


class UnauthorizedPixelRefused(HumanRuleViolation):
    code = "unauthorized_pixel_refused"


class UnapprovedHashtagRefused(HumanRuleViolation):
    code = "unapproved_hashtag_refused"


@dataclass(frozen=True)
class Actor:
    """Who is writing. The system (cycle, tasks, commands acting alone) is never a human."""

    name: str
    user_id: int | None = None
    may_change_authorization: bool = False
    is_system: bool = False


SYSTEM = Actor(name="system", is_system=True)


def actor_for_user(user: Any) -> Actor:
    """An Actor for a Django user; the permission is read once, here."""
    return Actor(
        name=user.get_username(),
        user_id=user.pk,
        may_change_authorization=bool(user.has_perm(AUTHORIZATION_PERMISSION)),
    )


_authorizing_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar(
    "authorizing_actor", default=None
)


@contextlib.contextmanager
def human_authorization(actor: Actor) -> Iterator[None]:
    """Open a window in which `actor` may write protected fields (and only if allowed)."""
    if actor.is_system or not actor.may_change_authorization:
        raise ProtectedFieldChangeRefused(
            f"{actor.name} may not change {', '.join(PROTECTED_FIELDS)}: "
            "that needs a human with the 'change authorization' permission."
        )
    token = _authorizing_actor.set(actor)
    try:
        yield
    finally:
        _authorizing_actor.reset(token)


def check_human_actor(*, actor: Actor, action: str) -> None:
    """Refuse `action` when the system (not a person) is the actor."""
    if actor.is_system or actor.user_id is None:
        raise SystemApprovalRefused(f"Only a person may {action}; the engine may not.")


def current_authorizing_actor() -> Actor | None:
    return _authorizing_actor.get()


def check_protected_fields_unchanged(
    *, object_repr: str, before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[str]:
    """Refuse a change of protected fields outside `human_authorization`.

    Returns the names of the protected fields that change (for the audit trail).
    """
    changed = [f for f in PROTECTED_FIELDS if f in after and before.get(f) != after[f]]
    if changed and current_authorizing_actor() is None:
        raise ProtectedFieldChangeRefused(
            f"Refused to change {', '.join(changed)} of {object_repr}: only a human with "
            "the 'change authorization' permission may do that."
        )
    return changed


def check_fragments_approved(
    *,
    master_id: str,
    fragment_ids: Sequence[str],
    approved_fragment_ids: Collection[str],
) -> None:
    """Every fragment used must be an approved fragment of this master."""
    if not fragment_ids:
        raise UnapprovedFragmentRefused(
            f"A variant of master {master_id} needs fragments."
        )
    approved = {str(f) for f in approved_fragment_ids}
    unapproved = [str(f) for f in fragment_ids if str(f) not in approved]
    if unapproved:
        raise UnapprovedFragmentRefused(
            f"Fragments {', '.join(unapproved)} are not approved fragments of master "
            f"{master_id}."
        )


def check_pixel_authorized(
    *, master_id: str, pixel_id: str | None, authorized_pixels: Collection[str]
) -> None:
    """A pixel may be attached only if a human authorized it on this master."""
    if pixel_id is None or pixel_id == "":
        return
    if str(pixel_id) not in {str(p) for p in authorized_pixels}:
        raise UnauthorizedPixelRefused(
            f"Pixel {pixel_id} is not authorized for master {master_id}."
        )


_HASHTAG_CLEAN = re.compile(r"[^\w]", re.UNICODE)


def normalize_hashtag(tag: str) -> str:
    """'#Summer Vibes' and 'summervibes' are the same tag: '#summervibes'."""
    return "#" + _HASHTAG_CLEAN.sub("", tag.lstrip("#")).lower()


def approved_hashtags(
    *, style_guide: Mapping[str, Any], authorized_subgenres: Iterable[str]
) -> list[str]:
    """The approved set: the style guide's hashtags plus the authorized subgenres."""
    seen: dict[str, None] = {}
    for tag in list(style_guide.get("hashtags", []) or []) + list(authorized_subgenres):
        normalized = normalize_hashtag(str(tag))
        if len(normalized) > 1:
            seen.setdefault(normalized, None)
    return list(seen)


def check_hashtags_approved(
    *, master_id: str, hashtags: Iterable[str], approved: Collection[str]
) -> None:
    allowed = {normalize_hashtag(t) for t in approved}
    refused = [t for t in hashtags if normalize_hashtag(t) not in allowed]
    if refused:
        raise UnapprovedHashtagRefused(
            f"Hashtags {', '.join(refused)} are outside the approved set of master "
            f"{master_id}."
        )


def check_variant_respects_human_rules(
    *,
    master: Any,
    fragment_ids: Sequence[str],
    hashtags: Iterable[str],
    approved_fragment_ids: Collection[str],
    pixel_id: str | None = None,
) -> None:
    """The one check every variant write calls: fragments, hashtags and pixel.

    `approved_fragment_ids` comes from `productions.selectors.approved_fragment_ids`,
    read by the caller just before the write, so an approval withdrawn a moment ago is
    honoured; a batch reads it once for all its variants.
    """
    master_id = str(master.pk)
    check_fragments_approved(
        master_id=master_id,
        fragment_ids=[str(f) for f in fragment_ids],
        approved_fragment_ids={str(a) for a in approved_fragment_ids},
    )
    check_hashtags_approved(
        master_id=master_id,
        hashtags=hashtags,
        approved=approved_hashtags(
            style_guide=master.style_guide or {},
            authorized_subgenres=master.authorized_subgenres or [],
        ),
    )
    check_pixel_authorized(
        master_id=master_id,
        pixel_id=pixel_id,
        authorized_pixels=master.authorized_pixels,
    )
