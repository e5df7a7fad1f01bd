"""The broker hands an unacknowledged task to another worker only after its visibility
timeout: that must outlast every task's time limit and every retry delay, or Redis
would run one task twice."""

from django.conf import settings

from config.celery import app as celery_app
from promotion.tasks import MAX_RETRY_COUNTDOWN


def test_visibility_timeout_outlasts_every_time_limit_and_retry_delay():
    celery_app.loader.import_default_modules()
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    limits = {
        name: task.time_limit or settings.CELERY_TASK_TIME_LIMIT
        for name, task in celery_app.tasks.items()
        if not name.startswith("celery.")
    }

    assert {
        "variants.render_variant",
        "promotion.upload_variant",
        "creative_engine.run_cycle",
    } <= set(limits)
    assert max(limits.values()) < visibility, limits
    assert visibility > MAX_RETRY_COUNTDOWN


def test_tasks_ack_late_and_requeue_when_their_worker_dies():
    celery_app.loader.import_default_modules()
    for name in (
        "variants.render_variant",
        "promotion.upload_variant",
        "creative_engine.run_cycle",
        "creative_engine.run_scheduled_cycle",
    ):
        task = celery_app.tasks[name]
        assert task.acks_late and task.reject_on_worker_lost, name
