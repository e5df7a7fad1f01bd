"""Cycle runs as reports: what each run did and why.

The list says each run's outcome in words; a run's page is a report: its summary,
errors and refusals first, then every decision as a sentence with its numbers,
filterable by step and action (GET parameters), with its counts and step timings.
Read-only (EvidenceAdmin): the engine writes runs, nobody edits them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString
from unfold.decorators import display

from creative_engine.console.pages import PageContextMixin, badge
from creative_engine.models import CycleRun, RunStatus
from creative_engine.run_report import (
    DecisionFilter,
    count_rows,
    counts_in_words,
    facets,
    filter_decisions,
    step_label,
    timing_rows,
)
from productions.admin_permissions import EvidenceAdmin
from productions.models import CreativeProduction
from promotion.decision_story import action_label, decision_reason, key_numbers
from variants.models import CreativeVariant

# The "Why" column already says these; the numbers column adds the rest.
SAID_BY_THE_SENTENCE = frozenset({"prob_top_n", "rank", "days_used"})
DECISIONS_PER_PAGE = 100
STATUS_BADGES: dict[str, str] = {
    RunStatus.QUEUED: "info",
    RunStatus.RUNNING: "info",
    RunStatus.SUCCEEDED: "success",
    RunStatus.PARTIAL: "warning",
    RunStatus.FAILED: "danger",
    RunStatus.REFUSED: "warning",
}


def _duration(run: CycleRun) -> str:
    if not (run.started_at and run.finished_at):
        return "—"
    seconds = (run.finished_at - run.started_at).total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


def _ids(entries: Iterable[Any], key: str) -> set[uuid.UUID]:
    found = set()
    for entry in entries:
        if not isinstance(entry, Mapping) or not entry.get(key):
            continue
        try:
            found.add(uuid.UUID(str(entry[key])))
        except ValueError:
            continue
    return found


def names_for(
    entries: list[Any],
) -> tuple[dict[str, CreativeVariant], dict[str, str]]:
    """The variants (with their master, for their names) and the masters' titles the
    entries mention: one query each, however many entries."""
    variants = {
        str(v.pk): v
        for v in CreativeVariant.objects.filter(
            pk__in=_ids(entries, "variant_id")
        ).select_related("parent")
    }
    masters = {
        str(pk): title
        for pk, title in CreativeProduction.objects.filter(
            pk__in=_ids(entries, "master_id")
        ).values_list("id", "title")
    }
    return variants, masters


def _variant_cell(variant_id: Any, variants: Mapping[str, CreativeVariant]) -> str:
    if not variant_id:
        return ""
    variant = variants.get(str(variant_id))
    if variant is None:
        return "(a variant since deleted)"
    url = reverse("admin:variants_creativevariant_change", args=[variant.pk])
    return format_html('<a href="{}" class="text-primary-600">{}</a>', url, variant)


def _master_cell(master_id: Any, masters: Mapping[str, str]) -> str:
    if not master_id:
        return ""
    return masters.get(str(master_id), "(a master since deleted)")


def run_report(run: CycleRun, wanted: DecisionFilter, page: Any = 1) -> dict[str, Any]:
    """Everything the report shows, ready for the template (two queries). Decisions
    come `DECISIONS_PER_PAGE` at a time: a cycle over many masters judges hundreds of
    variants, and each row is a sentence to write and a link to draw."""
    decisions = run.decisions if isinstance(run.decisions, list) else []
    errors = run.errors if isinstance(run.errors, list) else []
    refusals = run.refusals if isinstance(run.refusals, list) else []
    # Any page a URL asks for: out of range (0, below, past the end) is the last one,
    # a word the first.
    decisions_page = Paginator(
        filter_decisions(decisions, wanted), DECISIONS_PER_PAGE
    ).get_page(page)
    shown = list(decisions_page.object_list)
    variants, masters = names_for([*shown, *refusals])
    decision_rows = [
        {
            "step": step_label(str(d.get("step") or "")),
            "variant": _variant_cell(d.get("variant_id"), variants),
            "master": _master_cell(d.get("master_id"), masters),
            "action": action_label(str(d.get("action") or "")),
            "reason": decision_reason(
                str(d.get("action") or ""),
                d.get("numbers") if isinstance(d.get("numbers"), Mapping) else {},
                reason=str(d.get("reason") or ""),
            ),
            "numbers": key_numbers(
                d.get("numbers") if isinstance(d.get("numbers"), Mapping) else {},
                leave_out=SAID_BY_THE_SENTENCE,
            ),
        }
        for d in shown
    ]
    timings = timing_rows(run.timings if isinstance(run.timings, dict) else {})
    return {
        "errors": {
            "headers": ("Step", "Error"),
            "rows": [
                (step_label(str(e.get("step") or "")), e.get("error", ""))
                for e in errors
                if isinstance(e, Mapping)
            ],
        },
        "refusals": {
            "headers": ("Step", "Master", "Variant", "Why"),
            "rows": [
                (
                    step_label(str(r.get("step") or "")),
                    _master_cell(r.get("master_id"), masters),
                    _variant_cell(r.get("variant_id"), variants),
                    r.get("error", ""),
                )
                for r in refusals
                if isinstance(r, Mapping)
            ],
        },
        "recoveries": {
            "headers": ("When", "What", "It was", "Why"),
            "rows": [
                (row["at"], row["action"], row["was"], row["reason"])
                for row in recovery_rows(
                    run.recoveries if isinstance(run.recoveries, list) else []
                )
            ],
        },
        "decisions": decision_rows,
        "decisions_total": len(decisions),
        "decisions_page": decisions_page,
        "decisions_pages": _page_links(decisions_page, wanted),
        "filter": wanted,
        # The filter's two selects: what each offers, with how many decisions.
        "facets": [
            {
                "name": key,
                "label": key.capitalize(),
                "every": every,
                "options": [(v, label(v), n) for v, n in facets(decisions, key)],
                "selected": getattr(wanted, key),
            }
            for key, label, every in (
                ("step", step_label, f"Every step ({len(decisions)})"),
                ("action", action_label, "Every action"),
            )
        ],
        "counts": count_rows(run.counts if isinstance(run.counts, dict) else {}),
        "timings": timings,
        "timings_total": round(sum(s for _, s in timings), 3),
        "timings_chart": json.dumps(
            {
                "labels": [step for step, _ in timings],
                "datasets": [
                    {
                        "label": "Seconds",
                        "data": [s for _, s in timings],
                        "backgroundColor": "var(--color-primary-600)",
                        "maxBarThickness": 32,
                        "displayYAxis": True,
                        "suffixYAxis": "s",
                    }
                ],
            }
        ),
    }


def _page_links(page: Page, wanted: DecisionFilter) -> dict[str, str]:
    """The previous and next pages' query strings, keeping the filter."""
    links = {}
    for name, has, number in (
        ("previous", page.has_previous(), page.number - 1),
        ("next", page.has_next(), page.number + 1),
    ):
        if has:
            links[name] = "?" + urlencode(
                {
                    key: value
                    for key, value in (
                        ("step", wanted.step),
                        ("action", wanted.action),
                        ("page", str(number)),
                    )
                    if value
                }
            )
    return links


