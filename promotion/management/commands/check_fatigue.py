"""Assess fatigue now: print each fatigued variant and why; --apply retires them."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from promotion.services.fatigue import fatigue_review


class Command(BaseCommand):
    help = (
        "Report variants that meet the fatigue rule (14+ days, 20 %+ drop). Without "
        "--apply nothing changes; with it they are archived on Meta and refreshed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--apply", action="store_true")
        parser.add_argument("--master", action="append", default=[], dest="masters")

    def handle(self, *args: Any, **options: Any) -> None:
        outcomes = fatigue_review(
            as_of=timezone.now(),
            master_ids=options["masters"],
            dry_run=not options["apply"],
        )
        if not outcomes:
            self.stdout.write("No variant meets the fatigue rule.")
            return
        for outcome in outcomes:
            a = outcome.assessment
            line = (
                f"{outcome.variant_id}: drop {a.drop:.0%} (score {a.fatigue_score:.2f}), "
                f"frequency {a.frequency_baseline or 0:.2f}→{a.frequency_recent or 0:.2f}"
                f" — {a.reason}"
            )
            if options["apply"]:
                line += (
                    f" | archived; refresh {outcome.refresh_variant_id}"
                    if outcome.refresh_variant_id
                    else f" | archived; no refresh: {outcome.refresh_error}"
                )
            self.stdout.write(line)
        if not options["apply"]:
            self.stdout.write("(report only: pass --apply to retire and refresh them)")
