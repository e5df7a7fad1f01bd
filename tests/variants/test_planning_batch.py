"""The pure variant planner: no database, plain data in, plans out."""

from collections import Counter
from dataclasses import replace

import pytest

from productions.guard import normalize_hashtag
from variants.choices import DURATION_BOUNDS
from variants.planning import (
    FragmentInput,
    MasterInput,
    PerformanceHints,
    PlanningError,
    plan_batch,
)
from variants.planning.captions import CaptionRules, caption_violations
from variants.planning.timing import FPS

STRUCTURES = {"hook_body_cta", "hook_inverted", "cta_forward"}
CATEGORIES = {"short", "medium", "long"}


def make_master(**style: object) -> MasterInput:
    style_guide = {
        "tone": "energetic",
        "vibes": ["bold", "warm"],
        "hashtags": ["#newmusic", "#livetour", "#nowplaying"],
        "banned_words": ["free"],
        "required_phrases": [],
        "max_caption_length": 125,
        "cta_text": "Listen now",
        "luts": {"warm": "looks/warm.cube", "teal": {"saturation": 1.1}},
    }
    style_guide.update(style)
    return MasterInput(
        id="master-1",
        title="Night Drive",
        duration=40.0,
        genre="music",
        style_guide=style_guide,
        human_instructions="Keep the artist's face in the first second.",
        authorized_subgenres=["indie pop", "synthwave"],
        authorized_pixels=["123456789012345", "998877665544"],
    )


def frag(fid: str, ftype: str, start: float, end: float, **kw: object) -> FragmentInput:
    return FragmentInput(
        id=fid, fragment_type=ftype, start_time=start, end_time=end, **kw
    )


def minimal_fragments() -> list[FragmentInput]:
    return [
        frag("h1", "hook", 0.0, 3.0),
        frag("b1", "body", 3.0, 9.0),
        frag("c1", "cta", 9.0, 13.0),
    ]


def rich_fragments() -> list[FragmentInput]:
    return [
        frag("h1", "hook", 0.0, 3.0, performance_score=0.7, usage_count=12),
        frag("h2", "hook", 3.0, 5.5),
        frag("h3", "hook", 5.5, 8.2, performance_score=0.4, usage_count=4),
        frag("b1", "body", 8.2, 14.0),
        frag("b2", "body", 14.0, 19.3, performance_score=0.6, usage_count=9),
        frag("c1", "cta", 19.3, 23.0),
        frag("c2", "cta", 23.0, 26.1),
        frag("o1", "outro", 26.1, 29.0),
    ]


@pytest.mark.parametrize(
    ("fragments", "kwargs", "expected"),
    [
        (minimal_fragments(), {}, 9),  # 1 opener per structure x 3 lengths
        (rich_fragments(), {}, 15),
        (rich_fragments(), {"max_variants": 6}, 6),
        (minimal_fragments(), {"count": 5}, 5),
    ],
)
def test_batch_has_between_five_and_fifteen_variants(fragments, kwargs, expected):
    # Given a master with approved fragments
    master = make_master()

    # When a batch is planned
    batch = plan_batch(master=master, fragments=fragments, seed=7, **kwargs)

    # Then it holds N variants, numbered 1..N
    assert len(batch.plans) == expected
    assert [p.variant_number for p in batch.plans] == list(range(1, expected + 1))


@pytest.mark.parametrize("count", range(6, 16))
def test_six_or_more_variants_cover_every_structure_and_length_evenly(count):
    # Given enough material for every structure and length
    master, fragments = make_master(), rich_fragments()

    # When a batch of `count` variants is planned
    batch = plan_batch(master=master, fragments=fragments, seed=count, count=count)

    # Then all three structures and durations appear, each count within one of the rest
    structures = Counter(p.narrative_structure for p in batch.plans)
    categories = Counter(p.duration_category for p in batch.plans)
    assert set(structures) == STRUCTURES
    assert set(categories) == CATEGORIES
    assert max(categories.values()) - min(categories.values()) <= 1
    assert max(structures.values()) - min(structures.values()) <= 1


@pytest.mark.parametrize("seed", [1, 2, 3, 42, 1017])
def test_durations_lie_in_their_category_and_slots_add_up_exactly(seed):
    batch = plan_batch(master=make_master(), fragments=rich_fragments(), seed=seed)

    for plan in batch.plans:
        low, high = DURATION_BOUNDS[plan.duration_category]
        assert low <= plan.duration_seconds <= high
        assert sum(s.frames for s in plan.slots) == round(plan.duration_seconds * FPS)
        assert sum(s.duration for s in plan.slots) == pytest.approx(
            plan.duration_seconds, abs=1e-6
        )


