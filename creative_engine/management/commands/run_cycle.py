"""Run one production cycle now and print what it did (or, with --dry-run, would do)."""

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from creative_engine.console.runs import SAID_BY_THE_SENTENCE, names_for
from creative_engine.models import CycleRun, RunStatus, RunTrigger
from creative_engine.services.cycle import (
    CycleAlreadyRunning,
    cycle_execute,
    cycle_request,
)
from creative_engine.tasks import cycle_queue
from promotion.decision_story import action_label, decision_reason, key_numbers
from variants.models import CreativeVariant


def _parse_as_of(value: str) -> dt.datetime:
    moment = parse_datetime(value)
    if moment is None:
        try:
            moment = dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
        except ValueError:
            raise CommandError(
                f"--as-of {value!r} is not an ISO date or datetime (e.g. 2026-12-01T12:00)."
            ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


class Command(BaseCommand):
    help = "Run one full production cycle now (in-process unless --async)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of", help="Run as if at this ISO datetime (simulated clock)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Plan only; no Meta writes."
        )
        parser.add_argument(
            "--async",
            dest="run_async",
            action="store_true",
            help="Enqueue on Celery instead of running here.",
        )
        parser.add_argument(
            "--master",
            action="append",
            default=[],
            dest="masters",
            help="Limit to this master id (repeatable).",
        )
        parser.add_argument("--no-generate", action="store_true")
        parser.add_argument("--no-upload", action="store_true")
        parser.add_argument("--no-promote", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        as_of = _parse_as_of(options["as_of"]) if options["as_of"] else None
        try:
            run = cycle_request(
                trigger=RunTrigger.MANUAL,
                options={
                    "master_creative_ids": options["masters"],
                    "generate_variants": not options["no_generate"],
                    "auto_upload": not options["no_upload"],
                    "promote_top_3": not options["no_promote"],
                },
                dry_run=options["dry_run"],
                as_of=as_of,
            )
        except CycleAlreadyRunning as exc:
            raise CommandError(str(exc)) from exc
        if options["run_async"]:
            cycle_queue(str(run.pk))
            self.stdout.write(f"Cycle queued: run {run.pk}")
            return
        run = cycle_execute(run_id=run.pk)
        self._print_run(run)
        if run.status in {RunStatus.FAILED, RunStatus.REFUSED}:
            raise CommandError(f"Cycle {run.status}: {run.errors}")

    def _print_run(self, run: CycleRun) -> None:
        write = self.stdout.write
        label = "DRY RUN — nothing was written to Meta" if run.dry_run else "cycle"
        write(f"== {label} {run.pk} as of {run.as_of:%Y-%m-%d %H:%M %Z}: {run.status}")
        for step, seconds in run.timings.items():
            write(f"   {step:<18} {seconds:7.2f} s")
        if run.counts:
            write("-- counts")
            for key, value in sorted(run.counts.items()):
                write(f"   {key:<28} {value}")
        if run.decisions:
            write("-- decisions")
            variants, masters = names_for(run.decisions)
            for decision in run.decisions:
                write(f"   {_decision_line(decision, variants, masters)}")
        for error in run.errors:
            write(self.style.ERROR(f"!! {error['step']} failed: {error['error']}"))
        for refusal in run.refusals:
            who = refusal.get("master_id") or refusal.get("variant_id") or ""
            write(
                self.style.WARNING(
                    f"-- {refusal['step']} refused {who[:8]}: {refusal['error']}"
                )
            )
        for alert in run.alerts:
            write(self.style.ERROR(f"!! ALERT {alert['kind']}: {alert['message']}"))


def _decision_line(
    decision: Mapping[str, Any],
    variants: Mapping[str, CreativeVariant],
    masters: Mapping[str, str],
) -> str:
    """The console's sentence for one decision, with its numbers and whom it is about:
    "[promote] Promoted — Neon Nights · #1.3 · …: 91 % chance of top 3 on 4 days (…)"."""
    action = str(decision.get("action") or "")
    numbers = decision.get("numbers")
    details = numbers if isinstance(numbers, Mapping) else {}
    variant_id = str(decision.get("variant_id") or "")
    master_id = str(decision.get("master_id") or "")
    who = (
        str(variants.get(variant_id) or variant_id[:8])
        if variant_id
        else masters.get(master_id, master_id[:8])
    )
    because = decision_reason(action, details, reason=str(decision.get("reason") or ""))
    line = f"[{decision.get('step', '')}] {action_label(action)}"
    if who:
        line += f" — {who}"
    if because:
        line += f": {because}"
    extra = key_numbers(details, leave_out=SAID_BY_THE_SENTENCE)
    return f"{line} ({extra})" if extra else line
