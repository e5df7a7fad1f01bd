"""Captions are public: built from the style guide, never from the master's internal
working title."""

from dataclasses import replace

import pytest

from tests.variants.test_planning_batch import make_master, rich_fragments
from variants.planning import PerformanceHints, plan_batch

WORKING_TITLE = "Summer Sale 2027 — hero cut"


@pytest.mark.parametrize(
    "style",
    [
        {"tone": "playful"},  # the "Have you heard … yet?" template's tone
        {"tone": "energetic", "required_phrases": ["Summer Sale"]},
        {"tone": "calm", "vibes": []},
    ],
    ids=["playful", "with-a-public-phrase", "no-vibes"],
)
def test_no_caption_of_a_batch_contains_the_working_title(style):
    # Given a master whose title is the team's internal name, hints that favour the
    # question template ("Have you heard Summer Sale 2027 — hero cut yet?")
    master = replace(make_master(**style), title=WORKING_TITLE)
    hints = PerformanceHints(caption_template_scores={"question": 0.95})

    # When a batch is planned
    batch = plan_batch(master=master, fragments=rich_fragments(), seed=3, hints=hints)

    # Then no caption carries the title, or any piece of it past the public phrase
    assert batch.plans
    for plan in batch.plans:
        assert WORKING_TITLE.lower() not in plan.caption.lower()
        assert "hero cut" not in plan.caption.lower()
        assert "2027" not in plan.caption
        assert "Listen now" in plan.caption


def test_captions_lead_with_the_guides_required_phrase():
    master = replace(make_master(required_phrases=["Summer Sale"]), title=WORKING_TITLE)

    batch = plan_batch(master=master, fragments=rich_fragments(), seed=3)

    assert all("Summer Sale" in plan.caption for plan in batch.plans)


def test_the_same_inputs_plan_the_same_captions():
    master = replace(make_master(tone="playful"), title=WORKING_TITLE)

    first = plan_batch(master=master, fragments=rich_fragments(), seed=11)
    again = plan_batch(master=master, fragments=rich_fragments(), seed=11)

    assert [p.caption for p in first.plans] == [p.caption for p in again.plans]
