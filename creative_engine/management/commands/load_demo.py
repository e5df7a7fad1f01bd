"""Create a demo master from a generated video, with approved fragments and rules."""

import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from productions.guard import actor_for_user
from productions.models import CreativeProduction
from productions.roles import ADMIN_GROUP
from productions.services import FragmentData, fragments_approve, production_create

DEMO_TITLE = "Demo: Neon Nights tour teaser"
DEMO_USERNAME = "demo-admin"

DEMO_FRAGMENTS = (
    FragmentData("hook", 0.0, 3.0, "Skyline drop"),
    FragmentData("hook", 3.0, 5.5, "Crowd roar"),
    FragmentData("hook", 10.0, 13.0, "Close-up chorus"),
    FragmentData("body", 5.0, 12.0, "Backstage montage"),
    FragmentData("body", 11.0, 18.0, "Live set"),
    FragmentData("cta", 16.0, 20.0, "Tickets on sale"),
    FragmentData("cta", 13.5, 17.0, "Stream the single"),
    FragmentData("outro", 18.5, 20.0, "Logo sting"),
)

DEMO_STYLE_GUIDE: dict[str, Any] = {
    "tone": "energetic",
    "vibes": ["neon", "late night", "euphoric"],
    "aesthetic_reference": "80s synthwave posters",
    "color_palette": ["#ff2bd6", "#2bd9ff", "#14002b"],
    "font_style": "bold sans",
    "music_style": "synthwave",
    "hashtags": ["#neonnights", "#livetour", "#newmusic", "#synthwave"],
    "banned_words": ["free", "guaranteed"],
    "required_phrases": ["Neon Nights"],
    "max_caption_length": 125,
    "cta_text": "Get tickets",
    "link_url": "https://example.com/neon-nights/tickets",
    "cta_type": "BUY_TICKETS",
    "luts": {
        "neon_pop": {"contrast": 1.15, "saturation": 1.3, "warmth": -0.05},
        "warm_film": {
            "contrast": 1.05,
            "saturation": 0.9,
            "warmth": 0.12,
            "gamma": 0.95,
        },
    },
}


class Command(BaseCommand):
    help = (
        "Make a demo master (generated video, approved fragments, rules); print its id."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--new", action="store_true", help="Always make a new master."
        )
        parser.add_argument("--width", type=int, default=1080)
        parser.add_argument("--height", type=int, default=1920)

    def handle(self, *args: Any, **options: Any) -> None:
        existing = CreativeProduction.objects.filter(
            title=DEMO_TITLE, is_active=True
        ).first()
        if existing and not options["new"]:
            self.stderr.write(f"Demo master already exists: {existing.title}")
            self.stdout.write(str(existing.pk))
            return
        from variants.rendering.demo_media import make_synthetic_master

        user = _demo_admin()
        actor = actor_for_user(user)
        with tempfile.TemporaryDirectory() as tmp:
            video_path = Path(tmp) / "neon-nights-master.mp4"
            self.stderr.write("Generating a 20 s demo master with ffmpeg…")
            try:
                make_synthetic_master(
                    video_path,
                    duration=20.0,
                    width=options["width"],
                    height=options["height"],
                )
            except Exception as exc:
                raise CommandError(f"Could not generate the demo video: {exc}") from exc
            placement = _demo_placement()
            with transaction.atomic(), video_path.open("rb") as handle:
                master = production_create(
                    actor=actor,
                    title=DEMO_TITLE,
                    video_file=File(handle, name=video_path.name),
                    duration=20.0,
                    authorized_pixels=["1234567890123456"],
                    authorized_subgenres=["synthwave", "indie pop"],
                    genre="music",
                    style_guide=DEMO_STYLE_GUIDE,
                    human_instructions="Lead with motion; keep the tour name on screen.",
                    # Stub ids for the stub market; in live mode the demo names no
                    # ad set of its own, so META_DEFAULT_ADSET_ID applies.
                    campaign_id=placement["campaign_id"],
                    adset_id=placement["adset_id"],
                    fragments=DEMO_FRAGMENTS,
                )
                approved = fragments_approve(
                    actor=actor,
                    fragment_ids=master.fragment_set.values_list("pk", flat=True),
                )
        self.stderr.write(
            f"Created '{master.title}' with {approved} approved fragments "
            f"(pixels {master.authorized_pixels}, subgenres {master.authorized_subgenres})."
        )
        self.stdout.write(str(master.pk))


def _demo_admin() -> Any:
    user, created = get_user_model().objects.get_or_create(
        username=DEMO_USERNAME, defaults={"is_staff": True}
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=ADMIN_GROUP))
    return get_user_model().objects.get(pk=user.pk)  # fresh permission cache


def _demo_placement() -> dict[str, str]:
    """Where the demo's ads go: the stub's ad set, or (live) the account's default."""
    if settings.CREATIVE_ENGINE_MODE == "live":
        return {"campaign_id": "", "adset_id": ""}
    return {"campaign_id": "120210000000001", "adset_id": "120210000000002"}
