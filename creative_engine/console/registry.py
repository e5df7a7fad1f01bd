"""Replacing another app's admin class with the console's own."""

from django.contrib import admin
from django.db.models import Model


def reregister(model: type[Model], admin_class: type[admin.ModelAdmin]) -> None:
    """Register `admin_class` for `model`, replacing whatever registered it first."""
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, admin_class)
