"""Promote one variant by hand: its ad goes ACTIVE; the human rules still apply."""

from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from productions.guard import Actor, HumanRuleViolation, actor_for_user
from promotion.choices import PromotedBy
from promotion.services.manual import PromotionRefused, variant_promote_manual
from variants.models import CreativeVariant


class Command(BaseCommand):
    help = (
        "Promote VARIANT_ID (ad ACTIVE, variant active), optionally setting a budget."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("variant_id")
        parser.add_argument("--budget", help="Ad set daily budget in currency units.")
        parser.add_argument(
            "--force",
            action="store_true",
            help="Skip the cooldown, render/upload a draft first, allow "
            "budget steps above 20 %%. Never skips the human rules.",
        )
        parser.add_argument(
            "--as-user", help="Username recorded as the person promoting."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            UUID(options["variant_id"])
        except ValueError:
            raise CommandError(
                f"{options['variant_id']!r} is not a variant id."
            ) from None
        budget = None
        if options["budget"] is not None:
            try:
                budget = Decimal(options["budget"])
            except InvalidOperation:
                raise CommandError(
                    f"--budget {options['budget']!r} is not a number."
                ) from None
        actor = Actor(name="operator (manage.py)")
        if options["as_user"]:
            user = get_user_model().objects.filter(username=options["as_user"]).first()
            if user is None:
                raise CommandError(f"No user {options['as_user']!r}.")
            actor = actor_for_user(user)
        try:
            log = variant_promote_manual(
                variant_id=options["variant_id"],
                actor=actor,
                budget=budget,
                force=options["force"],
                promoted_by=PromotedBy.MANUAL,
            )
        except CreativeVariant.DoesNotExist:
            raise CommandError(f"No variant {options['variant_id']}.") from None
        except (PromotionRefused, HumanRuleViolation) as exc:
            raise CommandError(str(exc)) from exc
        except Exception as exc:
            if "is not a valid UUID" in str(exc):
                raise CommandError(
                    f"{options['variant_id']!r} is not a variant id."
                ) from exc
            raise
        self.stdout.write(f"Promoted {options['variant_id']} (log {log.pk}).")
