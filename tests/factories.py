"""factory-boy factories for every model."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from creative_engine.models import CycleRun, RunStatus, RunTrigger
from productions.choices import ApprovalAction, FragmentType, NarrativeStructure
from productions.guard import Actor, human_authorization
from productions.models import ApprovalAudit, CreativeFragment, CreativeProduction
from promotion.choices import PromotionStatus, PromotionType
from promotion.models import PromotionLog, VariantDailyMetric
from variants.choices import DurationCategory, VariantStatus, VariantType
from variants.models import CreativeVariant

TEST_HUMAN = Actor(name="factory-admin", may_change_authorization=True)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", "pass-word-123")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):  # type: ignore[no-untyped-def]
        if create and extracted:
            for name in extracted:
                self.groups.add(Group.objects.get(name=name))
        if create:
            self.save()


class ProductionFactory(factory.django.DjangoModelFactory):
    """Masters carry human-authorized fields, so they are created as a human would."""

    class Meta:
        model = CreativeProduction

    title = factory.Sequence(lambda n: f"Master {n}")
    video_url = "https://cdn.example.com/master.mp4"
    duration = 20.0
    authorized_pixels = factory.LazyFunction(lambda: ["123456789012345"])
    authorized_subgenres = factory.LazyFunction(lambda: ["indie pop", "synthwave"])
    genre = "music"
    style_guide = factory.LazyFunction(
        lambda: {
            "tone": "energetic",
            "vibes": ["bold", "warm"],
            "hashtags": ["#newmusic", "#livetour", "#nowplaying"],
            "banned_words": ["free"],
            "required_phrases": [],
            "max_caption_length": 125,
            "cta_text": "Listen now",
        }
    )
    human_instructions = "Keep the artist's face in the first second."
    campaign_id = "120200000000001"
    adset_id = "120200000000002"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):  # type: ignore[no-untyped-def]
        with human_authorization(TEST_HUMAN):
            return super()._create(model_class, *args, **kwargs)


class FragmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreativeFragment

    master_creative = factory.SubFactory(ProductionFactory)
    fragment_type = FragmentType.HOOK
    start_time = 0.0
    end_time = 3.0
    approved = True
    approved_at = factory.LazyFunction(timezone.now)


class VariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CreativeVariant

    parent = factory.SubFactory(ProductionFactory)
    batch_number = 1
    variant_number = factory.Sequence(lambda n: n % 15 + 1)
    variant_type = VariantType.FRAGMENT_REORDER
    narrative_structure = NarrativeStructure.HOOK_BODY_CTA
    fragments_order = factory.LazyFunction(list)
    caption = "Listen now"
    hashtags = factory.LazyFunction(lambda: ["#newmusic"])
    duration_seconds = 10.0
    duration_category = DurationCategory.MEDIUM
    status = VariantStatus.DRAFT


class PromotionLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PromotionLog

    variant = factory.SubFactory(VariantFactory)
    promotion_type = PromotionType.UPLOAD
    operation = "create_ad"
    promotion_status = PromotionStatus.SUCCEEDED
    success = True


class DailyMetricFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = VariantDailyMetric

    variant = factory.SubFactory(VariantFactory)
    date = factory.Sequence(lambda n: dt.date(2026, 1, 1) + dt.timedelta(days=n))
    impressions = 1000
    reach = 800
    frequency = 1.25
    clicks = 20
    spend = 10
    conversions = 1
    revenue = 30


class CycleRunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CycleRun

    trigger = RunTrigger.MANUAL
    status = RunStatus.SUCCEEDED
    as_of = factory.LazyFunction(timezone.now)


class ApprovalAuditFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApprovalAudit

    action = ApprovalAction.FRAGMENT_APPROVED
    actor = factory.SubFactory(UserFactory)
    actor_name = factory.LazyAttribute(lambda a: a.actor.username)
    object_repr = "fragment"


@dataclass(frozen=True)
class CutSheet:
    """The approved cuts of a test master (type, in, out seconds) and its length."""

    master_seconds: float
    cuts: tuple[tuple[str, float, float], ...]


# The least a master needs for variants: one approved hook, body and CTA.
ONE_OF_EACH = CutSheet(
    master_seconds=20.0,
    cuts=(("hook", 0.0, 3.0), ("body", 3.0, 8.0), ("cta", 8.0, 11.0)),
)
# Enough distinct first impressions (two hooks, two bodies, an outro) for a full batch.
FULL_BATCH = CutSheet(
    master_seconds=30.0,
    cuts=(
        ("hook", 0.0, 3.0),
        ("hook", 3.0, 5.5),
        ("body", 5.5, 12.0),
        ("body", 12.0, 17.0),
        ("cta", 17.0, 21.0),
        ("outro", 21.0, 24.0),
    ),
)


def master_with_approved_cuts(
    *, sheet: CutSheet = ONE_OF_EACH, **master_kwargs: Any
) -> CreativeProduction:
    """The one builder of a master with approved fragments, for every test folder."""
    master_kwargs.setdefault("duration", sheet.master_seconds)
    master = ProductionFactory(**master_kwargs)
    for fragment_type, start, end in sheet.cuts:
        FragmentFactory(
            master_creative=master,
            fragment_type=fragment_type,
            start_time=start,
            end_time=end,
        )
    return master
