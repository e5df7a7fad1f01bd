"""A variant's decisions read as sentences with the numbers behind them."""

import datetime as dt

from creative_engine.console.timeline import decision_sentence, timeline_entry

AT = dt.datetime(2026, 12, 5, 9, 30, tzinfo=dt.UTC)


def test_a_promotion_says_its_chance_of_the_top_3_and_the_days_behind_it():
    title, sentence = decision_sentence(
        promotion_type="winner",
        details={"action": "promote", "prob_top_n": 0.914, "days_used": 15},
        at=AT,
    )

    assert title == "Promoted"
    assert sentence == (
        "Promoted on Dec 5: 91% chance of being in the top 3 on 15 days of data."
    )


def test_a_pause_names_the_metric_it_was_judged_by():
    _, sentence = decision_sentence(
        promotion_type="pause",
        details={
            "action": "pause",
            "prob_top_n": 0.02,
            "days_used": 4,
            "metric": "ctr",
        },
        at=AT - dt.timedelta(days=1),
    )

    assert sentence == (
        "Paused on Dec 4: 2% chance of being in the top 3 on 4 days of data "
        "(judged by clicks per impression)."
    )


def test_a_hand_archive_says_who_and_why():
    _, sentence = decision_sentence(
        promotion_type="archive",
        details={"actor": "maria", "reason": "off-brand"},
        at=AT,
    )

    assert sentence == "Archived on Dec 5: off-brand; by maria."


def test_a_fatigue_archive_gives_the_drop_from_baseline():
    _, sentence = decision_sentence(
        promotion_type="archive",
        details={"drop": 0.27, "reason": "drop 27.0% ..."},
        at=AT,
    )

    assert sentence == "Archived on Dec 5: delivery fell 27% from its baseline."


def test_a_failed_decision_is_red_and_quotes_meta():
    entry = timeline_entry(
        promotion_type="winner",
        details={"action": "promote", "prob_top_n": 0.8},
        at=AT,
        promoted_by="Manual",
        success=False,
        error_message="(#100) ad is archived",
    )

    assert entry.tone == "danger"
    assert entry.sentence.endswith("Meta refused: (#100) ad is archived.")


def test_a_successful_decision_never_quotes_its_reason_as_a_refusal():
    entry = timeline_entry(
        promotion_type="test",
        details={"action": "demote", "prob_top_n": 0.42, "days_used": 7},
        at=AT,
        promoted_by="Scheduler",
        success=True,
        error_message="rank 4; P(top 3) = 0.415",
    )

    assert entry.tone == "warning"
    assert "refused" not in entry.sentence
