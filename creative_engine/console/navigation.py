"""The console's sidebar: the marketer's pages first, evidence next, settings last.

Each item is shown only to someone who may view its page (the page checks again).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

# (group title, [(title, icon, url name, permission needed to see it)])
SIDEBAR: list[tuple[str, list[tuple[str, str, str, str | None]]]] = [
    (
        "Engine",
        [
            ("Dashboard", "space_dashboard", "admin:index", None),
            (
                "Creatives",
                "movie",
                "admin:variants_creativevariant_changelist",
                "variants.view_creativevariant",
            ),
            (
                "Masters",
                "video_library",
                "admin:productions_creativeproduction_changelist",
                "productions.view_creativeproduction",
            ),
            (
                "Fragments",
                "content_cut",
                "admin:productions_creativefragment_changelist",
                "productions.view_creativefragment",
            ),
            (
                "Cycle runs",
                "autorenew",
                "admin:creative_engine_cyclerun_changelist",
                "creative_engine.view_cyclerun",
            ),
            (
                "Leaderboards",
                "leaderboard",
                "admin:promotion_leaderboards",
                "promotion.view_variantdailymetric",
            ),
        ],
    ),
    (
        "Evidence",
        [
            (
                "Meta calls and decisions",
                "receipt_long",
                "admin:promotion_promotionlog_changelist",
                "promotion.view_promotionlog",
            ),
            (
                "Daily metrics",
                "monitoring",
                "admin:promotion_variantdailymetric_changelist",
                "promotion.view_variantdailymetric",
            ),
            (
                "Approval audit",
                "verified_user",
                "admin:productions_approvalaudit_changelist",
                "productions.view_approvalaudit",
            ),
        ],
    ),
    (
        "Settings",
        [
            (
                "Schedule",
                "schedule",
                "admin:django_celery_beat_periodictask_changelist",
                "django_celery_beat.view_periodictask",
            ),
            ("People", "group", "admin:auth_user_changelist", "auth.view_user"),
            ("Roles", "badge", "admin:auth_group_changelist", "auth.view_group"),
            (
                "API tokens",
                "key",
                "admin:authtoken_tokenproxy_changelist",
                "authtoken.view_tokenproxy",
            ),
            (
                "Login attempts",
                "lock",
                "admin:axes_accessattempt_changelist",
                "axes.view_accessattempt",
            ),
        ],
    ),
]


def _permission_check(permission: str | None) -> Any:
    def check(request: HttpRequest) -> bool:
        return permission is None or bool(request.user.has_perm(permission))

    return check


def sidebar_navigation(request: HttpRequest) -> list[dict[str, Any]]:
    """unfold's SIDEBAR["navigation"], built per request."""
    return [
        {
            "title": title,
            "separator": True,
            "items": [
                {
                    "title": name,
                    "icon": icon,
                    "link": reverse(url_name),
                    "permission": _permission_check(permission),
                }
                for name, icon, url_name, permission in items
            ],
        }
        for title, items in SIDEBAR
    ]
