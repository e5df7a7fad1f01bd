"""A variant's timeline: decision_story's sentence, who acted, and a tone."""

import datetime as dt

from creative_engine.console.timeline import timeline_entry

AT = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)


def _entry(promotion_type, details, *, success=True, error=""):
    return timeline_entry(
        promotion_type=promotion_type,
        details=details,
        at=AT,
        promoted_by="Scheduler",
        success=success,
        error_message=error,
    )


def test_a_promotion_reads_with_its_chance_of_the_top_3_and_is_green():
    entry = _entry(
        "winner", {"action": "promote", "prob_top_n": 0.914, "days_used": 15}
    )

    assert entry.title == "Promoted"
    assert entry.tone == "success"
    assert entry.sentence == (
        "Promoted on Dec 5: 91 % chance of being in the top 3 on 15 days of data."
    )


def test_a_hand_archive_says_why_and_who():
    entry = _entry("archive", {"actor": "maria", "reason": "off-brand"})

    assert entry.sentence == "Archived on Dec 5: off-brand, by maria."
    assert entry.tone == "danger"


def test_a_failed_decision_is_red_and_quotes_meta():
    entry = _entry(
        "winner",
        {"action": "promote", "prob_top_n": 0.8},
        success=False,
        error="(#100) ad is archived",
    )

    assert entry.tone == "danger"
    assert entry.sentence.endswith("Meta refused: (#100) ad is archived.")


def test_a_successful_decision_never_quotes_its_reason_as_a_refusal():
    entry = _entry(
        "test",
        {"action": "demote", "prob_top_n": 0.42, "days_used": 7},
        error="rank 4; P(top 3) = 0.415",
    )

    assert entry.tone == "warning"
    assert "refused" not in entry.sentence