def test_slot_times_are_whole_frames_inside_their_fragment():
    fragments = [
        frag("h1", "hook", 0.01, 2.99),  # not on the frame grid
        frag("b1", "body", 3.017, 9.5),
        frag("c1", "cta", 9.5, 13.333),
        frag("o1", "outro", 13.4, 16.0),
    ]
    by_id = {f.id: f for f in fragments}

    batch = plan_batch(master=make_master(), fragments=fragments, seed=3)

    for plan in batch.plans:
        for slot in plan.slots:
            fragment = by_id[slot.fragment_id]
            for t in (slot.source_in, slot.source_out):
                assert t * FPS == pytest.approx(round(t * FPS), abs=1e-4)
                assert t == round(t, 6)
            assert fragment.start_time <= slot.source_in < slot.source_out
            assert slot.source_out <= fragment.end_time
            assert slot.fragment_type == fragment.fragment_type


def test_only_given_fragments_approved_hashtags_known_looks_and_authorized_pixels():
    master = make_master()
    fragments = rich_fragments()
    approved_tags = {
        normalize_hashtag(t)
        for t in [*master.style_guide["hashtags"], *master.authorized_subgenres]
    }

    batch = plan_batch(master=master, fragments=fragments, seed=11, max_hashtags=4)

    ids = {f.id for f in fragments}
    for plan in batch.plans:
        assert set(plan.fragment_ids) <= ids
        assert set(plan.hashtags) <= approved_tags
        assert 1 <= len(plan.hashtags) <= 4
        assert len(set(plan.hashtags)) == len(plan.hashtags)
        assert plan.color_look in {"natural", "warm", "teal"}
        assert plan.pixel_id in master.authorized_pixels


def test_no_two_variants_of_a_batch_are_the_same_ad():
    batch = plan_batch(master=make_master(), fragments=rich_fragments(), seed=5)

    signatures = [p.signature for p in batch.plans]
    assert len(set(signatures)) == len(signatures)
    first_impressions = [
        (p.opening_fragment_id, p.narrative_structure, p.duration_category)
        for p in batch.plans
    ]
    assert len(set(first_impressions)) == len(first_impressions)


def test_the_same_seed_gives_the_same_batch_and_another_seed_another():
    master, fragments = make_master(), rich_fragments()

    first = plan_batch(master=master, fragments=fragments, seed=99)
    again = plan_batch(master=master, fragments=list(reversed(fragments)), seed=99)
    other = plan_batch(master=master, fragments=fragments, seed=100)

    assert first == again
    assert [p.signature for p in first.plans] != [p.signature for p in other.plans]


def test_later_batches_avoid_the_signatures_of_earlier_ones():
    master, fragments = make_master(), minimal_fragments()
    earlier = plan_batch(master=master, fragments=fragments, seed=1)
    taken = frozenset(p.signature for p in earlier.plans)

    later = plan_batch(
        master=master, fragments=fragments, seed=1, exclude_signatures=taken
    )

    assert not taken & {p.signature for p in later.plans}


def test_better_fragments_are_used_more_and_fresh_ones_still_get_tried():
    # Given a proven hook, a weak hook and a hook nobody has measured yet
    fragments = [
        frag("strong", "hook", 0.0, 3.0, performance_score=0.9, usage_count=40),
        frag("weak", "hook", 3.0, 6.0, performance_score=0.15, usage_count=40),
        frag("fresh", "hook", 6.0, 9.0),
        frag("b1", "body", 9.0, 15.0),
        frag("c1", "cta", 15.0, 19.0),
    ]

    # When many batches are planned
    uses: Counter[str] = Counter()
    for seed in range(30):
        batch = plan_batch(master=make_master(), fragments=fragments, seed=seed)
        uses.update(p.hook_fragment_id for p in batch.plans)

    # Then the proven hook leads, the weak one trails, and the fresh one is explored
    assert uses["strong"] > uses["fresh"] > uses["weak"]
    assert uses["fresh"] >= 30


def test_measured_evidence_raises_confidence_and_better_evidence_the_score():
    measured = [
        replace(f, performance_score=0.85, usage_count=60) for f in minimal_fragments()
    ]
    poor = [
        replace(f, performance_score=0.2, usage_count=60) for f in minimal_fragments()
    ]

    fresh_batch = plan_batch(
        master=make_master(), fragments=minimal_fragments(), seed=1
    )
    good_batch = plan_batch(master=make_master(), fragments=measured, seed=1)
    poor_batch = plan_batch(master=make_master(), fragments=poor, seed=1)

    assert all(p.confidence == 0 for p in fresh_batch.plans)
    assert all(0.4 < p.confidence < 1 for p in good_batch.plans)
    assert min(p.estimated_score for p in good_batch.plans) > max(
        p.estimated_score for p in poor_batch.plans
    )


