"""Refresh plans for fatigued variants (pure)."""

import pytest

from variants.planning import (
    FatiguedVariantInput,
    FragmentInput,
    PerformanceHints,
    PlanningError,
    plan_batch,
    plan_refresh,
    slots_from_fragments_order,
)
from variants.planning.timing import FPS

from .test_planning_batch import frag, make_master


def fragments() -> list[FragmentInput]:
    return [
        frag("h1", "hook", 0.0, 3.0, performance_score=0.8, usage_count=20),
        frag("b1", "body", 3.0, 9.0, performance_score=0.7, usage_count=20),
        frag("b2", "body", 9.0, 15.0, performance_score=0.6, usage_count=10),
        frag("b3", "body", 15.0, 21.0, performance_score=0.2, usage_count=10),
        frag("c1", "cta", 21.0, 25.0, performance_score=0.75, usage_count=20),
    ]


def fatigued_plan():
    batch = plan_batch(master=make_master(), fragments=fragments(), seed=3, count=5)
    return next(
        p
        for p in batch.plans
        if p.narrative_structure == "hook_body_cta" and "b1" in p.fragment_ids
    )


def test_refresh_swaps_the_weakest_fragment_for_the_best_unused_one_of_its_type():
    # Given a fatigued variant whose body did worst
    fatigued = fatigued_plan()
    scores = {"h1": 0.8, "b1": 0.1, "c1": 0.7}

    # When a refresh is planned
    plan = plan_refresh(
        master=make_master(),
        fragments=fragments(),
        fatigued=fatigued,
        fragment_scores=scores,
        seed=1,
        variant_number=4,
    )

    # Then the body is replaced by b2 (better than b3), the rest of the shape is kept
    assert plan.variant_type == "refresh"
    assert plan.variant_number == 4
    assert plan.fragment_ids == ("h1", "b2", "c1")
    assert plan.narrative_structure == fatigued.narrative_structure
    assert plan.duration_category == fatigued.duration_category
    assert sum(s.frames for s in plan.slots) == round(plan.duration_seconds * FPS)
    assert plan.signature != fatigued.signature
    assert plan.rationale["replaced"][0]["old"] == "b1"


def test_refresh_tries_the_next_weakest_when_the_weakest_has_no_alternative():
    fatigued = fatigued_plan()
    scores = {"h1": 0.05, "b1": 0.5, "c1": 0.7}  # only one hook is approved

    plan = plan_refresh(
        master=make_master(),
        fragments=fragments(),
        fatigued=fatigued,
        fragment_scores=scores,
        seed=1,
        variant_number=1,
    )

    assert plan.fragment_ids == ("h1", "b2", "c1")


def test_refresh_without_any_unused_approved_fragment_is_refused():
    only = [
        frag("h1", "hook", 0.0, 3.0),
        frag("b1", "body", 3.0, 9.0),
        frag("c1", "cta", 9.0, 13.0),
    ]
    fatigued = FatiguedVariantInput(
        narrative_structure="hook_body_cta",
        slots=slots_from_fragments_order(
            [
                {"fragment_id": "h1", "fragment_type": "hook"},
                {"fragment_id": "b1", "fragment_type": "body"},
                {"fragment_id": "c1", "fragment_type": "cta"},
            ]
        ),
        duration_seconds=10.0,
    )

    with pytest.raises(PlanningError, match="No unused approved"):
        plan_refresh(
            master=make_master(),
            fragments=only,
            fatigued=fatigued,
            fragment_scores={},
            seed=1,
            variant_number=1,
        )


def test_refresh_replaces_a_fragment_that_is_no_longer_approved():
    fatigued = fatigued_plan()
    still_approved = [f for f in fragments() if f.id != "h1"] + [
        frag("h2", "hook", 25.0, 28.0)
    ]

    plan = plan_refresh(
        master=make_master(),
        fragments=still_approved,
        fatigued=fatigued,
        fragment_scores={"b1": 0.9, "c1": 0.9},
        seed=2,
        variant_number=2,
    )

    assert "h1" not in plan.fragment_ids
    assert plan.hook_fragment_id == "h2"
    reasons = {r["old"]: r["reason"] for r in plan.rationale["replaced"]}
    assert reasons["h1"] == "no longer approved"


def test_hints_with_evidence_raise_the_confidence_of_a_refresh():
    fatigued = fatigued_plan()
    hints = PerformanceHints(
        structure_scores={fatigued.narrative_structure: 0.7},
        duration_scores={fatigued.duration_category: 0.6},
        look_scores={"natural": 0.5, "warm": 0.5, "teal": 0.5},
        evidence=50,
    )
    common = {
        "master": make_master(),
        "fragments": fragments(),
        "fatigued": fatigued,
        "fragment_scores": {"b1": 0.1},
        "seed": 1,
        "variant_number": 1,
    }

    without = plan_refresh(**common)
    with_hints = plan_refresh(**common, hints=hints)

    assert with_hints.confidence > without.confidence
