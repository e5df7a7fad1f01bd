"""Leaderboards: fragments and structures by what they delivered, with the evidence.

A page of the console reached from the daily metrics (its URL hangs off that admin,
so the same view permission opens it: every engine role may look, nobody changes
anything). Thin: the form reads the filters, `promotion.leaderboard_selectors` reads
the rows, `promotion.leaderboards` ranks them; this module only lays them out.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import forms
from django.contrib import admin
from django.urls import URLPattern, path
from django.views.generic import TemplateView
from unfold.views import UnfoldModelAdminViewMixin
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from creative_engine.console.queries import period_end
from productions.choices import FragmentType, NarrativeStructure
from promotion.leaderboard_selectors import (
    LeaderboardScope,
    leaderboard_filter_choices,
    leaderboard_variant_totals,
)
from promotion.leaderboards import (
    METRICS,
    Entry,
    Metric,
    rank_fragments,
    rank_structures,
    structures_by_campaign,
)
from variants.naming import structure_label

DEFAULT_DAYS = 30
CHART_ENTRIES = 10
TABLE_ENTRIES = 20  # a leaderboard's head; the rest is a long tail of the same
FRAGMENT_BOARDS = (
    (FragmentType.HOOK, "Hooks"),
    (FragmentType.BODY, "Bodies"),
    (FragmentType.CTA, "Calls to action"),
)
STRUCTURE_NAMES = {s.value: structure_label(s.value) for s in NarrativeStructure}


class _DateInput(UnfoldAdminTextInputWidget):
    input_type = "date"


class LeaderboardFilterForm(forms.Form):
    master = forms.ChoiceField(required=False, widget=UnfoldAdminSelectWidget)
    campaign = forms.ChoiceField(required=False, widget=UnfoldAdminSelectWidget)
    since = forms.DateField(required=False, widget=_DateInput)
    until = forms.DateField(required=False, widget=_DateInput)
    metric = forms.ChoiceField(
        required=False, choices=list(METRICS.items()), widget=UnfoldAdminSelectWidget
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        masters, campaigns = leaderboard_filter_choices()
        master, campaign = self.fields["master"], self.fields["campaign"]
        assert isinstance(master, forms.ChoiceField)
        assert isinstance(campaign, forms.ChoiceField)
        master.choices = [("", "All masters"), *masters]
        campaign.choices = [("", "All campaigns"), *((c, c) for c in campaigns)]

    def show_defaults(self, scope: LeaderboardScope) -> None:
        """Unbound (a first visit), the form shows the range it used."""
        if not self.is_bound:
            self.initial = {"since": scope.since, "until": scope.until}

    def scope(self, today: dt.date) -> tuple[LeaderboardScope, Metric]:
        """The filters chosen, defaulting to every master over the 30 days up to
        `today` (the newest measured day, if the stub market's clock is ahead)."""
        data = self.cleaned_data if self.is_valid() else {}
        until = data.get("until") or today
        since = data.get("since") or until - dt.timedelta(days=DEFAULT_DAYS - 1)
        if since > until:
            since, until = until, since
        metric: Metric = data.get("metric") or "ctr"  # type: ignore[assignment]
        scope = LeaderboardScope(
            since=since,
            until=until,
            master_id=data.get("master") or "",
            campaign_id=data.get("campaign") or "",
        )
        return scope, metric


def _value(entry: Entry, metric: Metric) -> str:
    if entry.value is None:
        return "—"
    return (
        f"{entry.value:.2f}×" if metric == "roas" else f"{entry.value * 100:.2f}\u00a0%"
    )


def _interval(entry: Entry, metric: Metric) -> str:
    if entry.interval is None:
        return f"on {entry.totals.spend:,.2f} spent" if metric == "roas" else "—"
    low, high = entry.interval
    return f"{low * 100:.2f} – {high * 100:.2f}\u00a0%"


def _table(entries: list[Entry], metric: Metric, *, detail: str) -> dict[str, Any]:
    headers = ["#", "Name"]
    if detail:
        headers.append(detail)
    headers += [
        METRICS[metric].split(" ")[0],
        "95 % interval" if metric != "roas" else "Evidence",
        "Impressions",
        "Clicks",
        "Conversions",
        "Spend",
        "ROAS",
        "Variants",
    ]
    rows = []
    for rank, e in enumerate(entries, start=1):
        row = [str(rank), e.label] + ([e.detail] if detail else [])
        t = e.totals
        row += [
            _value(e, metric),
            _interval(e, metric),
            f"{t.impressions:,}",
            f"{t.clicks:,}",
            f"{t.conversions:,}",
            f"{t.spend:,.2f}",
            "—" if t.roas is None else f"{t.roas:.2f}×",
            str(e.variants),
        ]
        rows.append(row)
    return {"headers": headers, "rows": rows}


def _chart(entries: list[Entry], metric: Metric) -> str:
    """Chart.js data for unfold's bar component (read from a data-value attribute by
    unfold's own script: no inline script, so the CSP holds)."""
    shown = [e for e in entries if e.value is not None][:CHART_ENTRIES]
    scale = 1.0 if metric == "roas" else 100.0
    datasets: list[dict[str, Any]] = [
        {
            "label": METRICS[metric].split(" ")[0] + ("" if metric == "roas" else " %"),
            "data": [round((e.value or 0.0) * scale, 3) for e in shown],
            "backgroundColor": "var(--color-primary-600)",
            # Read by unfold's chart defaults: wider bars and a labelled y axis.
            "maxBarThickness": 32,
            "displayYAxis": True,
            "suffixYAxis": "×" if metric == "roas" else "%",
        }
    ]
    return json.dumps({"labels": [e.label[:40] for e in shown], "datasets": datasets})


def _board(
    title: str, entries: list[Entry], metric: Metric, detail: str = ""
) -> dict[str, Any]:
    return {
        "title": title,
        "table": _table(entries[:TABLE_ENTRIES], metric, detail=detail),
        "more": max(len(entries) - TABLE_ENTRIES, 0),
        "chart": _chart(entries, metric) if entries else "",
        "empty": not entries,
    }


class LeaderboardsView(UnfoldModelAdminViewMixin, TemplateView):
    title = "Leaderboards"
    permission_required = ("promotion.view_variantdailymetric",)
    template_name = "console/leaderboards.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        form = LeaderboardFilterForm(self.request.GET or None)
        scope, metric = form.scope(period_end())
        form.show_defaults(scope)
        variants, fragments = leaderboard_variant_totals(scope)
        by_type = rank_fragments(variants, fragments, metric=metric)
        boards = [
            _board(title, by_type.get(kind, []), metric, detail="Master")
            for kind, title in FRAGMENT_BOARDS
        ]
        boards.append(
            _board(
                "Structures",
                rank_structures(
                    variants, metric=metric, structure_names=STRUCTURE_NAMES
                ),
                metric,
            )
        )
        campaigns = [
            _board(
                f"Structures in campaign {campaign or '(none)'}",
                entries,
                metric,
            )
            for campaign, entries in structures_by_campaign(
                variants, metric=metric, structure_names=STRUCTURE_NAMES
            ).items()
        ]
        return super().get_context_data(
            **kwargs,
            form=form,
            scope=scope,
            metric_label=METRICS[metric],
            boards=boards,
            campaign_boards=campaigns,
            variants_measured=len(variants),
        )


def leaderboard_urls(model_admin: admin.ModelAdmin) -> list[URLPattern]:
    """The page's URL under the admin that owns it, behind the admin's login."""
    view = model_admin.admin_site.admin_view(
        LeaderboardsView.as_view(model_admin=model_admin)
    )
    return [path("leaderboards/", view, name="promotion_leaderboards")]
