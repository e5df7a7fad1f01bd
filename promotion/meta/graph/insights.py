"""What the Graph client asks of /insights, and how a row becomes an `InsightRow`.

Graph sends numbers as strings, omits metrics that are zero and reports purchases
under several action types; this module is where those facts live (§5.3).
Retention comes from two places: 3-second video views are the `video_view` entry
of `actions` (the hook rate's numerator), ThruPlays (15 s, or the whole video when
shorter) the `video_view` entry of `video_thruplay_watched_actions` (the hold
rate's).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from promotion.meta.protocol import InsightRow

# Purchases appear under several action types; count one, never their sum
# (§5.3). The first type present in a row is used for count and revenue alike.
DEFAULT_PURCHASE_ACTION_TYPES: tuple[str, ...] = (
    "omni_purchase",
    "purchase",
    "offsite_conversion.fb_pixel_purchase",
)
INSIGHT_FIELDS = (
    "ad_id",
    "date_start",
    "date_stop",
    "impressions",
    "reach",
    "frequency",
    "clicks",
    "spend",
    "actions",
    "action_values",
    "video_play_actions",
    "video_p25_watched_actions",
    "video_p50_watched_actions",
    "video_p75_watched_actions",
    "video_p100_watched_actions",
    "video_avg_time_watched_actions",
    "video_thruplay_watched_actions",
)
INSIGHTS_ADS_PER_REQUEST = 50


def parse_insight_row(
    row: Mapping[str, Any],
    *,
    purchase_action_types: Sequence[str] = DEFAULT_PURCHASE_ACTION_TYPES,
) -> InsightRow:
    """One Graph insights row (numbers as strings, missing metrics omitted)."""
    actions = _actions_by_type(row.get("actions"))
    values = _actions_by_type(row.get("action_values"))
    purchase_type = next((t for t in purchase_action_types if t in actions), None)
    conversions = actions.get(purchase_type, Decimal(0)) if purchase_type else 0
    revenue = values.get(purchase_type, Decimal(0)) if purchase_type else Decimal(0)
    return InsightRow(
        ad_id=str(row["ad_id"]),
        date=dt.date.fromisoformat(str(row["date_start"])),
        impressions=int(_decimal(row.get("impressions"))),
        reach=int(_decimal(row.get("reach"))),
        frequency=float(_decimal(row.get("frequency"))),
        clicks=int(_decimal(row.get("clicks"))),
        spend=_decimal(row.get("spend")),
        conversions=int(conversions),
        revenue=revenue,
        video_plays=int(_video_views(row, "video_play_actions")),
        video_p25=int(_video_views(row, "video_p25_watched_actions")),
        video_p50=int(_video_views(row, "video_p50_watched_actions")),
        video_p75=int(_video_views(row, "video_p75_watched_actions")),
        video_p100=int(_video_views(row, "video_p100_watched_actions")),
        video_avg_watch_seconds=float(
            _video_views(row, "video_avg_time_watched_actions")
        ),
        video_3s_views=int(actions.get("video_view", Decimal(0))),
        thruplays=int(_video_views(row, "video_thruplay_watched_actions")),
    )


def _decimal(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def _actions_by_type(items: Any) -> dict[str, Decimal]:
    if not isinstance(items, list):
        return {}
    return {
        str(item.get("action_type")): _decimal(item.get("value"))
        for item in items
        if isinstance(item, Mapping)
    }


def _video_views(row: Mapping[str, Any], name: str) -> Decimal:
    by_type = _actions_by_type(row.get(name))
    return by_type.get("video_view", sum(by_type.values(), Decimal(0)))
