"""A variant's decisions as sentences a marketer reads: what was done, when, and why.

"Promoted on Dec 5: 91 % chance of being in the top 3 on 15 days of data (CTR)."
Pure: it reads a log row's type, time and decision numbers, nothing else.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ACTION_WORDS = {
    "promote": "Promoted",
    "keep": "Kept as a winner",
    "demote": "Moved back to testing",
    "pause": "Paused",
    "keep_testing": "Kept testing",
    "archive": "Archived",
    "hold": "Held",
}
METRIC_WORDS = {"ctr": "clicks per impression", "cvr": "conversions per impression"}
# Decision tones drawn as badge colours on the timeline.
ACTION_TONES = {
    "Promoted": "success",
    "Kept as a winner": "success",
    "Paused": "danger",
    "Archived": "danger",
    "Moved back to testing": "warning",
}


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    title: str
    sentence: str
    tone: str  # success / warning / danger / info
    by: str
    succeeded: bool


def _number(details: Mapping[str, Any], key: str) -> float | None:
    value = details.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def decision_sentence(
    *,
    promotion_type: str,
    details: Mapping[str, Any],
    at: dt.datetime,
    error_message: str = "",
) -> tuple[str, str]:
    """(title, sentence) for one decision row."""
    action = str(details.get("action") or promotion_type)
    title = ACTION_WORDS.get(action, action.replace("_", " ").capitalize())
    if promotion_type == "archive" and action not in ACTION_WORDS:
        title = "Archived"
    when = f"{at:%b} {at.day}"
    parts: list[str] = []
    chance = _number(details, "prob_top_n")
    days = _number(details, "days_used")
    if chance is not None:
        evidence = f" on {days:.0f} days of data" if days is not None else ""
        parts.append(f"{chance:.0%} chance of being in the top 3{evidence}")
    drop = _number(details, "drop")
    if drop is not None:
        parts.append(f"delivery fell {drop:.0%} from its baseline")
    metric = details.get("metric")
    if isinstance(metric, str) and metric in METRIC_WORDS and parts:
        parts[-1] += f" (judged by {METRIC_WORDS[metric]})"
    reason = details.get("reason")
    if isinstance(reason, str) and reason and not parts:
        parts.append(reason)
    actor = details.get("actor")
    if isinstance(actor, str) and actor:
        parts.append(f"by {actor}")
    if error_message:
        parts.append(f"Meta refused: {error_message}")
    sentence = f"{title} on {when}"
    if parts:
        sentence += ": " + "; ".join(parts)
    return title, sentence + "."


def timeline_entry(
    *,
    promotion_type: str,
    details: Mapping[str, Any],
    at: dt.datetime,
    promoted_by: str,
    success: bool,
    error_message: str = "",
) -> TimelineEntry:
    title, sentence = decision_sentence(
        promotion_type=promotion_type,
        details=details,
        at=at,
        error_message="" if success else error_message,
    )
    return TimelineEntry(
        at=at,
        title=title,
        sentence=sentence,
        tone=ACTION_TONES.get(title, "info") if success else "danger",
        by=promoted_by,
        succeeded=success,
    )
