"""Reads of masters and fragments, scoped to what the user may see.

Every API read goes through here: the role check is repeated (a user without a role
sees nothing, whatever view forgot to check) and each queryset carries the joins and
prefetches its serializers need, so a list costs the same number of queries for 1 or
1,000 rows.
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

from django.db.models import Model, Prefetch, QuerySet
from django.http import Http404

from productions.models import CreativeFragment, CreativeProduction
from productions.roles import has_engine_role


def parse_uuid(value: Any) -> UUID | None:
    """A path or payload id as a UUID, or None when it is not one (a 404, not a 500)."""
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


M = TypeVar("M", bound=Model)


def get_by_id_or_404(queryset: QuerySet[M], value: Any, *, what: str) -> M:
    """The row of `queryset` whose id is `value`; a malformed or unknown id (or one the
    user may not see, the queryset being scoped) is the same 404, never a 500."""
    pk = parse_uuid(value)
    if pk is None:
        raise Http404(f"No {what} with this id.")
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise Http404(f"No {what} with this id.")
    return found


def ids_missing(queryset: QuerySet[Any], ids: list[UUID]) -> list[UUID]:
    """The ids among `ids` that name no row of `queryset` (in their order)."""
    found = set(queryset.filter(pk__in=ids).values_list("pk", flat=True))
    return [pk for pk in ids if pk not in found]


def production_list(*, user: Any) -> QuerySet[CreativeProduction]:
    """Masters with their creator and fragments (and each fragment's approver)."""
    if not has_engine_role(user):
        return CreativeProduction.objects.none()
    return CreativeProduction.objects.select_related("created_by").prefetch_related(
        Prefetch(
            "fragment_set",
            queryset=CreativeFragment.objects.select_related("approved_by").order_by(
                "fragment_type", "start_time"
            ),
        )
    )


def production_get(*, user: Any, production_id: Any) -> CreativeProduction:
    return get_by_id_or_404(
        production_list(user=user), production_id, what="master creative"
    )


def productions_missing(*, user: Any, production_ids: list[UUID]) -> list[UUID]:
    """The ids among `production_ids` that name no master the user may see."""
    return ids_missing(production_list(user=user), production_ids)


def fragment_list(*, user: Any) -> QuerySet[CreativeFragment]:
    if not has_engine_role(user):
        return CreativeFragment.objects.none()
    return CreativeFragment.objects.select_related("approved_by")


def fragment_get(*, user: Any, fragment_id: Any) -> CreativeFragment:
    return get_by_id_or_404(fragment_list(user=user), fragment_id, what="fragment")


def fragments_missing(*, user: Any, fragment_ids: list[UUID]) -> list[UUID]:
    return ids_missing(fragment_list(user=user), fragment_ids)


def approved_fragment_ids(*, production_id: UUID) -> list[str]:
    """The one read the human-rules guard needs: the master's approved fragments now.

    Read before every render and twice per upload; the guard uses it as a set, so it
    is read unordered (the default order joins the master for its creation time)."""
    return [
        str(pk)
        for pk in CreativeFragment.objects.filter(
            master_creative_id=production_id, approved=True
        )
        .order_by()
        .values_list("pk", flat=True)
    ]
