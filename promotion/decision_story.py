"""Decisions told in plain language: the sentence and the numbers a marketer reads.

Pure: plain data in, text out; no ORM. The engine records each decision as an action
plus a `details`/`numbers` dict (ranking, fatigue, budget, generation); the console
(run reports, the promotion log, the variant's timeline) shows the same sentence for
the same decision, so it is written once, here. Every key is optional: a dict written
by an older engine, or one with keys added later (an objective, say), still reads.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from variants.naming import structure_label

DEFAULT_TOP_N = 3

# What the engine did, as the first words of its sentence.
ACTION_LABELS: dict[str, str] = {
    "promote": "Promoted",
    "promote_top": "Promoted",
    "promote_manual": "Promoted by hand",
    "winner": "Promoted",
    "pause": "Paused",
    "demote": "Demoted",
    "keep_testing": "Kept testing",
    "keep_active": "Kept active",
    "hold_cooldown": "Held",
    "archive_fatigued": "Archived for fatigue",
    "archive": "Archived",
    "refresh": "Refreshed",
    "no_refresh": "Not refreshed",
    "generate": "Generated",
    "skip_master": "Skipped",
    "skip": "Skipped",
    "refuse": "Refused",
    "render": "Rendered",
    "upload": "Uploaded",
    "upload_refused": "Upload refused",
    "resume_upload": "Upload resumed",
    "best_structure": "Best structure",
    "budget": "Budget changed",
    "budget_change": "Budget changed",
    "scale": "Scaled",
    "test": "Testing",
    "insights": "Insights read",
}
# A dry run records "would_<action>": the sentence says what would have happened.
_WOULD_LABELS: dict[str, str] = {
    "promote": "Would promote",
    "pause": "Would pause",
    "demote": "Would demote",
    "archive_fatigued": "Would archive for fatigue",
    "refresh": "Would refresh",
    "generate": "Would generate",
    "render": "Would render",
    "upload": "Would upload",
    "resume_upload": "Would resume the upload",
    "budget": "Would change the budget",
}
# Which PromotionLog type stands for which decision (a log row names a type, not an
# action).
_LOG_TYPE_ACTIONS: dict[str, str] = {
    "winner": "promote",
    "pause": "pause",
    "archive": "archive",
    "budget": "budget",
    "scale": "scale",
    "test": "test",
    "upload": "upload",
    "insights": "insights",
}
_GATE_WORDS: dict[str, str] = {
    "age": "too new",
    "days": "few days",
    "impressions": "few impressions",
    "expected_events": "few expected results",
}
_METRIC_NAMES: dict[str, str] = {
    "ctr": "click-through rate",
    "cvr": "conversion rate",
    "roas": "ROAS",
    "cpa": "cost per result",
}


def action_label(action: str) -> str:
    """ "Promoted", "Would pause"…: the action as a person says it."""
    if action.startswith("would_"):
        base = action.removeprefix("would_")
        return _WOULD_LABELS.get(base, "Would " + _humanize(base).lower())
    return ACTION_LABELS.get(action, _humanize(action))


def action_for_log(promotion_type: str, operation: str = "") -> str:
    """The decision a PromotionLog row records, from its type and operation."""
    if operation in ACTION_LABELS and operation not in {"upload"}:
        return operation
    return _LOG_TYPE_ACTIONS.get(promotion_type, operation or promotion_type)


def decision_sentence(
    action: str,
    details: Mapping[str, Any] | None,
    *,
    on: dt.date | dt.datetime | None = None,
    reason: str = "",
) -> str:
    """One sentence: what was done (and when), and the evidence that decided it.

    "Promoted on Dec 5: 91 % chance of being in the top 3 on 15 days of data";
    "Paused on Dec 4: 2 % chance of top 3 (rank 13)". `reason` is the engine's own
    wording, used when the numbers say nothing more readable.
    """
    head = action_label(action)
    if on is not None:
        head += f" on {on:%b} {on.day}"
    body = decision_reason(action, details, reason=reason)
    return f"{head}: {body}" if body else head


def decision_reason(
    action: str, details: Mapping[str, Any] | None, *, reason: str = ""
) -> str:
    """The evidence half of the sentence alone ("2 % chance of top 3 (rank 13)"),
    for a table that shows the action in its own column; "" when nothing is known."""
    return _because(action.removeprefix("would_"), details or {}, reason)


def _because(action: str, details: Mapping[str, Any], reason: str) -> str:
    reason = reason or str(details.get("reason") or details.get("text") or "")
    gates = _failed_gates(details, reason)
    if gates:
        return "not enough evidence yet (" + ", ".join(gates) + ")"
    top_n = _top_n(details, reason)
    prob = _number(details.get("prob_top_n"))
    days = _number(details.get("days_used"))
    rank = _number(details.get("rank"))
    if action == "hold_cooldown" and reason:
        return _clean(reason)
    if prob is not None and action in {
        "promote",
        "promote_top",
        "winner",
        "keep_active",
    }:
        text = f"{_chance(prob)} chance of being in the top {top_n}"
        if days is not None:
            text += f" on {_plural(int(days), 'day')} of data"
        return text
    if prob is not None and action in {"pause", "demote", "keep_testing"}:
        text = f"{_chance(prob)} chance of top {top_n}"
        return text + (f" (rank {int(rank)})" if rank is not None else "")
    if action in {"archive_fatigued", "archive"} and "drop" in details:
        return _fatigue(details) or _clean(reason)
    if action in {"budget", "budget_change", "scale"} or (
        "new_daily_budget_minor" in details
    ):
        return _budget(details) or _clean(reason)
    if action == "best_structure" and "best" in details:
        return _best_structure(details) or _clean(reason)
    return _clean(reason)


def _best_structure(details: Mapping[str, Any]) -> str:
    campaign = details.get("campaign_id") or "no campaign"
    best = details.get("best")
    if not best:
        return f"campaign {campaign}: no structure leads yet"
    sure = "" if details.get("confident") else " (not yet confident)"
    return f"campaign {campaign}: {structure_label(str(best))} leads{sure}"


def _failed_gates(details: Mapping[str, Any], reason: str) -> list[str]:
    names = details.get("gate_reasons")
    if not isinstance(names, list | tuple):
        found = re.search(r"below the evidence gates \(([^)]*)\)", reason)
        names = [n.strip() for n in found.group(1).split(",")] if found else []
    return [_GATE_WORDS.get(str(n), _humanize(str(n)).lower()) for n in names if n]


def _top_n(details: Mapping[str, Any], reason: str) -> int:
    given = _number(details.get("top_n"))
    if given is not None:
        return int(given)
    found = re.search(r"top[ _(]*(\d+)", reason)
    return int(found.group(1)) if found else DEFAULT_TOP_N


def _fatigue(details: Mapping[str, Any]) -> str:
    drop = _number(details.get("drop"))
    if drop is None:
        return ""
    metric = _METRIC_NAMES.get(str(details.get("metric") or "ctr"), "rate")
    text = f"{metric} {_percent(drop, 0)} below its baseline"
    base = _number(details.get("baseline_rate"))
    recent = _number(details.get("recent_rate"))
    if base is not None and recent is not None:
        text += f" ({_percent(base)} → {_percent(recent)})"
    return text


def _budget(details: Mapping[str, Any]) -> str:
    current = _number(details.get("current_daily_budget_minor"))
    new = _number(details.get("new_daily_budget_minor"))
    if new is None:
        return ""
    text = f"daily budget {_minor(current)} → {_minor(new)}"
    ratio = _number(details.get("change_ratio"))
    if ratio is not None:
        text += f" ({_signed_percent(ratio)})"
    roas = _number(details.get("measured_roas"))
    if roas is not None:
        text += f"; ROAS {roas:.2f}×"
        spend = _number(details.get("spend_7d"))
        if spend is not None:
            text += f" on {spend:,.2f} spent in 7 days"
    return text


# --- a promotion log row's outcome -----------------------------------------------

OUTCOME_LABELS: dict[str, str] = {
    "succeeded": "Succeeded",
    "failed": "Failed",
    "refused": "Refused",
    "pending": "Pending",
}


def log_outcome(*, promotion_status: str, success: bool, operation: str = "") -> str:
    """ "succeeded", "failed", "refused" or "pending" for a PromotionLog row.

    A decision row (the engine chose, no Meta call) is written with status succeeded
    and `success` false, its reason in `error_message`; read naively it is a success
    with a red cross and an error. The status says what happened; a Meta call's
    `success` agrees with it; a refusal is work the engine declined on purpose.
    """
    if operation.endswith("_refused") or promotion_status == "skipped":
        return "refused"
    if success or promotion_status == "succeeded":
        return "succeeded"
    if promotion_status == "failed":
        return "failed"
    return "pending"


# --- the numbers, as a labelled table ------------------------------------------------

# Known keys in the order a person reads them, with how each is written.
_NUMBER_FORMATS: dict[str, tuple[str, str]] = {
    "prob_top_n": ("Chance of top {top_n}", "chance"),
    "rank": ("Rank", "int"),
    "days_used": ("Days of data", "int"),
    "metric": ("Judged on", "metric"),
    "objective": ("Objective", "text"),
    "posterior_mean": ("Estimated rate", "rate"),
    "successes": ("Results", "int"),
    "trials": ("Impressions", "int"),
    "current_daily_budget_minor": ("Daily budget before", "minor"),
    "new_daily_budget_minor": ("Daily budget after", "minor"),
    "change_ratio": ("Budget change", "signed"),
    "measured_roas": ("Measured ROAS", "times"),
    "measured_cpa": ("Measured cost per result", "money"),
    "spend_7d": ("Spend, last 7 days", "money"),
    "drop": ("Drop from baseline", "percent"),
    "baseline_rate": ("Baseline rate", "rate"),
    "recent_rate": ("Recent rate", "rate"),
    "fatigue_score": ("Fatigue score", "float"),
    "frequency_baseline": ("Frequency at baseline", "float"),
    "frequency_recent": ("Frequency now", "float"),
    "daily_impressions": ("Impressions a day", "int"),
    "live_variants": ("Live variants", "int"),
    "judging_capacity": ("Variants it can judge", "int"),
    "batch_size_cap": ("Batch size cap", "int"),
    "batch_diversity": ("Batch diversity", "float"),
    "running_ads": ("Ads running", "int"),
    "cap": ("Running-ads cap", "int"),
    "http_status": ("HTTP status", "int"),
    "duration_ms": ("Call took (ms)", "int"),
}
# Text already said by the sentence, or machinery no person needs.
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
_NOT_NUMBERS = frozenset(
    {"reason", "text", "call", "object_id", "gate_reasons", "ci_low", "ci_high"}
)


def decision_numbers(details: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, value) rows for a decision's details: known keys first, readable;
    any other scalar or short list after them, by its key made readable."""
    details = details or {}
    top_n = _top_n(details, str(details.get("reason") or ""))
    rows: list[tuple[str, str]] = []
    for key, (label, kind) in _NUMBER_FORMATS.items():
        if key in details and details[key] is not None:
            rows.append((label.format(top_n=top_n), _format(details[key], kind)))
        if key == "posterior_mean":
            low = _number(details.get("ci_low"))
            high = _number(details.get("ci_high"))
            if low is not None and high is not None:
                rows.append(("95 % interval", f"{_percent(low)} – {_percent(high)}"))
    for key, value in details.items():
        if key in _NUMBER_FORMATS or key in _NOT_NUMBERS or value is None:
            continue
        written = _format_other(value)
        if written:
            rows.append((_humanize(key), written))
    return rows