RECOVERY_LABELS = {
    "resend": "Sent again",
    "resume": "Resumed",
    "expire": "Given up",
}


def recovery_rows(recoveries: list[Any]) -> list[dict[str, str]]:
    """What the 2-minute check (or a request that found the run's worker gone) did to
    this scheduled run, oldest first: when, what, from which state, and why."""
    rows = []
    for entry in recoveries:
        if not isinstance(entry, Mapping):
            continue
        at = parse_datetime(str(entry.get("at") or ""))
        action = str(entry.get("action") or "")
        was = str(entry.get("was") or "")
        rows.append(
            {
                "at": f"{at:%b %d, %H:%M:%S}" if at else "",
                "action": RECOVERY_LABELS.get(action, action.replace("_", " ")),
                "was": RunStatus(was).label if was in RunStatus.values else was,
                "reason": str(entry.get("reason") or ""),
            }
        )
    return rows


@admin.register(CycleRun)
class CycleRunAdmin(PageContextMixin, EvidenceAdmin):
    list_display = (
        "created_at",
        "trigger",
        "status_badge",
        "clock",
        "duration",
        "outcome_in_words",
        "dry_run",
        "mode",
    )
    # A date filter (today, 7 days, this month), not a date hierarchy: its links
    # are a scan of every row's day.
    list_filter = ("created_at", "status", "trigger", "dry_run", "mode")
    fieldsets = (
        (
            "Run details",
            {
                "fields": (
                    "status",
                    "trigger",
                    "as_of",
                    "started_at",
                    "finished_at",
                    "dry_run",
                    "mode",
                    "requested_by",
                )
            },
        ),
    )
    readonly_fields = (
        "status",
        "outcome_in_words",
        "trigger",
        "as_of",
        "started_at",
        "finished_at",
        "duration",
        "dry_run",
        "mode",
        "requested_by",
    )
    change_form_outer_before_template = "console/runs_header.html"
    change_form_outer_after_template = "console/runs_report.html"

    def page_context(self, request: HttpRequest, run: CycleRun) -> dict[str, Any]:
        wanted = DecisionFilter(
            step=request.GET.get("step", ""), action=request.GET.get("action", "")
        )
        return {
            "run_header": {
                "status": run.get_status_display(),
                "badge": STATUS_BADGES.get(run.status, "info"),
                "words": self.outcome_in_words(run),
                "clock": f"{run.as_of:%b %d, %Y %H:%M}",
                "duration": _duration(run),
                "dry_run": run.dry_run,
                "trigger": run.get_trigger_display(),
            },
            "report": run_report(run, wanted, request.GET.get("page", 1)),
        }

    def get_preserved_filters(self, request: HttpRequest) -> str:
        # The report's own ?step=&action= are not the changelist's filters.
        return (
            ""
            if {"step", "action", "page"} & set(request.GET)
            else (super().get_preserved_filters(request))
        )

    @display(description="Status", ordering="status")
    def status_badge(self, run: CycleRun) -> SafeString:
        return badge(run.get_status_display(), STATUS_BADGES.get(run.status, "info"))

    @display(description="Clock", ordering="as_of")
    def clock(self, run: CycleRun) -> str:
        return f"{run.as_of:%b %d, %H:%M}"

    @display(description="Duration")
    def duration(self, run: CycleRun) -> str:
        return _duration(run)

    @display(description="What it did")
    def outcome_in_words(self, run: CycleRun) -> str:
        return counts_in_words(
            run.counts if isinstance(run.counts, dict) else {},
            errors=run.errors if isinstance(run.errors, list) else [],
            refusals=run.refusals if isinstance(run.refusals, list) else [],
        )
