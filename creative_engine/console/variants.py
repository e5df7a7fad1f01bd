"""Creatives: the grid marketers scan and the page that says what one variant did.

The grid shows each variant's poster (a small JPEG; the video loads only when played),
a status badge and the numbers a marketer sorts by, all from one aggregate query. The
variant page adds the daily chart with the fatigue baseline, the decision timeline in
plain language, the Meta calls and what the variant is made of. Promote, pause and archive are
offered with a confirmation dialog to staff who may steer variants, and call the same
services as the API; their refusals are shown as they are worded.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from unfold.decorators import action, display
from unfold.enums import ActionVariant
from unfold.forms import BaseDialogForm
from unfold.views import ChangeList

from creative_engine.console import queries
from creative_engine.console.charts import chart_options
from creative_engine.console.figures import money, on_objective, percent, times
from creative_engine.console.pages import (
    FiguredChangeList,
    PageContextMixin,
    badge,
    fieldset_fields,
    figure_column,
    hold_rate_column,
    hook_rate_column,
    objective_column,
    set_figures,
)
from creative_engine.console.timeline import TimelineEntry, timeline_entry
from productions.admin_permissions import EvidenceAdmin
from productions.choices import Objective
from productions.guard import actor_for_user
from productions.models import CreativeFragment
from promotion.choices import PromotionStatus
from promotion.daystats import day_stats_from_rows
from promotion.delivery import DeliveryTotals
from promotion.fatigue import FatigueAssessment, FatiguePolicy, assess_fatigue
from promotion.meta.errors import MetaError
from promotion.models import VariantDailyMetric
from promotion.selectors import master_objectives
from promotion.services.manual import (
    PromotionRefused,
    variant_archive,
    variant_pause_manual,
    variant_promote_manual,
)
from variants.choices import VariantStatus
from variants.models import CreativeVariant
from variants.naming import look_label, structure_label
from variants.rendering.errors import RenderError
from variants.services.lifecycle import VariantTransitionRefused

STATUS_TONES: dict[str, str] = {
    VariantStatus.ACTIVE: "success",
    VariantStatus.TESTING: "info",
    VariantStatus.RENDERED: "info",
    VariantStatus.UPLOADING: "warning",
    VariantStatus.RENDERING: "warning",
    VariantStatus.DRAFT: "warning",
    VariantStatus.PAUSED: "warning",
    VariantStatus.FATIGUED: "danger",
    VariantStatus.FAILED: "danger",
    VariantStatus.ARCHIVED: "default",
}
STEER_PERMISSION = "variants.change_creativevariant"
CHART_DAYS = 60
# The refusals a promotion service words for people; anything else is a bug.
REFUSALS = (PromotionRefused, VariantTransitionRefused, RenderError, MetaError)


class CreativeGrid(FiguredChangeList):
    """The grid's page of variants: sorted in the database, on the one delivery key
    the sort asks for, then only the page's rows are summed (`with_figures`)."""

    root_queryset: QuerySet[CreativeVariant]

    def get_queryset(
        self, request: HttpRequest, exclude_parameters: Any = None
    ) -> QuerySet[CreativeVariant]:
        ordering = self.get_ordering(request, self.root_queryset)
        keys = {str(key).lstrip("-") for key in ordering if isinstance(key, str)}
        self.root_queryset = queries.with_sort_keys(
            self.root_queryset, keys & queries.SORT_KEYS
        )
        return super().get_queryset(request, exclude_parameters)


def _done(request: HttpRequest, url: str) -> HttpResponse:
    """After a dialog's POST (htmx), send the browser to `url` to see the outcome."""
    if request.headers.get("HX-Request"):
        return HttpResponse(status=204, headers={"HX-Redirect": url})
    return HttpResponseRedirect(url)


class PromoteForm(BaseDialogForm):
    budget = forms.DecimalField(
        required=False,
        min_value=Decimal("1"),
        max_digits=10,
        decimal_places=2,
        help_text="Optional new daily budget for the ad set, in the account currency.",
    )
    force = forms.BooleanField(
        required=False,
        help_text="Waive the engine's cooldown; the human rules always hold.",
    )


class ReasonForm(BaseDialogForm):
    reason = forms.CharField(
        required=True,
        max_length=500,
        help_text="Shown on the variant's timeline and in the audit trail.",
    )


