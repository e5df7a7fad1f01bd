"""What the ranking is fed: a master's live variants as `Candidate`s, the policies as
the deployment configured them, and stable seeds, so every decision can be replayed."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from django.conf import settings

from promotion.budget import BudgetPolicy
from promotion.daystats import day_stats_from_rows
from promotion.fragment_scoring import fragment_ids_in_order, hook_fragment_id
from promotion.ranking import Candidate
from variants.models import CreativeVariant


def hours_between(later: dt.datetime, earlier: dt.datetime | None) -> float | None:
    """Hours from `earlier` to `later` (never negative); None without `earlier`."""
    if earlier is None:
        return None
    return max((later - earlier).total_seconds() / 3600.0, 0.0)


def candidates_for(
    variants: Sequence[CreativeVariant], *, as_of: dt.datetime
) -> list[Candidate]:
    return [
        Candidate(
            variant_id=str(v.pk),
            status=v.status,
            age_hours=hours_between(as_of, v.uploaded_at or v.generated_at) or 0.0,
            days=day_stats_from_rows(list(v.daily_metrics.all())),
            last_status_change_at_hours_ago=hours_between(as_of, v.status_changed_at),
            narrative_structure=v.narrative_structure,
            campaign_id=v.campaign_id or "",
            hook_fragment_id=hook_fragment_id(v.fragments_order),
            features=variant_features(v),
        )
        for v in variants
    ]


def variant_features(variant: CreativeVariant) -> tuple[str, ...]:
    """What a viewer sees besides the hook, as the attributes the ranking's prior
    shares between siblings (see `promotion.ranking.Candidate.features`)."""
    hook = hook_fragment_id(variant.fragments_order)
    fragments = [
        f"fragment:{f}"
        for f in fragment_ids_in_order(variant.fragments_order)
        if f != hook
    ]
    extra = [
        f"structure:{variant.narrative_structure}",
        f"length:{variant.duration_category}",
    ]
    if variant.color_look:
        extra.append(f"look:{variant.color_look}")
    return tuple(sorted(set(fragments))) + tuple(extra)


def budget_policy_from_settings() -> BudgetPolicy:
    """The ROAS engine's target and budget bounds as the deployment configured them."""
    return BudgetPolicy(
        target_roas=settings.ROAS_TARGET,
        min_daily_budget_minor=settings.ROAS_MIN_DAILY_BUDGET_MINOR,
        max_daily_budget_minor=settings.ROAS_MAX_DAILY_BUDGET_MINOR,
    )


def decision_seed(*parts: object) -> int:
    """A stable 63-bit seed from ids and dates: the same decision draws the same."""
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") & 0x7FFF_FFFF_FFFF_FFFF
