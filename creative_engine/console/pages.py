"""What the console's own pages share: badges, the fields their fieldsets show (all
read-only), and the context a page draws above or below its fields."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import get_language


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
