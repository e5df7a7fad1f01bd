"""The planner leans its looks towards pieces the batch (or the cache) already has."""

from collections import Counter

from variants.planning import (
    FragmentInput,
    MasterInput,
    SlotPlan,
    plan_batch,
    plan_refresh,
    planned_pieces,
)
from variants.planning import looks as looks_module
from variants.planning.assembly import UsedChoices

MASTER = MasterInput(
    id="m",
    title="Working title",
    duration=20.0,
    style_guide={
        "hashtags": ["#newmusic", "#single", "#indie"],
        "required_phrases": ["Out Friday"],
        "cta_text": "Pre-save it",
        "luts": {"film": {"contrast": 1.2}, "warm": {"warmth": 0.5}},
    },
)
FRAGMENTS = [
    FragmentInput(id="h1", fragment_type="hook", start_time=0.0, end_time=4.0),
    FragmentInput(id="h2", fragment_type="hook", start_time=4.0, end_time=8.0),
    FragmentInput(id="b1", fragment_type="body", start_time=8.0, end_time=15.0),
    FragmentInput(id="b2", fragment_type="body", start_time=9.0, end_time=16.0),
    FragmentInput(id="c1", fragment_type="cta", start_time=16.0, end_time=20.0),
]


def _distinct_piece_frames(plans, earlier=None) -> int:
    """Frames the renderer must encode: per (look, overlay, cut start) the longest."""
    pieces = planned_pieces((p.color_look, p.text_overlay, p.slots) for p in plans)
    if earlier is None:
        return sum(pieces.values())
    return sum(max(0, n - earlier.get(key, 0)) for key, n in pieces.items())


def test_shared_fraction_counts_frames_planned_from_the_same_start_look_and_overlay():
    used = UsedChoices()
    used.record_pieces(
        look="film", overlay="Hi", slots=[SlotPlan("h1", "hook", 0.0, 3.0)]
    )
    slots = [SlotPlan("h1", "hook", 0.0, 4.0), SlotPlan("c1", "cta", 16.0, 18.0)]

    assert used.shared_fraction(look="film", overlay="Hi", slots=slots) == 90 / 180
    assert used.shared_fraction(look="warm", overlay="Hi", slots=slots) == 0
    assert used.shared_fraction(look="film", overlay="Other", slots=slots) == 0


def test_a_batch_needs_fewer_encoded_frames_with_the_sharing_preference(monkeypatch):
    # Given the same inputs and seeds, planned with and without the preference
    seeds = range(1, 6)
    with_sharing = [
        plan_batch(master=MASTER, fragments=FRAGMENTS, seed=s, count=15) for s in seeds
    ]
    monkeypatch.setattr(looks_module, "PIECE_SHARING_WEIGHT", 0.0)
    without = [
        plan_batch(master=MASTER, fragments=FRAGMENTS, seed=s, count=15) for s in seeds
    ]

    # Then the renderer has clearly less to encode, and the batches show viewers the
    # same first impressions (only looks move), still in more than one look
    shared = sum(_distinct_piece_frames(b.plans) for b in with_sharing)
    unshared = sum(_distinct_piece_frames(b.plans) for b in without)
    assert shared < 0.9 * unshared
    for leaning, plain in zip(with_sharing, without, strict=True):
        assert sorted(_openings(leaning)) == sorted(_openings(plain))
        assert len({p.color_look for p in leaning.plans}) > 1


def _openings(batch):
    return [
        (p.opening_fragment_id, p.narrative_structure, p.duration_category)
        for p in batch.plans
    ]


def test_a_refresh_prefers_a_look_whose_pieces_the_cache_has():
    batch = plan_batch(master=MASTER, fragments=FRAGMENTS, seed=3, count=15)
    earlier = planned_pieces(
        (p.color_look, p.text_overlay, p.slots) for p in batch.plans
    )
    taken = frozenset(p.signature for p in batch.plans)

    def refreshes(pieces):
        return [
            plan_refresh(
                master=MASTER,
                fragments=FRAGMENTS,
                fatigued=fatigued,
                fragment_scores={},
                seed=40 + n,
                variant_number=16 + n,
                exclude_signatures=taken,
                earlier_pieces=pieces,
            )
            for n, fatigued in enumerate(batch.plans[:5])
        ]

    knowing = _distinct_piece_frames(refreshes(earlier), earlier)
    blind = _distinct_piece_frames(refreshes(None), earlier)

    assert knowing < blind


def test_every_look_is_tried_in_a_batch_though_sharing_alone_would_drop_one(
    monkeypatch,
):
    # Given batches of 15 over five seeds, and three looks (natural, film, warm)
    def batches():
        return [
            plan_batch(master=MASTER, fragments=FRAGMENTS, seed=s, count=15)
            for s in range(1, 6)
        ]

    # When planned with the look floor, and without it
    floored = batches()
    monkeypatch.setattr(looks_module, "LOOK_FLOOR_BONUS", 0.0)
    unfloored = batches()

    # Then every batch tries every look at least twice with the floor; without it,
    # sharing leaves a look out of some batch
    looks = {"natural", "film", "warm"}
    for batch in floored:
        counts = Counter(p.color_look for p in batch.plans)
        assert set(counts) == looks
        assert min(counts.values()) >= 2
    assert any({p.color_look for p in b.plans} != looks for b in unfloored)
