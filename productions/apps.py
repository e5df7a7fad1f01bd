from django.apps import AppConfig


class ProductionsConfig(AppConfig):
    name = "productions"
    verbose_name = "Productions (human inputs)"