def variant_or_404(object_id: Any) -> CreativeVariant:
    """The variant a URL names; any id that is not one (malformed, unknown) is a 404,
    never a 500."""
    try:
        return CreativeVariant.objects.select_related("parent").get(pk=object_id)
    except (CreativeVariant.DoesNotExist, ValidationError, ValueError) as exc:
        raise Http404("No such variant.") from exc


def steering_action(
    label: str,
    *,
    icon: str,
    style: ActionVariant,
    explanation: str,
    form_class: type[BaseDialogForm],
    service: Callable[..., Any],
    arguments: Callable[[dict[str, Any]], dict[str, Any]],
    done: str,
) -> Any:
    """One steering button of a variant's page and grid row: a confirmation dialog
    with `form_class`, offered to and run only for staff who may steer, calling the
    `service` the API calls (`arguments` maps the dialog's answers to its keywords).
    `label` is the verb on the button: the action is `<label>_variant` and its dialog
    asks "<label> this variant?". A refusal is shown in the service's own words;
    `done` says what happened."""

    def act(
        model_admin: admin.ModelAdmin,
        request: HttpRequest,
        form: BaseDialogForm,
        object_id: str,
    ) -> HttpResponse:
        variant = variant_or_404(object_id)
        try:
            service(
                variant_id=variant.pk,
                actor=actor_for_user(request.user),
                **arguments(form.cleaned_data),
            )
        except REFUSALS as exc:
            messages.error(request, f"Not done: {exc}")
        else:
            messages.success(request, done.format(variant=variant))
        url = reverse("admin:variants_creativevariant_change", args=[variant.pk])
        return _done(request, url)

    act.__name__ = act.__qualname__ = f"{label.lower()}_variant"
    return action(
        description=label,
        icon=icon,
        permissions=["steer"],
        variant=style,
        dialog={
            "title": f"{label} this variant?",
            "description": explanation,
            "form_class": form_class,
            "form_submit_text": label,
        },
    )(act)


