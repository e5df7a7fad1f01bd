"""What makes two ads the same to a viewer, and how different a batch is.

Meta's retrieval treats near-duplicate ads as one, so a variant must differ first in
what a viewer notices first: the opening and hook fragments, the structure, the length.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from itertools import combinations

from variants.planning.inputs import VariantPlan

# Weights of `plan_distance`: the first three (what a viewer notices first) carry 0.65.
DISTANCE_WEIGHTS: dict[str, float] = {
    "hook": 0.25,
    "structure": 0.2,
    "duration": 0.2,
    "caption": 0.15,
    "hashtags": 0.1,
    "look": 0.1,
}


def normalize_caption(caption: str) -> str:
    return " ".join(caption.casefold().split())


def plan_signature(
    *,
    opening_fragment_id: str,
    hook_fragment_id: str,
    structure: str,
    duration_category: str,
    duration_seconds: float,
    caption: str,
    color_look: str,
    hashtags: Sequence[str],
) -> str:
    """A stable hash of the viewer-visible identity of an ad.

    Length counts in whole seconds (a viewer cannot tell 10.0 s from 10.2 s); caption
    case and spacing and hashtag order do not count.
    """
    identity = {
        "opening": opening_fragment_id,
        "hook": hook_fragment_id,
        "structure": structure,
        "category": duration_category,
        "seconds": round(duration_seconds),
        "caption": normalize_caption(caption),
        "look": color_look,
        "hashtags": sorted(hashtags),
    }
    payload = json.dumps(identity, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def plan_distance(a: VariantPlan, b: VariantPlan) -> float:
    """0 (same ad to a viewer) ... 1 (differs in everything), per DISTANCE_WEIGHTS.

    Hook: 1 if the opening fragment differs, ½ if only the hook does. Duration: 1 if
    the category differs, else the length difference over 5 s, at most ½. Hashtags:
    Jaccard distance. The rest: 1 if different.
    """
    if a.opening_fragment_id != b.opening_fragment_id:
        hook = 1.0
    else:
        hook = 0.5 if a.hook_fragment_id != b.hook_fragment_id else 0.0
    if a.duration_category != b.duration_category:
        duration = 1.0
    else:
        duration = min(0.5, abs(a.duration_seconds - b.duration_seconds) / 5)
    tags_a, tags_b = set(a.hashtags), set(b.hashtags)
    union = tags_a | tags_b
    hashtags = 1 - len(tags_a & tags_b) / len(union) if union else 0.0
    parts = {
        "hook": hook,
        "structure": float(a.narrative_structure != b.narrative_structure),
        "duration": duration,
        "caption": float(normalize_caption(a.caption) != normalize_caption(b.caption)),
        "hashtags": hashtags,
        "look": float(a.color_look != b.color_look),
    }
    return sum(DISTANCE_WEIGHTS[k] * v for k, v in parts.items())


def batch_diversity(plans: Sequence[VariantPlan]) -> float:
    """Mean pairwise `plan_distance` of a batch (0 for fewer than two plans)."""
    pairs = list(combinations(plans, 2))
    if not pairs:
        return 0.0
    return round(sum(plan_distance(a, b) for a, b in pairs) / len(pairs), 4)
