"""The generate_variants management command: thin, readable output and errors."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import FULL_BATCH, ProductionFactory, master_with_approved_cuts
from variants.models import CreativeVariant


def run(*args: str) -> str:
    out = StringIO()
    call_command("generate_variants", *args, stdout=out)
    return out.getvalue()


def test_command_prints_the_batch_it_created(db):
    master = master_with_approved_cuts(sheet=FULL_BATCH)

    output = run(str(master.pk), "--seed", "5", "--count", "6", "--no-render")

    variants = list(CreativeVariant.objects.filter(parent=master))
    assert len(variants) == 6
    assert f"Master {master.pk}: batch 1, 6 variants, diversity 0." in output
    assert "seed 5" in output
    for v in variants:
        assert f"#{v.variant_number:<2} {v.variant_type}" in output
    assert "hook_body_cta" in output and "cta_forward" in output
    assert "Renders not queued (--no-render)." in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], "'nope' is not a valid master id"),
        (["8d2d4b4e-0000-4000-8000-000000000000"], "No master with id"),
    ],
)
def test_command_reports_an_unknown_master_readably(db, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args, "--no-render")


def test_command_reports_a_master_that_cannot_be_planned(db):
    master = ProductionFactory()  # no fragments approved yet

    with pytest.raises(CommandError, match="has no approved hook, body, call to"):
        run(str(master.pk), "--no-render")


def test_command_refuses_a_count_outside_five_to_fifteen(db):
    master = master_with_approved_cuts(sheet=FULL_BATCH)

    with pytest.raises(CommandError, match="5-15 variants; 20 were asked"):
        run(str(master.pk), "--count", "20", "--no-render")