def key_numbers(
    details: Mapping[str, Any] | None,
    limit: int = 4,
    *,
    leave_out: Collection[str] = (),
) -> str:
    """The first few numbers, on one line: "Chance of top 3 91 % · Rank 2 · …";
    `leave_out` names keys a sentence beside them already says."""
    kept = {k: v for k, v in (details or {}).items() if k not in leave_out}
    return " · ".join(f"{k}: {v}" for k, v in decision_numbers(kept)[:limit])


def _format(value: Any, kind: str) -> str:
    number = _number(value)
    if kind == "text" or (number is None and kind != "metric"):
        return _format_other(value) or str(value)
    if kind == "metric":
        return _METRIC_NAMES.get(str(value), str(value)).capitalize()
    assert number is not None
    formats = {
        "chance": lambda: _chance(number),
        "int": lambda: f"{number:,.0f}",
        "rate": lambda: _percent(number),
        "percent": lambda: _percent(number, 0),
        "signed": lambda: _signed_percent(number),
        "times": lambda: f"{number:.2f}×",
        "money": lambda: f"{number:,.2f}",
        "minor": lambda: _minor(number),
        "float": lambda: f"{number:.3g}",
    }
    return formats.get(kind, lambda: str(value))()


def _format_other(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"
    if isinstance(value, str):
        return _plural(1, "id") if _UUID.fullmatch(value) else value
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if any(isinstance(v, str) and _UUID.fullmatch(v) for v in value):
            return _plural(len(value), "id")  # names live elsewhere: no bare UUIDs
        if len(value) > 5 or any(isinstance(v, Mapping | list) for v in value):
            return _plural(len(value), "item")
        return ", ".join(str(v) for v in value) or "none"
    return ""


# --- writing numbers -----------------------------------------------------------------


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _chance(p: float) -> str:
    """A probability as people say it: "91 %", never "0 %" or "100 %" when unsure."""
    if p <= 0:
        return "under 1 %"
    if p >= 1:
        return "100 %"
    if p < 0.01:
        return "under 1 %"
    if p > 0.99:
        return "over 99 %"
    return f"{p * 100:.0f} %"


def _percent(rate: float, decimals: int = 2) -> str:
    return f"{rate * 100:.{decimals}f} %"


def _signed_percent(ratio: float) -> str:
    return f"{ratio * 100:+.0f} %"


def _minor(amount: float | None) -> str:
    """An amount in minor units (cents) as a sum: 1250 → "12.50 a day"."""
    return "—" if amount is None else f"{amount / 100:,.2f} a day"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _humanize(key: str) -> str:
    return key.replace("_", " ").strip().capitalize()


def _clean(reason: str) -> str:
    """The engine's own wording, tidied: "P(top 3) = 0.020" reads as "2 % chance"."""

    def chance(match: re.Match[str]) -> str:
        return f"{_chance(float(match.group(2)))} chance of top {match.group(1)}"

    return re.sub(r"P\(top (\d+)\) = ([0-9.]+)", chance, reason.strip())
