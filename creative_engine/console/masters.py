"""The master list and page, with what the engine adds: each master's objective and
its measured value on it, and the buttons to generate variants now and to see the
master's creatives. The page itself (upload, cutter, style guide, rules) is
productions' own admin; the console only adds what needs the engine above it."""

from __future__ import annotations

import uuid
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from unfold.decorators import action
from unfold.views import ChangeList

from creative_engine.console.pages import (
    FiguredChangeList,
    hold_rate_column,
    hook_rate_column,
    objective_column,
    set_figures,
)
from creative_engine.console.queries import delivery_by_master
from creative_engine.console.registry import reregister
from productions.admin import CreativeProductionAdmin
from productions.models import CreativeProduction
from productions.roles import has_engine_role
from promotion.delivery import DeliveryTotals
from promotion.selectors import master_objectives


class ConsoleMasterAdmin(CreativeProductionAdmin):
    # The list adds what the engine measured: each master's objective and its
    # variants' lifetime value on it, with their hook and hold rates.
    list_display = (
        *CreativeProductionAdmin.list_display[:2],
        "objective_column",
        "hook_rate_column",
        "hold_rate_column",
        *CreativeProductionAdmin.list_display[2:],
    )
    # Read for the page's masters only, the figures do not sort the list.
    objective_column = objective_column
    hook_rate_column = hook_rate_column()
    hold_rate_column = hold_rate_column()
    actions_detail = [
        *(CreativeProductionAdmin.actions_detail or ()),
        "generate_now",
        "see_creatives",
    ]

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return FiguredChangeList

    def with_figures(self, masters: list[CreativeProduction]) -> None:
        """Each master of a page with its variants' lifetime delivery and its
        objective: three queries, whatever the number of masters."""
        delivery = delivery_by_master([m.pk for m in masters])
        objectives = master_objectives(master_ids=[m.pk for m in masters])
        for master in masters:
            set_figures(
                master,
                delivery.get(master.pk, DeliveryTotals()),
                objectives.get(str(master.pk), ""),
            )

    def has_steer_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_engine_role(request.user)

    @action(
        description="Generate variants now", icon="auto_awesome", permissions=["steer"]
    )
    def generate_now(self, request: HttpRequest, object_id: str) -> HttpResponse:
        try:
            master_id = uuid.UUID(object_id)
        except ValueError as exc:
            raise Http404("No such master.") from exc
        return HttpResponseRedirect(reverse("console_generate", args=[master_id]))

    @action(description="Its creatives", icon="movie")
    def see_creatives(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:variants_creativevariant_changelist")
            + f"?parent__id__exact={object_id}"
        )


reregister(CreativeProduction, ConsoleMasterAdmin)
