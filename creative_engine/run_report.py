"""A cycle run told as a report: counts in words, step timings, decisions filtered.

Pure: a run's JSON columns in, rows for a page out. The cycle records machine keys
(`variants_generated`, `judged_pause`, step names); a person reads "15 generated ·
2 paused" and "Promote: 0.05 s".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from promotion.decision_story import action_label

# The headline, in this order: (word, the count keys that add up to it).
HEADLINE: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("generated", ("variants_generated",)),
    ("rendered", ("renders_dispatched",)),
    (
        "uploaded",
        ("uploads_dispatched", "variants_now_testing", "variants_now_active"),
    ),
    ("promoted", ("judged_promote",)),
    ("paused", ("judged_pause",)),
    ("archived", ("fatigued",)),
    ("failed", ("variants_now_failed",)),
)
COUNT_LABELS: dict[str, str] = {
    "insight_rows": "Insight rows read",
    "fragments_scored": "Fragments scored",
    "fatigued": "Archived for fatigue",
    "refreshes": "Refreshes written",
    "variants_generated": "Variants generated",
    "variants_planned": "Variants planned",
    "renders_dispatched": "Renders started",
    "uploads_dispatched": "Uploads started",
    "winners": "Winners",
}
STEP_LABELS: dict[str, str] = {
    "collect_insights": "Collect insights",
    "fatigue": "Fatigue",
    "generate": "Generate",
    "render_and_upload": "Render and upload",
    "promote": "Promote",
}


def step_label(step: str) -> str:
    return STEP_LABELS.get(step, step.replace("_", " ").capitalize())


def count_label(key: str) -> str:
    if key in COUNT_LABELS:
        return COUNT_LABELS[key]
    if key.startswith("judged_"):
        return "Judged: " + action_label(key.removeprefix("judged_")).lower()
    if key.startswith("variants_now_"):
        return "Variants now " + key.removeprefix("variants_now_").replace("_", " ")
    return key.replace("_", " ").capitalize()


def _as_int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def counts_in_words(
    counts: Mapping[str, Any] | None,
    *,
    errors: Sequence[Any] = (),
    refusals: Sequence[Any] = (),
) -> str:
    """ "15 generated · 15 rendered · 14 uploaded · 1 failed · 2 errors"; zeros left
    out, errors always said when there are any."""
    counts = counts or {}
    parts = []
    for word, keys in HEADLINE:
        n = sum(_as_int(counts.get(k)) for k in keys)
        if n:
            parts.append(f"{n} {word}")
    if errors:
        parts.append(f"{len(errors)} error{'s' if len(errors) != 1 else ''}")
    if refusals:
        parts.append(f"{len(refusals)} refused")
    return " · ".join(parts) or "nothing to do"


def count_rows(counts: Mapping[str, Any] | None) -> list[tuple[str, int]]:
    """Every count with its label, in the order the cycle wrote them."""
    return [(count_label(k), _as_int(v)) for k, v in (counts or {}).items()]


def timing_rows(timings: Mapping[str, Any] | None) -> list[tuple[str, float]]:
    """(step, seconds) in the order the steps ran."""
    rows = []
    for step, seconds in (timings or {}).items():
        try:
            rows.append((step_label(step), round(float(seconds), 3)))
        except (TypeError, ValueError):
            continue
    return rows


@dataclass(frozen=True)
class DecisionFilter:
    step: str = ""
    action: str = ""

    def keeps(self, decision: Mapping[str, Any]) -> bool:
        return (not self.step or decision.get("step") == self.step) and (
            not self.action or decision.get("action") == self.action
        )


def filter_decisions(
    decisions: Iterable[Any], wanted: DecisionFilter
) -> list[Mapping[str, Any]]:
    """The decisions the filter keeps (malformed entries are skipped)."""
    return [d for d in decisions if isinstance(d, Mapping) and wanted.keeps(d)]


def facets(decisions: Iterable[Any], key: str) -> list[tuple[str, int]]:
    """Each value of `key` (step or action) with how many decisions have it."""
    seen = Counter(str(d.get(key) or "") for d in decisions if isinstance(d, Mapping))
    return sorted(seen.items())
