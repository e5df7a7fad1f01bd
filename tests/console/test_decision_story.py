"""Decisions read as sentences with their evidence (pure: no database)."""

import datetime as dt

from promotion.decision_story import (
    action_for_log,
    action_label,
    decision_numbers,
    decision_sentence,
    key_numbers,
)

PAUSE = {
    "prob_top_n": 0.0,
    "rank": 13,
    "days_used": 8,
    "successes": 41,
    "trials": 5200,
    "posterior_mean": 0.0081,
    "ci_low": 0.0062,
    "ci_high": 0.0104,
    "metric": "ctr",
    "reason": "rank 13; P(top 3) = 0.000 is below 0.02",
}


def test_a_promotion_reads_as_its_chance_of_the_top_three_and_its_days_of_data():
    details = {"prob_top_n": 0.912, "days_used": 15, "rank": 1}

    sentence = decision_sentence("promote", details, on=dt.date(2026, 12, 5))

    assert sentence == (
        "Promoted on Dec 5: 91 % chance of being in the top 3 on 15 days of data"
    )


def test_a_pause_reads_as_its_small_chance_and_rank_never_as_zero_percent():
    sentence = decision_sentence("pause", PAUSE, on=dt.date(2026, 12, 4))

    assert sentence == "Paused on Dec 4: under 1 % chance of top 3 (rank 13)"


def test_a_two_percent_pause_says_two_percent():
    assert decision_sentence("pause", {"prob_top_n": 0.02, "rank": 5}) == (
        "Paused: 2 % chance of top 3 (rank 5)"
    )


def test_a_dry_run_decision_says_what_would_have_happened():
    assert decision_sentence("would_pause", {"prob_top_n": 0.3, "rank": 4}) == (
        "Would pause: 30 % chance of top 3 (rank 4)"
    )
    assert action_label("would_frobnicate") == "Would frobnicate"


def test_failed_evidence_gates_read_as_what_is_missing():
    reason = "below the evidence gates (age, impressions)"

    sentence = decision_sentence("keep_testing", {"reason": reason})

    assert (
        sentence == "Kept testing: not enough evidence yet (too new, few impressions)"
    )


def test_a_budget_step_reads_as_before_after_and_the_roas_behind_it():
    details = {
        "current_daily_budget_minor": 2000,
        "new_daily_budget_minor": 2500,
        "change_ratio": 0.25,
        "measured_roas": 2.314,
        "spend_7d": 140.0,
    }

    sentence = decision_sentence("budget", details)

    assert sentence == (
        "Budget changed: daily budget 20.00 a day → 25.00 a day (+25 %); "
        "ROAS 2.31× on 140.00 spent in 7 days"
    )


def test_fatigue_reads_as_the_drop_from_the_baseline():
    details = {"drop": 0.31, "baseline_rate": 0.012, "recent_rate": 0.0083}

    assert decision_sentence("archive_fatigued", details) == (
        "Archived for fatigue: click-through rate 31 % below its baseline "
        "(1.20 % → 0.83 %)"
    )


def test_an_unknown_action_with_missing_keys_still_reads():
    assert decision_sentence("reshuffle", None) == "Reshuffle"
    assert decision_sentence("generate", {}, reason="3 in flight (< 5)") == (
        "Generated: 3 in flight (< 5)"
    )
    assert decision_sentence("demote", {"reason": "rank 4; P(top 3) = 0.120"}) == (
        "Demoted: rank 4; 12 % chance of top 3"
    )


def test_the_numbers_are_labelled_rows_with_the_interval_joined():
    rows = dict(decision_numbers({**PAUSE, "objective": "sales", "eligible": True}))

    assert rows["Chance of top 3"] == "under 1 %"
    assert rows["Rank"] == "13"
    assert rows["Impressions"] == "5,200"
    assert rows["Estimated rate"] == "0.81 %"
    assert rows["95 % interval"] == "0.62 % – 1.04 %"
    assert rows["Judged on"] == "Click-through rate"
    assert rows["Objective"] == "sales"
    assert rows["Eligible"] == "yes"
    assert "Reason" not in rows and "Ci low" not in rows


def test_odd_values_do_not_break_the_table():
    rows = decision_numbers(
        {
            "rank": "n/a",
            "variant_ids": [str(n) for n in range(9)],
            "call": {"x": 1},
            "nested": {"a": 1},
            "ratio": float("nan"),
        }
    )

    assert ("Rank", "n/a") in rows
    assert ("Variant ids", "9 items") in rows
    assert all(label != "Call" for label, _ in rows)


def test_key_numbers_are_one_short_line():
    assert key_numbers(PAUSE, limit=2) == "Chance of top 3: under 1 % · Rank: 13"
    assert key_numbers(PAUSE, limit=1, leave_out={"prob_top_n", "rank"}) == (
        "Days of data: 8"
    )


def test_a_log_row_names_its_decision_by_type_or_operation():
    assert action_for_log("winner", "promote_top") == "promote_top"
    assert action_for_log("pause", "set_ad_status") == "pause"
    assert action_for_log("upload", "create_ad") == "upload"
    assert decision_sentence(
        action_for_log("winner", "promote_top"), {"prob_top_n": 0.5}
    ) == ("Promoted: 50 % chance of being in the top 3")


def test_a_decision_row_written_as_succeeded_without_success_reads_succeeded():
    from promotion.decision_story import log_outcome

    assert log_outcome(promotion_status="succeeded", success=False) == "succeeded"
    assert log_outcome(promotion_status="succeeded", success=True) == "succeeded"
    assert log_outcome(promotion_status="failed", success=False) == "failed"
    assert (
        log_outcome(
            promotion_status="failed", success=False, operation="upload_refused"
        )
        == "refused"
    )
    assert log_outcome(promotion_status="skipped", success=False) == "refused"
    assert log_outcome(promotion_status="pending", success=False) == "pending"


def test_ids_in_the_numbers_are_counted_never_shown():
    rows = dict(
        decision_numbers(
            {
                "winners": ["89720f18-3e62-4ac4-83c7-e81b1787cc8f"] * 2,
                "refreshed_from": "89720f18-3e62-4ac4-83c7-e81b1787cc8f",
            }
        )
    )

    assert rows == {"Winners": "2 ids", "Refreshed from": "1 id"}
