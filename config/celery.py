"""The Celery application (the standard Django recipe)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("creative_engine")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
