"""Reads of variants, scoped to what the user may see, with query counts that do not
grow with the number of rows."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import QuerySet

from productions.roles import has_engine_role
from productions.selectors import get_by_id_or_404
from variants.choices import VariantStatus
from variants.models import CreativeVariant


def variant_list(*, user: Any) -> QuerySet[CreativeVariant]:
    """Variants; their serializers read only the row itself (parent by id), no joins."""
    if not has_engine_role(user):
        return CreativeVariant.objects.none()
    return CreativeVariant.objects.all()


def variant_get(*, user: Any, variant_id: Any) -> CreativeVariant:
    return get_by_id_or_404(variant_list(user=user), variant_id, what="variant")


def variants_of_master(*, user: Any, master_id: UUID) -> QuerySet[CreativeVariant]:
    """A master's variants, newest batch first, by number within a batch."""
    return (
        variant_list(user=user)
        .filter(parent_id=master_id)
        .order_by("-batch_number", "variant_number")
    )


def status_counts(variants: list[CreativeVariant]) -> dict[str, int]:
    """How many of `variants` are in each status (every status present, zeros
    included), plus `total`. Counted from the rows the caller already holds, so the
    counts and the list agree."""
    counts = dict.fromkeys(VariantStatus.values, 0)
    for variant in variants:
        counts[variant.status] = counts.get(variant.status, 0) + 1
    return {"total": len(variants), **counts}
