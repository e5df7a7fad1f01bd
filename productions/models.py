"""Human inputs: the master creative, its approved fragments, and the approval audit trail."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from productions.choices import (
    ApprovalAction,
    EngineMode,
    FragmentType,
    NarrativeStructure,
    Objective,
)
from productions.guard import (
    PROTECTED_FIELDS,
    ProtectedFieldChangeRefused,
    check_protected_fields_unchanged,
    current_authorizing_actor,
)
from productions.validators import (
    validate_master_file,
    validate_master_seconds,
    validate_pixel_ids,
    validate_string_list,
    validate_style_guide,
    validate_subgenres,
    validate_text,
    validate_video_url_shape,
)


def engine_mode_field() -> models.CharField:
    """Which Meta a row belongs to: the stub market or the live account."""
    return models.CharField(
        max_length=8, choices=EngineMode.choices, default=EngineMode.STUB
    )


def person_field(*, editable: bool = True) -> models.ForeignKey:
    """The person who did something: empty again if the user is deleted (the row
    stays), and no reverse relation on the user."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=editable,
    )


def newest_first_index(field: str, *, name: str) -> models.Index:
    """The index that reads one `field` value's rows of a history newest first."""
    return models.Index(fields=[field, "-created_at"], name=name)


def meta_id_field(help_text: str) -> models.CharField:
    """A Meta object id a person types (a campaign, an ad set): short plain text."""
    return models.CharField(
        max_length=64, blank=True, validators=[validate_text], help_text=help_text
    )


