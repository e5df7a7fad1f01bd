from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from creative_engine.schedule import SCHEDULE, schedule_ensure


class Command(BaseCommand):
    help = "Create or update the beat entries (cycle at 00:00/12:00, stuck-work sweep)."

    def handle(self, *args: Any, **options: Any) -> None:
        created = schedule_ensure(
            periodic_task_model=PeriodicTask,
            crontab_model=CrontabSchedule,
            timezone=settings.TIME_ZONE,
        )
        for entry in SCHEDULE:
            task = PeriodicTask.objects.get(name=entry["name"])
            state = "enabled" if task.enabled else "PAUSED"
            self.stdout.write(f"{task.name}: {task.task} at {task.crontab} ({state})")
        self.stdout.write(
            f"{created} created, {len(SCHEDULE) - created} already present."
        )
