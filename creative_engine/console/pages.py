"""What the console's own pages share: badges, the fields their fieldsets show (all
read-only), and the context a page draws above or below its fields."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import get_language
from unfold.decorators import display
from unfold.views import ChangeList

from creative_engine.console.figures import on_objective, percent
from promotion.delivery import DeliveryTotals


def badge(text: Any, tone: str) -> SafeString:
    """unfold's label, for a list cell or a read-only field. A badge depends only on
    its words and tone, so each is rendered once per language, not once per row (a
    template render per row was a fifth of a 50-row grid's time)."""
    return _badge(str(text), tone, get_language() or "")


@lru_cache(maxsize=512)
def _badge(text: str, tone: str, language: str) -> SafeString:
    return SafeString(
        render_to_string(
            "unfold/helpers/display_label.html", {"label": text, "label_type": tone}
        ).strip()
    )


def fieldset_fields(fieldsets: Any) -> tuple[str, ...]:
    """Every field the fieldsets name, in order (a page of evidence shows them all
    read-only, its computed ones included)."""
    return tuple(name for _, block in fieldsets for name in block["fields"])


class PageContextMixin(admin.ModelAdmin):
    """A change page with more than its fields (a chart, a report): `page_context`
    says what, for the object the page shows."""

    def page_context(self, request: HttpRequest, obj: Any) -> dict[str, Any]:
        return {}

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Any:
        """Read once per GET: the page's context and the form show the same row."""
        if request.method != "GET":
            return super().get_object(request, object_id, from_field)
        read: dict[Any, Any] = request.__dict__.setdefault("_console_objects", {})
        key = (self.model, object_id, from_field)
        if key not in read:
            read[key] = super().get_object(request, object_id, from_field)
        return read[key]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        obj = self.get_object(request, object_id)
        context = dict(extra_context or {})
        if obj is not None:
            context.update(self.page_context(request, obj))
        return super().change_view(request, object_id, form_url, context)


# Where a list's row keeps the figures read for its page, beside the row's fields.
_DELIVERY = "console_delivery"
_OBJECTIVE = "console_objective"


def set_figures(row: Any, delivery: DeliveryTotals, objective: str) -> None:
    setattr(row, _DELIVERY, delivery)
    setattr(row, _OBJECTIVE, objective)


def delivery_of(row: Any) -> DeliveryTotals:
    totals: DeliveryTotals = getattr(row, _DELIVERY, DeliveryTotals())
    return totals


def objective_of(row: Any) -> str:
    return str(getattr(row, _OBJECTIVE, ""))


class FiguredChangeList(ChangeList):
    """A changelist whose page of rows is given figures read for those rows only, by
    its admin's `with_figures` (a fixed number of queries, whatever the page)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        self.model_admin.with_figures(list(self.result_list))


def figure_column(
    description: str,
    shown: Callable[[DeliveryTotals], str],
    *,
    ordering: str | None = None,
) -> Any:
    """A list column of one figure of a row's delivery (set by `with_figures`)."""

    def column(model_admin: admin.ModelAdmin, row: Any) -> str:
        return shown(delivery_of(row))

    return display(description=description, ordering=ordering)(column)


@display(description="Objective")
def objective_column(model_admin: admin.ModelAdmin, row: Any) -> str:
    """The master's objective and the row's value on it: what its judges read."""
    objective = objective_of(row)
    return on_objective(objective, delivery_of(row)) if objective else "—"


def hook_rate_column(*, ordering: str | None = None) -> Any:
    return figure_column(
        "Hook rate", lambda d: percent(d.hook_rate, 1), ordering=ordering
    )


def hold_rate_column(*, ordering: str | None = None) -> Any:
    return figure_column(
        "Hold rate", lambda d: percent(d.hold_rate, 1), ordering=ordering
    )
