"""The pieces batch and refresh planning share: a layout, its dressing, the plan."""

import random
from collections import Counter

from variants.planning.assembly import (
    PlanLayout,
    UsedChoices,
    assemble_plan,
    draw_dressing,
    planning_context,
    slots_for,
)
from variants.planning.diversity import plan_signature
from variants.planning.scoring import estimate_plan, fragment_evidence

from .test_planning_batch import frag, make_master

FRAGMENTS = [
    frag("h1", "hook", 0.0, 3.0),
    frag("b1", "body", 3.0, 9.0),
    frag("c1", "cta", 9.0, 13.0),
]


def _context():
    return planning_context(make_master(), FRAGMENTS, hints=None, max_hashtags=3)


def _layout(ctx) -> PlanLayout:
    return PlanLayout(
        structure="cta_forward",
        category="medium",
        slots=slots_for(
            ctx.pool, [(FRAGMENTS[2], 90), (FRAGMENTS[0], 90), (FRAGMENTS[1], 120)]
        ),
        duration_seconds=10.0,
    )


def test_planning_context_defaults_the_hints():
    ctx = _context()

    assert ctx.hints.evidence == 0


def test_slots_keep_each_fragments_start_and_the_layout_finds_opener_and_hook():
    layout = _layout(_context())

    assert [(s.fragment_id, s.source_in, s.frames) for s in layout.slots] == [
        ("c1", 9.0, 90),
        ("h1", 0.0, 90),
        ("b1", 3.0, 120),
    ]
    assert layout.opening_fragment_id == "c1"
    assert layout.hook_fragment_id == "h1"


def test_dressing_is_seeded_and_its_signature_is_the_ads_identity():
    ctx = _context()
    layout = _layout(ctx)

    first = draw_dressing(
        ctx=ctx, layout=layout, used=UsedChoices(), rng=random.Random(7), attempt=0
    )
    again = draw_dressing(
        ctx=ctx, layout=layout, used=UsedChoices(), rng=random.Random(7), attempt=0
    )

    assert first == again
    assert first.look in ctx.looks
    assert set(first.hashtags) <= set(ctx.hashtags)
    assert first.signature == plan_signature(
        opening_fragment_id="c1",
        hook_fragment_id="h1",
        structure="cta_forward",
        duration_category="medium",
        duration_seconds=10.0,
        caption=first.caption.text,
        color_look=first.look,
        hashtags=first.hashtags,
    )


def test_a_used_look_is_avoided_when_another_is_available():
    ctx = _context()
    layout = _layout(ctx)
    used = UsedChoices(looks=Counter({look: 100 for look in ctx.looks[1:]}))

    dressing = draw_dressing(
        ctx=ctx, layout=layout, used=used, rng=random.Random(1), attempt=0
    )

    assert dressing.look == ctx.looks[0]


def test_the_assembled_plan_carries_layout_dressing_and_estimate():
    ctx = _context()
    layout = _layout(ctx)
    dressing = draw_dressing(
        ctx=ctx, layout=layout, used=UsedChoices(), rng=random.Random(3), attempt=1
    )
    placed = [FRAGMENTS[2], FRAGMENTS[0], FRAGMENTS[1]]

    plan = assemble_plan(
        ctx=ctx,
        dressing=dressing,
        variant_number=4,
        variant_type="refresh",
        rationale={"lever": "test"},
    )

    score, confidence, parts = estimate_plan(
        fragments=[
            (f.fragment_type, fragment_evidence(f, "cta_forward")) for f in placed
        ],
        structure="cta_forward",
        duration_category="medium",
        caption_score=dressing.caption.score,
        look=dressing.look,
        hints=ctx.hints,
    )
    assert (plan.estimated_score, plan.confidence) == (score, confidence)
    assert plan.rationale == {
        "lever": "test",
        "caption_template": dressing.caption.template,
        "caption_score": dressing.caption.score,
        "score_parts": parts,
    }
    assert plan.variant_number == 4
    assert plan.slots == layout.slots
    assert plan.caption == dressing.caption.text
    assert plan.signature == dressing.signature
    assert plan.pixel_id == ctx.pixel_id
    assert plan.text_overlay
