from django.conf import settings
from django.db import migrations


def create_schedule(apps, schema_editor):
    from creative_engine.schedule import schedule_ensure

    schedule_ensure(
        periodic_task_model=apps.get_model("django_celery_beat", "PeriodicTask"),
        crontab_model=apps.get_model("django_celery_beat", "CrontabSchedule"),
        timezone=settings.TIME_ZONE,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("creative_engine", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, migrations.RunPython.noop)]
