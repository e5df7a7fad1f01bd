"""A variant's decisions as a timeline: each row's sentence (promotion.decision_story
words it), who acted, and a colour for what it did to the variant's spend.

Pure: it reads a log row's type, time and decision numbers, nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from promotion.decision_story import action_label, decision_sentence

# Decision tones drawn as badge colours on the timeline.
ACTION_TONES = {
    "promote": "success",
    "keep": "success",
    "pause": "danger",
    "archive": "danger",
    "demote": "warning",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    title: str
    sentence: str
    tone: str  # success / warning / danger / info
    by: str
    succeeded: bool


def timeline_entry(
    *,
    promotion_type: str,
    details: Mapping[str, Any],
    at: dt.datetime,
    promoted_by: str,
    success: bool,
    error_message: str = "",
) -> TimelineEntry:
    """One row: the decision's own action when it names one, else the log's type."""
    action = str(details.get("action") or promotion_type)
    sentence = decision_sentence(action, details, on=at)
    actor = details.get("actor")
    if isinstance(actor, str) and actor:
        sentence += f", by {actor}"
    if not success and error_message:
        sentence += f". Meta refused: {error_message}"
    return TimelineEntry(
        at=at,
        title=action_label(action),
        sentence=sentence + ".",
        tone=ACTION_TONES.get(action.removeprefix("would_"), "info")
        if success
        else "danger",
        by=promoted_by,
        succeeded=success,
    )
