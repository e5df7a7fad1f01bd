"""Plan and write the next batch of variants for one master, then queue their renders."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from productions.guard import HumanRuleViolation
from productions.selectors import parse_uuid
from promotion.services.generation_inputs import performance_hints
from variants.services.generation import GenerationError, variants_generate
from variants.tasks import renders_queue


class Command(BaseCommand):
    help = "Generate the next batch of 5-15 draft variants for MASTER_ID."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("master_id", help="The master's id (UUID).")
        parser.add_argument("--count", type=int, help="Exactly this many (5-15).")
        parser.add_argument("--seed", type=int, help="Planning seed (reproducible).")
        parser.add_argument(
            "--no-render", action="store_true", help="Write drafts; queue no renders."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        master_id = parse_uuid(options["master_id"])
        if master_id is None:
            raise CommandError(f"{options['master_id']!r} is not a valid master id.")
        try:
            variants = variants_generate(
                master_id=master_id,
                seed=options["seed"],
                count=options["count"],
                hints=performance_hints(master_id=master_id),
            )
        except (GenerationError, HumanRuleViolation) as exc:
            raise CommandError(str(exc)) from exc
        if not options["no_render"]:
            renders_queue(v.pk for v in variants)
        first = variants[0]
        self.stdout.write(
            f"Master {first.parent_id}: batch {first.batch_number}, "
            f"{len(variants)} variants, diversity "
            f"{first.plan_details.get('batch_diversity', 0):.3f}, seed {first.plan_seed}"
        )
        for v in variants:
            hook = next(
                (
                    s["fragment_id"]
                    for s in v.fragments_order
                    if s["fragment_type"] == "hook"
                ),
                "-",
            )
            self.stdout.write(
                f"  #{v.variant_number:<2} {v.variant_type:<17} "
                f"{v.narrative_structure:<13} {v.duration_seconds:5.2f} s "
                f"{v.duration_category:<6} hook {hook}"
            )
        self.stdout.write(
            "Renders queued."
            if not options["no_render"]
            else "Renders not queued (--no-render)."
        )
