"""The master page, with the engine's buttons added: generate variants now, and see
the master's creatives. The page itself (upload, cutter, style guide, rules) is
productions' own admin; the console only adds what needs the engine above it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from unfold.decorators import action

from creative_engine.console.registry import reregister
from productions.admin import CreativeProductionAdmin
from productions.models import CreativeProduction
from productions.roles import has_engine_role


class ConsoleMasterAdmin(CreativeProductionAdmin):
    actions_detail = [
        *(CreativeProductionAdmin.actions_detail or ()),
        "generate_now",
        "see_creatives",
    ]

    def has_steer_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_engine_role(request.user)

    @action(
        description="Generate variants now", icon="auto_awesome", permissions=["steer"]
    )
    def generate_now(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return HttpResponseRedirect(reverse("console_generate", args=[object_id]))

    @action(description="Its creatives", icon="movie")
    def see_creatives(self, request: HttpRequest, object_id: str) -> HttpResponse:
        return HttpResponseRedirect(
            reverse("admin:variants_creativevariant_changelist")
            + f"?parent__id__exact={object_id}"
        )


reregister(CreativeProduction, ConsoleMasterAdmin)