class NewestFirstModel(models.Model):
    """A row people read as history: a UUID, when it was written, the newest first."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]


class ProductionQuerySet(models.QuerySet):
    """Bulk writes get the same human-rule check as save(): no bypass through update()."""

    def update(self, **kwargs):  # type: ignore[no-untyped-def]
        touched = sorted(set(kwargs) & set(PROTECTED_FIELDS))
        if touched and current_authorizing_actor() is None:
            raise ProtectedFieldChangeRefused(
                f"Refused a bulk update of {', '.join(touched)}: only a human with the "
                "'change authorization' permission may change them."
            )
        return super().update(**kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):  # type: ignore[no-untyped-def]
        touched = sorted(set(fields) & set(PROTECTED_FIELDS))
        if touched and current_authorizing_actor() is None:
            raise ProtectedFieldChangeRefused(
                f"Refused a bulk update of {', '.join(touched)} outside human authorization."
            )
        return super().bulk_update(objs, fields, *args, **kwargs)

    def bulk_create(self, objs, *args, **kwargs):  # type: ignore[no-untyped-def]
        objs = list(objs)
        if current_authorizing_actor() is None and any(
            getattr(o, f) for o in objs for f in PROTECTED_FIELDS
        ):
            raise ProtectedFieldChangeRefused(
                "Refused to create masters with pixels, subgenres or genre outside "
                "human authorization."
            )
        return super().bulk_create(objs, *args, **kwargs)


class CreativeProduction(NewestFirstModel):
    """A master creative. Pixels, subgenres and genre are written by humans only."""

    title = models.CharField(max_length=200, validators=[validate_text])
    video_url = models.URLField(
        max_length=1000,
        blank=True,
        validators=[validate_video_url_shape],
        help_text="Remote master; fetched after SSRF checks.",
    )
    video_file = models.FileField(
        upload_to="masters/%Y/%m/",
        max_length=500,
        blank=True,
        validators=[validate_master_file],
        help_text="Uploaded master.",
    )
    duration = models.FloatField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1.0), validate_master_seconds],
        help_text="Seconds, as probed from the video.",
    )
    authorized_pixels = models.JSONField(
        default=list, blank=True, validators=[validate_pixel_ids]
    )
    authorized_subgenres = models.JSONField(
        default=list, blank=True, validators=[validate_subgenres]
    )
    genre = models.CharField(max_length=60, blank=True, validators=[validate_text])
    fragments = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        help_text="Ids of the approved fragments, kept by the approval services.",
    )
    style_guide = models.JSONField(
        default=dict, blank=True, validators=[validate_style_guide]
    )
    # The API's bound, for every path (admin, commands): notes for people, not essays.
    human_instructions = models.TextField(
        blank=True, validators=[validate_text, MaxLengthValidator(10_000)]
    )
    campaign_id = meta_id_field("Meta campaign id.")
    adset_id = meta_id_field("Meta ad set for new ads (else the default).")
    # The testing ad set is `adset_id` (else META_TESTING_ADSET_ID): new variants are
    # tested there; winners graduate, as the same creative, into the scaling ad set.
    scaling_adset_id = meta_id_field(
        "Meta ad set winners graduate into (else META_SCALING_ADSET_ID)."
    )
    objective = models.CharField(
        max_length=8,
        choices=Objective.choices,
        blank=True,
        help_text=(
            "What every decision judges by; blank: ROAS when the pixel reports "
            "revenue, else CPA."
        ),
    )
    created_by = person_field()
    updated_at = models.DateTimeField(auto_now=True)
    is_active = models.BooleanField(default=True)
    total_variants_generated = models.PositiveIntegerField(default=0, editable=False)
    mode = engine_mode_field()

    objects = ProductionQuerySet.as_manager()

    class Meta(NewestFirstModel.Meta):
        db_table = "meta_creative_productions"
        indexes = [
            newest_first_index("is_active", name="prod_active_created_idx"),
            models.Index(fields=["campaign_id"], name="prod_campaign_idx"),
            models.Index(fields=["genre"], name="prod_genre_idx"),
            models.Index(fields=["created_by"], name="prod_created_by_idx"),
            models.Index(fields=["mode"], name="prod_mode_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration__isnull=True) | Q(duration__gte=1.0),
                name="prod_duration_at_least_1s",
            ),
        ]
        permissions = [
            (
                "change_authorization",
                "Can change authorized pixels, authorized subgenres and genre",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if not self.video_url and not self.video_file:
            raise ValidationError(
                "A master needs an uploaded video file or a video URL."
            )

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # The last line of defence of the human rules: whatever code path saves a master,
        # protected fields change only inside human_authorization(). Saves that name
        # other update_fields (the engine's counters) cost no extra query.
        update_fields = kwargs.get("update_fields")
        touches_protected = update_fields is None or bool(
            set(update_fields) & set(PROTECTED_FIELDS)
        )
        if touches_protected and current_authorizing_actor() is None:
            after = {f: getattr(self, f) for f in PROTECTED_FIELDS}
            if self._state.adding:
                before = {
                    "authorized_pixels": [],
                    "authorized_subgenres": [],
                    "genre": "",
                }
            else:
                before = (
                    type(self)
                    .objects.filter(pk=self.pk)
                    .values(*PROTECTED_FIELDS)
                    .first()
                    or {}
                )
            check_protected_fields_unchanged(
                object_repr=f"master {self.pk}", before=before, after=after
            )
        super().save(*args, **kwargs)

    @property
    def hashtags(self) -> list[str]:
        tags = (
            self.style_guide.get("hashtags", [])
            if isinstance(self.style_guide, dict)
            else []
        )
        return list(tags)


class CreativeFragment(models.Model):
    """A cut of the master (start/end seconds) that a human approved for recombination."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    fragment_type = models.CharField(max_length=8, choices=FragmentType.choices)
    video_url = models.URLField(
        max_length=1000, blank=True, validators=[validate_video_url_shape]
    )
    start_time = models.FloatField(
        validators=[MinValueValidator(0.0), validate_master_seconds]
    )
    end_time = models.FloatField(
        validators=[MinValueValidator(0.0), validate_master_seconds]
    )
    duration = models.FloatField(editable=False, default=0.0)
    master_creative = models.ForeignKey(
        CreativeProduction, on_delete=models.CASCADE, related_name="fragment_set"
    )
    label = models.CharField(max_length=120, blank=True, validators=[validate_text])
    approved = models.BooleanField(default=False, editable=False)
    approved_by = person_field(editable=False)
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    performance_score = models.FloatField(null=True, blank=True, editable=False)
    usage_count = models.PositiveIntegerField(default=0, editable=False)
    success_rate = models.FloatField(null=True, blank=True, editable=False)
    best_for_structure = models.CharField(
        max_length=16, choices=NarrativeStructure.choices, blank=True, editable=False
    )
    best_with_pixels = models.JSONField(
        default=list,
        blank=True,
        editable=False,
        validators=[validate_string_list],
    )
    # Retention of the variants that showed this fragment, attributed by when it is
    # on screen: hook rate (3-second views per impression) to what plays in the
    # first 3 s, hold rate (ThruPlays per impression) by share of screen time.
    hook_rate = models.FloatField(null=True, blank=True, editable=False)
    hold_rate = models.FloatField(null=True, blank=True, editable=False)
    performance_by_structure = models.JSONField(
        default=dict, blank=True, editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "meta_creative_fragments"
        ordering = ["master_creative", "fragment_type", "start_time"]
        indexes = [
            models.Index(
                fields=["master_creative", "approved", "fragment_type"],
                name="frag_master_approved_type_idx",
            ),
            models.Index(fields=["fragment_type"], name="frag_type_idx"),
            models.Index(fields=["-performance_score"], name="frag_perf_idx"),
            models.Index(fields=["approved_by"], name="frag_approved_by_idx"),
            models.Index(fields=["best_for_structure"], name="frag_best_structure_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="frag_end_after_start"
            ),
            models.CheckConstraint(
                condition=Q(start_time__gte=0), name="frag_start_nonneg"
            ),
            models.CheckConstraint(
                condition=Q(fragment_type__in=FragmentType.values),
                name="frag_type_known",
            ),
            models.CheckConstraint(
                condition=Q(approved=False) | (Q(approved_at__isnull=False)),
                name="frag_approved_has_time",
            ),
        ]

    def __str__(self) -> str:
        label = self.label or f"{self.start_time:.2f}–{self.end_time:.2f}s"
        return f"{self.get_fragment_type_display()}: {label}"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.start_time is not None and self.end_time is not None:
            if self.end_time <= self.start_time:
                errors.setdefault("end_time", []).append(
                    "The fragment must end after it starts."
                )
            master_duration = None
            # Prefer the master in memory: in an admin inline it carries the new duration.
            if CreativeFragment.master_creative.is_cached(self):
                master_duration = self.master_creative.duration
            elif self.master_creative_id:
                master_duration = (
                    CreativeProduction.objects.filter(pk=self.master_creative_id)
                    .values_list("duration", flat=True)
                    .first()
                )
            if master_duration is not None and self.end_time > master_duration + 1e-6:
                errors.setdefault("end_time", []).append(
                    f"The fragment ends at {self.end_time:.2f}s but the master is only "
                    f"{master_duration:.2f}s long."
                )
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        # Derived, not business logic: duration always equals end - start.
        self.duration = round(self.end_time - self.start_time, 6)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and (
            {"start_time", "end_time"} & set(update_fields)
        ):
            kwargs["update_fields"] = set(update_fields) | {"duration"}
        super().save(*args, **kwargs)


class ApprovalAudit(NewestFirstModel):
    """Who changed what a human must approve, when, with the values before and after."""

    action = models.CharField(max_length=32, choices=ApprovalAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(
        max_length=150, help_text="Kept if the user is deleted."
    )
    production = models.ForeignKey(
        CreativeProduction,
        null=True,
        on_delete=models.SET_NULL,
        related_name="approval_audits",
    )
    fragment = models.ForeignKey(
        CreativeFragment,
        null=True,
        on_delete=models.SET_NULL,
        related_name="approval_audits",
    )
    object_repr = models.CharField(max_length=300)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta(NewestFirstModel.Meta):
        db_table = "meta_creative_approval_audits"
        indexes = [
            newest_first_index("production", name="audit_prod_created_idx"),
            newest_first_index("fragment", name="audit_frag_created_idx"),
            newest_first_index("actor", name="audit_actor_created_idx"),
            models.Index(fields=["action"], name="audit_action_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.actor_name} on {self.object_repr}"
