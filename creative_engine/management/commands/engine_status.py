"""Print the engine's status (same numbers as GET /meta/creative-engine/status)."""

import json
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from creative_engine.selectors import engine_status


class Command(BaseCommand):
    help = "Show the engine's status: last/next run, masters, variants, fatigue, mode."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="One JSON object.")

    def handle(self, *args: Any, **options: Any) -> None:
        status = engine_status(now=timezone.now(), mode=settings.CREATIVE_ENGINE_MODE)
        if options["json"]:
            self.stdout.write(json.dumps(status, default=str, sort_keys=True))
            return
        for key, value in status.items():
            self.stdout.write(f"{key:<20} {value}")