def test_hints_give_the_best_structure_the_extra_variant():
    hints = PerformanceHints(
        structure_scores={"cta_forward": 0.9, "hook_body_cta": 0.4}, evidence=30
    )

    batch = plan_batch(
        master=make_master(),
        fragments=minimal_fragments(),
        seed=4,
        count=5,
        hints=hints,
    )

    structures = Counter(p.narrative_structure for p in batch.plans)
    assert structures["cta_forward"] == 2
    assert batch.plans[0].narrative_structure == "cta_forward"


def test_captions_keep_to_the_style_guide():
    master = make_master(
        banned_words=["free", "night"],
        required_phrases=["Out Friday"],
        max_caption_length=60,
        cta_text="Stream it today",
    )
    rules = CaptionRules.from_style_guide(master.style_guide)

    batch = plan_batch(master=master, fragments=rich_fragments(), seed=8)

    for plan in batch.plans:
        assert len(plan.caption) <= 60
        assert "night" not in plan.caption.lower()  # the title holds a banned word
        assert "Out Friday" in plan.caption
        assert "Stream it today" in plan.caption
        assert caption_violations(plan.caption, rules) == []
        assert "night" not in plan.text_overlay.lower()


def test_better_caption_templates_are_chosen_more_often():
    hints = PerformanceHints(caption_template_scores={"question": 0.95})

    batch = plan_batch(
        master=make_master(), fragments=minimal_fragments(), seed=2, hints=hints
    )

    templates = Counter(p.rationale["caption_template"] for p in batch.plans)
    assert templates.most_common(1)[0][0] == "question"


def test_cta_first_structures_show_the_cta_on_screen():
    batch = plan_batch(master=make_master(), fragments=minimal_fragments(), seed=2)

    assert {plan.text_overlay for plan in batch.plans} == {"Listen now"}


def test_a_hook_opening_shows_the_required_phrase_never_the_working_title():
    master = make_master(required_phrases=["New album out Friday"])

    batch = plan_batch(master=master, fragments=minimal_fragments(), seed=2)

    for plan in batch.plans:
        assert "Night Drive" not in plan.text_overlay
        expected = (
            "New album out Friday"
            if plan.narrative_structure == "hook_body_cta"
            else "Listen now"
        )
        assert plan.text_overlay == expected


def test_long_variants_end_on_an_approved_outro():
    batch = plan_batch(master=make_master(), fragments=rich_fragments(), seed=6)

    for plan in batch.plans:
        if plan.duration_category == "long":
            assert plan.slots[-1].fragment_type == "outro"


def test_the_batch_records_its_diversity():
    batch = plan_batch(master=make_master(), fragments=rich_fragments(), seed=6)

    assert 0.5 < batch.diversity <= 1.0
    assert batch.plans[0].rationale["first_impression"]["structure"]


@pytest.mark.parametrize(
    ("missing", "message"),
    [("hook", "no approved hook"), ("cta", "no approved call to action")],
)
def test_a_master_without_an_approved_hook_or_cta_is_refused(missing, message):
    fragments = [f for f in minimal_fragments() if f.fragment_type != missing]

    with pytest.raises(PlanningError, match=message):
        plan_batch(master=make_master(), fragments=fragments, seed=1)


@pytest.mark.parametrize(
    ("style", "message"),
    [
        (
            {"required_phrases": ["x" * 30, "y" * 30], "max_caption_length": 50},
            "max_caption_length is 50",
        ),
        (
            {"required_phrases": ["Free tickets inside"]},
            "Required phrase 'Free tickets inside' contains the banned word 'free'",
        ),
        ({"cta_text": "Get it free"}, "CTA text 'Get it free' contains the banned"),
    ],
)
def test_a_style_guide_no_caption_can_satisfy_is_refused(style, message):
    with pytest.raises(PlanningError, match=message):
        plan_batch(master=make_master(**style), fragments=minimal_fragments(), seed=1)


def test_fewer_than_five_distinct_variants_is_refused_naming_what_is_missing():
    # Given fragments that together last 6 s: only short variants fit (3 structures)
    fragments = [
        frag("h1", "hook", 0.0, 1.5),
        frag("b1", "body", 1.5, 4.0),
        frag("c1", "cta", 4.0, 6.0),
    ]

    with pytest.raises(PlanningError) as refused:
        plan_batch(master=make_master(), fragments=fragments, seed=1)

    message = str(refused.value)
    assert "Only 3 distinct variants" in message
    assert "medium (8-12 s), long (13-18 s)" in message
    assert "more approved hook or CTA fragments" in message


def test_a_fragment_beyond_the_end_of_the_master_is_refused():
    fragments = [*minimal_fragments(), frag("late", "body", 38.0, 41.0)]

    with pytest.raises(PlanningError, match="Fragment late ends at 41.0 s"):
        plan_batch(master=make_master(), fragments=fragments, seed=1)
