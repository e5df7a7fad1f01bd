"""A render worker on S3 media: inputs from the bucket, results into it, nothing in
MEDIA_ROOT, its scratch folder gone after (moto's S3 server on loopback)."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from tests.variants.test_rendering_service import STYLE_GUIDE, _master, _variant
from variants.choices import VariantStatus
from variants.rendering.looks import cube_text, grading_lut
from variants.services.rendering import variant_render

pytestmark = pytest.mark.django_db


def test_a_variant_renders_from_a_master_in_the_bucket_into_the_bucket(
    s3_media, synthetic_master, small_render_size, settings
):
    # Given a master and a .cube look uploaded to the bucket, and no media folder
    film = cube_text(grading_lut({"contrast": 1.2, "warmth": -0.4}))
    default_storage.save("luts/film.cube", ContentFile(film.encode()))
    master = _master(
        synthetic_master,
        style_guide={**STYLE_GUIDE, "luts": {"film": "film.cube"}},
    )
    variant = _variant(master, look="film")

    # When it is rendered by the service
    variant_render(variant_id=variant.id)

    # Then video and poster are objects in the bucket matching the row
    variant.refresh_from_db()
    assert variant.status == VariantStatus.RENDERED, variant.failure_reason
    keys = s3_media.object_keys()
    assert variant.video_file.name in keys and variant.poster_file.name in keys
    with default_storage.open(variant.video_file.name) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == variant.video_checksum
    # ...nothing was written under MEDIA_ROOT, and the scratch folder is gone
    assert not Path(settings.MEDIA_ROOT).exists()
    assert list(Path(settings.RENDER_SCRATCH_DIR).iterdir()) == []


def test_a_look_missing_from_the_bucket_fails_the_variant_clearly(
    s3_media, synthetic_master, small_render_size
):
    master = _master(
        synthetic_master, style_guide={**STYLE_GUIDE, "luts": {"film": "film.cube"}}
    )
    variant = _variant(master, look="film")

    variant_render(variant_id=variant.id)

    variant.refresh_from_db()
    assert variant.status == VariantStatus.FAILED
    assert "not in the media storage" in variant.failure_reason
