from django.apps import AppConfig


class PromotionConfig(AppConfig):
    name = "promotion"
