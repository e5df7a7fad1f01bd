"""What the fake Meta holds, and the helpers tests seed it with."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any


@dataclass
class FakeGraphState:
    """What the fake Meta holds. Tests may read and seed it directly."""

    account_id: str = "act_1001"
    page_id: str = "2002"
    videos: dict[str, dict[str, Any]] = field(default_factory=dict)
    upload_sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    creatives: dict[str, dict[str, Any]] = field(default_factory=dict)
    ads: dict[str, dict[str, Any]] = field(default_factory=dict)
    adsets: dict[str, dict[str, Any]] = field(default_factory=dict)
    insights: list[dict[str, Any]] = field(default_factory=list)
    # What the preflight reads: the ad account and the Pages the token may use.
    # Error modes: account_status 2 (disabled), 3 (unsettled), 101 (closed); a spend
    # cap (minor units, as strings) reached by amount_spent; a Page removed.
    account: dict[str, Any] = field(
        default_factory=lambda: {
            "name": "Fake ad account",
            "account_status": 1,
            "disable_reason": 0,
            "currency": "USD",
            "spend_cap": "0",
            "amount_spent": "0",
        }
    )
    pages: dict[str, dict[str, Any]] = field(default_factory=dict)
    chunk_size: int = 1024 * 1024  # the window the server hands out per transfer
    video_processing_polls: int = 1  # status polls answered "processing" first
    video_final_status: str = "ready"  # or "error"
    # What Meta reports back for creative_features_spec may differ from what was
    # sent (features it adds or overrides): feature -> enroll_status.
    creative_feature_overrides: dict[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.time
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000))
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        self.pages.setdefault(self.page_id, {"id": self.page_id, "name": "Fake Page"})

    def new_id(self) -> str:
        return str(120210000000000000 + next(self._ids))

    def add_adset(
        self,
        adset_id: str | None = None,
        *,
        campaign_id: str = "120200000000000001",
        daily_budget: int | None = 5000,
        status: str = "ACTIVE",
        name: str = "Prospecting",
    ) -> str:
        """Seed an ad set; `daily_budget=None` means the campaign holds the budget."""
        with self.lock:
            adset_id = adset_id or self.new_id()
            self.adsets[adset_id] = {
                "id": adset_id,
                "name": name,
                "campaign_id": campaign_id,
                "account_id": self.account_id.removeprefix("act_"),
                "daily_budget": daily_budget,
                "status": status,
                "budget_changes": [],  # epoch seconds of accepted changes
            }
            return adset_id

    def seed_insight(
        self,
        ad_id: str,
        day: date,
        *,
        impressions: int = 1000,
        reach: int = 800,
        clicks: int = 40,
        spend: str = "12.50",
        purchases: int = 0,
        revenue: str = "0",
        video_plays: int = 0,
        video_p25: int = 0,
        video_p50: int = 0,
        video_p75: int = 0,
        video_p100: int = 0,
        video_avg_seconds: str = "0",
        video_3s_views: int = 0,
        thruplays: int = 0,
    ) -> dict[str, Any]:
        """One ad-day row the way Meta returns it: numbers as strings, metrics
        without data omitted, purchases reported under several action types."""
        row: dict[str, Any] = {
            "account_id": self.account_id.removeprefix("act_"),
            "ad_id": ad_id,
            "date_start": day.isoformat(),
            "date_stop": day.isoformat(),
            "impressions": str(impressions),
            "reach": str(reach),
            "frequency": _num(Decimal(impressions) / Decimal(reach or 1)),
            "clicks": str(clicks),
            "ctr": _num(Decimal(clicks * 100) / Decimal(impressions or 1)),
            "spend": spend,
            "cpm": _num(Decimal(spend) * 1000 / Decimal(impressions or 1)),
        }
        actions = [{"action_type": "link_click", "value": str(clicks)}]
        if video_3s_views:
            actions.append({"action_type": "video_view", "value": str(video_3s_views)})
        values = []
        if purchases:
            for kind in (
                "purchase",
                "omni_purchase",
                "offsite_conversion.fb_pixel_purchase",
            ):
                actions.append({"action_type": kind, "value": str(purchases)})
                values.append({"action_type": kind, "value": revenue})
        row["actions"] = actions
        if values:
            row["action_values"] = values
        for name, count in (
            ("video_play_actions", video_plays),
            ("video_p25_watched_actions", video_p25),
            ("video_p50_watched_actions", video_p50),
            ("video_p75_watched_actions", video_p75),
            ("video_p100_watched_actions", video_p100),
            ("video_thruplay_watched_actions", thruplays),
        ):
            if count:
                row[name] = [{"action_type": "video_view", "value": str(count)}]
        if video_avg_seconds != "0":
            row["video_avg_time_watched_actions"] = [
                {"action_type": "video_view", "value": video_avg_seconds}
            ]
        with self.lock:
            self.insights.append(row)
        return row

    def finished_videos(self) -> list[dict[str, Any]]:
        return [v for v in self.videos.values() if v["uploading"] == "complete"]


def _num(value: Decimal) -> str:
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def days(since: date, until: date) -> Iterator[date]:
    """Every day from `since` to `until` inclusive (seeding helper)."""
    current = since
    while current <= until:
        yield current
        current += timedelta(days=1)
