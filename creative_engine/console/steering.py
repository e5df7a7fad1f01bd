"""Run a cycle now, preview a dry run, generate a batch now: the console's buttons for
what the API's POST /run and POST /generate do, through the same services.

Each is a page that says what will happen and asks to confirm (GET), then acts (POST)
and reports the outcome or the refusal as worded by the service. Only staff with an
engine role may steer; view-only staff are refused (403).
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods

from creative_engine.services.cycle import CycleAlreadyRunning, cycle_request
from creative_engine.services.generation import batch_generate_now
from creative_engine.tasks import cycle_queue
from productions.models import CreativeProduction
from productions.roles import has_engine_role
from variants.planning import PlanningError
from variants.services.generation import GenerationError


class CycleForm(forms.Form):
    master = forms.ModelChoiceField(
        queryset=CreativeProduction.objects.filter(is_active=True).order_by("title"),
        required=False,
        empty_label="Every active master",
        help_text="Limit the cycle to one master, or leave it for all of them.",
    )


def _require_steering(request: HttpRequest) -> None:
    if not has_engine_role(request.user):
        raise PermissionDenied("Only engine admins and managers steer the engine.")


def _page(request: HttpRequest, **context: Any) -> HttpResponse:
    return render(
        request,
        "console/confirm.html",
        {**admin.site.each_context(request), **context},
    )


@require_http_methods(["GET", "POST"])
def run_cycle_view(request: HttpRequest, *, dry_run: bool) -> HttpResponse:
    _require_steering(request)
    form = CycleForm(request.POST if request.method == "POST" else None)
    title = "Preview a dry run" if dry_run else "Run a cycle now"
    explanation = (
        "The engine plans a whole cycle (fatigue, generation, promotion) and records "
        "every decision it would take, without rendering, uploading or changing "
        "anything on Meta."
        if dry_run
        else "The engine collects insights, retires fatigued variants, generates and "
        "renders new ones, uploads them and promotes the best three, as the 12-hour "
        "schedule does. The schedule's own cycles still run."
    )
    if request.method == "POST" and form.is_valid():
        master = form.cleaned_data["master"]
        options = {"master_creative_ids": [str(master.pk)] if master else []}
        try:
            with transaction.atomic():
                run = cycle_request(
                    trigger="manual",
                    requested_by_id=request.user.pk,
                    options=options,
                    dry_run=dry_run,
                )
                cycle_queue(str(run.pk))
        except CycleAlreadyRunning as exc:
            messages.error(request, f"Not started: {exc}")
            return HttpResponseRedirect(reverse("admin:index"))
        messages.success(
            request,
            f"{'Dry run' if dry_run else 'Cycle'} requested; its report fills in as it "
            "runs.",
        )
        return HttpResponseRedirect(
            reverse("admin:creative_engine_cyclerun_change", args=[run.pk])
        )
    return _page(
        request,
        title=title,
        explanation=explanation,
        form=form,
        submit_label=title,
        cancel_url=reverse("admin:index"),
    )


class GenerateForm(forms.Form):
    count = forms.IntegerField(
        required=False,
        min_value=5,
        max_value=15,
        help_text="5–15; leave empty and the planner sizes the batch.",
    )


@require_http_methods(["GET", "POST"])
def generate_view(request: HttpRequest, master_id: str) -> HttpResponse:
    _require_steering(request)
    master = CreativeProduction.objects.filter(pk=master_id).first()
    if master is None:
        messages.error(request, "That master does not exist (any more).")
        return HttpResponseRedirect(
            reverse("admin:productions_creativeproduction_changelist")
        )
    master_url = reverse(
        "admin:productions_creativeproduction_change", args=[master.pk]
    )
    form = GenerateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            created = batch_generate_now(
                master_id=master.pk, count=form.cleaned_data["count"]
            )
        except (GenerationError, PlanningError) as exc:
            messages.error(request, f"No batch generated: {exc}")
            return HttpResponseRedirect(master_url)
        messages.success(
            request,
            f"{len(created)} variants of {master.title} planned; their renders are "
            "queued.",
        )
        return HttpResponseRedirect(
            reverse("admin:variants_creativevariant_changelist")
            + f"?parent__id__exact={master.pk}"
        )
    return _page(
        request,
        title=f"Generate variants of {master.title} now",
        explanation=(
            "The planner recombines the approved fragments into a new batch (three "
            "structures, three lengths, captions, approved hashtags, looks), guided by "
            "what this master's delivery has taught; the renders are queued at once. "
            "Only approved material is used."
        ),
        form=form,
        submit_label="Generate",
        cancel_url=master_url,
    )


def steering_urls() -> list[Any]:
    """Mounted under the admin (config/urls.py), behind its login."""
    view = admin.site.admin_view
    return [
        path(
            "run-cycle/",
            view(run_cycle_view),
            {"dry_run": False},
            name="console_run_cycle",
        ),
        path(
            "dry-run/",
            view(run_cycle_view),
            {"dry_run": True},
            name="console_dry_run",
        ),
        path(
            "masters/<uuid:master_id>/generate/",
            view(generate_view),
            name="console_generate",
        ),
    ]
