"""Hashtags from the approved set only: style guide tags plus authorized subgenres."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

from productions.guard import approved_hashtags, normalize_hashtag
from variants.planning.inputs import MasterInput, PerformanceHints
from variants.planning.scoring import hint_score

DEFAULT_MAX_HASHTAGS = 5
# Fewer than this reads as an accident; more than the maximum reads as spam.
MIN_HASHTAGS = 3


def approved_hashtag_set(master: MasterInput) -> tuple[str, ...]:
    """The approved tags, normalized ('#indiepop'), in the order humans listed them."""
    return tuple(
        approved_hashtags(
            style_guide=master.style_guide,
            authorized_subgenres=master.authorized_subgenres,
        )
    )


def choose_hashtags(
    *,
    approved: Sequence[str],
    hints: PerformanceHints,
    rng: random.Random,
    used: Counter[str],
    max_count: int = DEFAULT_MAX_HASHTAGS,
) -> tuple[str, ...]:
    """A bounded, varied subset: better tags first, reuse within the batch damped.

    The count varies between MIN_HASHTAGS and `max_count` (fewer when fewer are
    approved), so hashtag sets differ in size as well as in members.
    """
    if not approved or max_count <= 0:
        return ()
    scores = {normalize_hashtag(k): v for k, v in hints.hashtag_scores.items()}
    upper = min(max_count, len(approved))
    count = rng.randint(min(MIN_HASHTAGS, upper), upper)
    ranked = sorted(
        approved,
        key=lambda tag: (
            -(hint_score(scores, tag) + rng.gauss(0.0, 0.1) - 0.05 * used[tag]),
            tag,
        ),
    )
    return tuple(ranked[:count])
