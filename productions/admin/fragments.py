"""Fragments: cut, labelled and approved by people; the performance fields are the
engine's and read-only."""

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from unfold.admin import ModelAdmin

from productions.admin.forms import PublicVideoURLForm, submitted_values
from productions.admin.media import fragment_player, fragment_thumbnail
from productions.admin_widgets import (
    ADMIN_CSS,
)
from productions.guard import (
    HumanRuleViolation,
    actor_for_user,
)
from productions.models import CreativeFragment
from productions.services import (
    FRAGMENT_EDITABLE_FIELDS,
    FRAGMENT_SYSTEM_FIELDS,
    FragmentData,
    fragment_create,
    fragment_delete,
    fragment_update,
    fragments_approve,
    fragments_reject,
)


@admin.register(CreativeFragment)
class CreativeFragmentAdmin(ModelAdmin):
    # What a marketer scans a cut by; who approved it when, the success rate and the
    # JSON scores (by pixel, by structure) read on the fragment's page. Each column
    # costs every row its render, so the list keeps to these.
    list_display = (
        "list_thumbnail",
        "__str__",
        "master_creative",
        "fragment_type",
        "cut",
        "approved",
        "performance_score",
        "usage_count",
        "hook_rate",
        "hold_rate",
        "best_for_structure",
    )
    list_per_page = 50
    list_filter = ("approved", "fragment_type", "best_for_structure")
    search_fields = ("label", "master_creative__title")
    list_select_related = ("master_creative", "approved_by")
    autocomplete_fields = ("master_creative",)
    actions = ("approve_selected", "reject_selected")
    form = PublicVideoURLForm
    list_display_links = ("__str__",)
    readonly_fields = ("thumbnail", "preview", "duration", *FRAGMENT_SYSTEM_FIELDS)
    fields = ("master_creative", *FRAGMENT_EDITABLE_FIELDS, *readonly_fields)

    class Media:
        css = {"all": (ADMIN_CSS,)}

    @admin.display(description="Cut", ordering="start_time")
    def cut(self, obj: CreativeFragment) -> str:
        return (
            f"{obj.start_time:.1f}–{obj.end_time:.1f} s "
            f"({obj.end_time - obj.start_time:.1f} s)"
        )

    @admin.display(description="First frame")
    def list_thumbnail(self, obj: CreativeFragment) -> str:
        return fragment_thumbnail(obj, link=False)

    @admin.display(description="First frame")
    def thumbnail(self, obj: CreativeFragment) -> str:
        return fragment_thumbnail(obj)

    @admin.display(description="Preview")
    def preview(self, obj: CreativeFragment) -> str:
        return fragment_player(obj)

    def get_readonly_fields(
        self, request: HttpRequest, obj: Any = None
    ) -> tuple[str, ...]:
        if obj is not None:  # a fragment stays with its master
            return (*self.readonly_fields, "master_creative")
        return tuple(self.readonly_fields)

    def save_model(
        self, request: HttpRequest, obj: CreativeFragment, form: ModelForm, change: bool
    ) -> None:
        actor = actor_for_user(request.user)
        data, changes = submitted_values(form, FRAGMENT_EDITABLE_FIELDS)
        if change:
            saved = fragment_update(actor=actor, fragment_id=obj.pk, changes=changes)
        else:
            saved = fragment_create(
                actor=actor,
                production=form.cleaned_data["master_creative"],
                data=FragmentData(**data),
            )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: CreativeFragment) -> None:
        fragment_delete(actor=actor_for_user(request.user), fragment_id=obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        actor = actor_for_user(request.user)
        for pk in queryset.values_list("pk", flat=True):
            fragment_delete(actor=actor, fragment_id=pk)

    @admin.action(description="Approve selected fragments", permissions=["change"])
    def approve_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run_bulk(request, queryset, fragments_approve, "approved")

    @admin.action(
        description="Reject (withdraw approval of) selected fragments",
        permissions=["change"],
    )
    def reject_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._run_bulk(request, queryset, fragments_reject, "rejected")

    def _run_bulk(
        self, request: HttpRequest, queryset: QuerySet, service: Any, verb: str
    ) -> None:
        try:
            count = service(
                actor=actor_for_user(request.user),
                fragment_ids=list(queryset.values_list("pk", flat=True)),
            )
        except HumanRuleViolation as exc:
            self.message_user(request, str(exc), level=messages.ERROR)
            return
        skipped = queryset.count() - count
        note = f" ({skipped} already {verb})" if skipped else ""
        self.message_user(
            request, f"{count} fragment(s) {verb}{note}.", messages.SUCCESS
        )