@admin.register(CreativeVariant)
class CreativeVariantAdmin(PageContextMixin, EvidenceAdmin):
    list_display = (
        "poster",
        "name",
        "status_badge",
        "objective_column",
        "spend",
        "ctr_column",
        "cvr_column",
        "roas_column",
        "cpa_column",
        "hook_rate_column",
        "hold_rate_column",
        "impressions",
        "generated_at",
    )
    list_display_links = ("name",)
    # A date filter (today, 7 days, this month), not a date hierarchy: its links
    # are a scan of every row's day.
    list_filter = (
        "generated_at",
        "status",
        "parent",
        "narrative_structure",
        "duration_category",
        "color_look",
        "is_fatigued",
        "mode",
    )
    search_fields = ("parent__title", "meta_ad_id", "caption", "text_overlay")
    list_per_page = 50
    ordering = ("-generated_at",)
    actions_detail = ["promote_variant", "pause_variant", "archive_variant"]
    actions_row = ["promote_variant", "pause_variant", "archive_variant"]
    change_form_before_template = "console/variant_page.html"
    fieldsets = (
        (
            "On Meta",
            {
                "fields": (
                    "status",
                    "upload_status",
                    "meta_ad_status",
                    "meta_ad_id",
                    "meta_creative_id",
                    "campaign_id",
                    "adset_id",
                    "failure_reason",
                    "parent",
                    "pixel_id",
                )
            },
        ),
        (
            "Engine",
            {
                "classes": ["collapse"],
                "fields": (
                    "batch_number",
                    "variant_number",
                    "variant_type",
                    "estimated_score",
                    "confidence",
                    "fatigue_score",
                    "generated_at",
                    "rendered_at",
                    "uploaded_at",
                    "activated_at",
                    "archived_at",
                    "mode",
                ),
            },
        ),
    )

    def get_readonly_fields(
        self, request: HttpRequest, obj: Any = None
    ) -> tuple[str, ...]:
        return fieldset_fields(self.fieldsets)

    def get_queryset(self, request: HttpRequest) -> QuerySet[CreativeVariant]:
        return super().get_queryset(request).select_related("parent")

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return CreativeGrid

    def with_figures(self, variants: list[CreativeVariant]) -> None:
        """Give each variant of a page its lifetime delivery and its master's
        objective: three queries, whatever the number of variants."""
        delivery = queries.delivery_by_variant([v.pk for v in variants])
        objectives = master_objectives(master_ids={v.parent_id for v in variants})
        for variant in variants:
            set_figures(
                variant,
                delivery.get(variant.pk, DeliveryTotals()),
                objectives.get(str(variant.parent_id), ""),
            )

    # --- the grid ------------------------------------------------------------------

    @display(description="")
    def poster(self, obj: CreativeVariant) -> str:
        if not obj.video_file:
            return "—"
        poster = obj.poster_file.url if obj.poster_file else ""
        return format_html(
            '<video class="ce-poster" src="{}" poster="{}" preload="none" controls '
            'playsinline width="54" height="96"></video>',
            obj.video_file.url,
            poster,
        )

    @display(description="Variant", ordering="parent__title")
    def name(self, obj: CreativeVariant) -> str:
        return str(obj)

    @display(description="Status", ordering="status")
    def status_badge(self, obj: CreativeVariant) -> SafeString:
        return badge(obj.get_status_display(), STATUS_TONES.get(obj.status, "info"))

    objective_column = objective_column
    spend = figure_column("Spend", lambda d: money(d.spend), ordering="total_spend")
    ctr_column = figure_column("CTR", lambda d: percent(d.ctr), ordering="ctr")
    cvr_column = figure_column("CVR", lambda d: percent(d.cvr, 1), ordering="cvr")
    roas_column = figure_column("ROAS", lambda d: times(d.roas), ordering="roas")
    cpa_column = figure_column("CPA", lambda d: money(d.cpa), ordering="cpa")
    hook_rate_column = hook_rate_column(ordering="hook_rate")
    hold_rate_column = hold_rate_column(ordering="hold_rate")
    impressions = figure_column(
        "Impressions", lambda d: f"{d.impressions:,}", ordering="total_impressions"
    )

    # --- the variant page ------------------------------------------------------------

    def page_context(
        self, request: HttpRequest, variant: CreativeVariant
    ) -> dict[str, Any]:
        return variant_page_context(variant)

    # --- steering ----------------------------------------------------------------------

    def has_steer_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.has_perm(STEER_PERMISSION))

    promote_variant = steering_action(
        "Promote",
        icon="trending_up",
        style=ActionVariant.PRIMARY,
        explanation=(
            "Its ad goes ACTIVE on Meta and it joins the winners. The human rules "
            "(approved fragments, pixels, subgenres, budget ceiling) always hold."
        ),
        form_class=PromoteForm,
        service=variant_promote_manual,
        arguments=lambda data: {
            "budget": data.get("budget"),
            "force": bool(data.get("force")),
        },
        done="{variant} promoted: its ad is ACTIVE.",
    )
    pause_variant = steering_action(
        "Pause",
        icon="pause_circle",
        style=ActionVariant.DEFAULT,
        explanation=(
            "Its ads are paused on Meta and it stops spending; it can be "
            "promoted again later."
        ),
        form_class=ReasonForm,
        service=variant_pause_manual,
        arguments=lambda data: {"reason": data["reason"]},
        done="{variant} paused: its ads are PAUSED.",
    )
    archive_variant = steering_action(
        "Archive",
        icon="archive",
        style=ActionVariant.DANGER,
        explanation=(
            "Its ads are archived on Meta and it stops spending. This cannot be undone."
        ),
        form_class=ReasonForm,
        service=variant_archive,
        arguments=lambda data: {"reason": data["reason"]},
        done="{variant} archived.",
    )


def variant_page_context(variant: CreativeVariant) -> dict[str, Any]:
    """Everything the variant page shows above its fields (a fixed number of queries)."""
    rows = queries.variant_daily_rows(variant_id=variant.pk)
    fatigue = _fatigue_assessment(rows)
    recent = [(row.date, DeliveryTotals.of_row(row)) for row in rows[-CHART_DAYS:]]
    lifetime = sum((DeliveryTotals.of_row(row) for row in rows), DeliveryTotals())
    objective = master_objectives(master_ids=[variant.parent_id]).get(
        str(variant.parent_id), ""
    )
    labels = [f"{date:%b} {date.day}" for date, _ in recent]
    chart: dict[str, Any] = {
        "labels": labels,
        "datasets": [
            {
                "label": "CTR %",
                "data": [_pct(d.ctr) for _, d in recent],
                "yAxisID": "y",
            },
            {
                "label": "CVR %",
                "data": [_pct(d.cvr) for _, d in recent],
                "yAxisID": "y",
            },
            {
                "label": "ROAS",
                "data": [
                    round(d.roas, 2) if d.roas is not None else None for _, d in recent
                ],
                "yAxisID": "y1",
            },
        ],
    }
    if fatigue is not None and fatigue.baseline_rate is not None:
        baseline = fatigue.baseline_rate * 100
        policy = FatiguePolicy()
        chart["datasets"] += [
            {
                "label": "Fatigue baseline (CTR %)",
                "data": [round(baseline, 3)] * len(recent),
                "borderDash": [6, 4],
                "pointRadius": 0,
            },
            {
                "label": f"{policy.min_drop:.0%} below baseline",
                "data": [round(baseline * (1 - policy.min_drop), 3)] * len(recent),
                "borderDash": [2, 3],
                "pointRadius": 0,
            },
        ]
    impressions_chart = {
        "labels": labels,
        "datasets": [
            {"label": "Impressions", "data": [d.impressions for _, d in recent]}
        ],
    }
    fragments = _fragments_of(variant)
    timeline: list[TimelineEntry] = [
        timeline_entry(
            promotion_type=log.promotion_type,
            details=log.decision_details or {},
            at=log.created_at,
            promoted_by=log.get_promoted_by_display(),
            # A decision row's `success` is about a Meta call it may not make; its
            # status says whether the decision was carried out.
            success=log.promotion_status != PromotionStatus.FAILED,
            error_message=log.error_message,
        )
        for log in queries.variant_decision_logs(variant_id=variant.pk)
    ]
    return {
        "variant": variant,
        "variant_name": str(variant),
        "structure_label": structure_label(variant.narrative_structure),
        "look_label": look_label(variant.color_look),
        "variant_fragments": fragments,
        "daily_chart": json.dumps(chart),
        "daily_chart_options": chart_options(
            left="% of impressions / clicks", right="ROAS"
        ),
        "impressions_chart": json.dumps(impressions_chart),
        "impressions_chart_options": chart_options(left="Impressions", bars=True),
        "has_days": bool(recent),
        "fatigue": fatigue,
        "lifetime": {
            "objective": on_objective(objective, lifetime) if objective else "—",
            "objective_name": Objective(objective).label if objective else "",
            "spend": money(lifetime.spend),
            "impressions": f"{lifetime.impressions:,}",
            "ctr": percent(lifetime.ctr),
            "roas": times(lifetime.roas),
            "cpa": money(lifetime.cpa),
            "hook_rate": percent(lifetime.hook_rate, 1),
            "hold_rate": percent(lifetime.hold_rate, 1),
        },
        "timeline": timeline,
        "meta_calls": queries.variant_meta_calls(variant_id=variant.pk),
    }


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 3)


@dataclass(frozen=True)
class UsedPiece:
    """One fragment as this variant plays it: what it is and which seconds of the
    master it takes."""

    kind: str
    label: str
    source_in: float
    source_out: float
    fragment: CreativeFragment | None

    @property
    def seconds(self) -> float:
        return self.source_out - self.source_in


def _fragments_of(variant: CreativeVariant) -> list[UsedPiece]:
    order = [item for item in variant.fragments_order or [] if isinstance(item, dict)]
    ids = [str(item.get("fragment_id")) for item in order]
    found = {
        str(f.pk): f for f in CreativeFragment.objects.filter(pk__in=ids).order_by()
    }
    pieces = []
    for item in order:
        fragment = found.get(str(item.get("fragment_id")))
        pieces.append(
            UsedPiece(
                kind=str(item.get("fragment_type", "")).upper(),
                label=fragment.label if fragment else "",
                source_in=float(item.get("source_in", 0.0)),
                source_out=float(item.get("source_out", 0.0)),
                fragment=fragment,
            )
        )
    return pieces


def _fatigue_assessment(rows: list[VariantDailyMetric]) -> FatigueAssessment | None:
    """Fatigue's verdict on today's data, by clicks per impression (None before any
    delivery): the chart draws its baseline and the 20 % line from it."""
    delivered = [r.date for r in rows if r.impressions > 0]
    if not delivered:
        return None
    since = min(delivered)  # the clock starts at the first day of delivery
    # The day after the last measured one: the stub market may run ahead of the clock.
    as_of = max(max(r.date for r in rows) + dt.timedelta(days=1), timezone.now().date())
    return assess_fatigue(
        days=day_stats_from_rows(rows),
        active_since=since,
        as_of=as_of,
        metric="ctr",
    )
