"""The retry policy, table-driven over every code the issue names (§6.2)."""

import json
import random

import pytest

from promotion.meta.errors import (
    MetaAmbiguousError,
    MetaRetryLater,
    error_from_payload,
)
from promotion.meta.retry import (
    RetryPolicy,
    TaskAction,
    advertised_wait_seconds,
    usage_percent,
)

POLICY = RetryPolicy(
    max_attempts=5,
    base_delay=0.1,
    max_delay=2.0,
    max_inline_wait=30.0,
    rate_limit_base_delay=0.5,
    creative_oops_max_attempts=3,
)


class FixedRandom:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def graph_error(code, subcode=None, *, is_transient=False, headers=None, data=None):
    body = {"message": f"error {code}", "type": "OAuthException", "code": code}
    if subcode is not None:
        body["error_subcode"] = subcode
    body["is_transient"] = is_transient
    if data is not None:
        body["error_data"] = data
    return error_from_payload({"error": body}, http_status=400, headers=headers)


RETRIED = [(1, None, False), (1, 99, False), (2, 1342001, True), (4, 1504022, True)]
RETRIED += [(17, 2446079, True), (32, None, False), (341, None, False)]
RETRIED += [(613, 1487742, False), (613, 1996, False)]
RETRIED += [(code, 2446079, False) for code in range(80000, 80015)]

NEVER_RETRIED = [
    (190, None),
    (190, 458),
    (190, 460),
    (190, 463),
    (190, 467),
    (102, None),
    (10, None),
    (200, None),
    (250, None),
    (294, None),
    (299, None),
    (100, None),
    (100, 33),
    (100, 1487694),
    (2635, None),
]


@pytest.mark.parametrize(("code", "subcode", "is_transient"), RETRIED)
def test_retryable_codes_are_retried_inline_with_a_bounded_delay(
    code, subcode, is_transient
):
    # Given a retryable Graph error on the first attempt
    error = graph_error(code, subcode, is_transient=is_transient)

    # When the policy decides
    decision = POLICY.decide(error, 1, rng=random.Random(7))

    # Then it retries inline, without rescheduling, within the caps
    assert decision.retry is True
    assert decision.reschedule is False
    assert 0 < decision.delay_seconds <= POLICY.max_inline_wait


@pytest.mark.parametrize(("code", "subcode"), NEVER_RETRIED)
@pytest.mark.parametrize("is_transient", [False, True])
def test_token_permission_parameter_and_version_errors_are_never_retried(
    code, subcode, is_transient
):
    # Given a permanent error, even one Meta (wrongly) flags as transient
    error = graph_error(code, subcode, is_transient=is_transient)

    # When the policy decides on the first attempt
    decision = POLICY.decide(error, 1, rng=random.Random(7))

    # Then it neither retries nor reschedules
    assert (decision.retry, decision.reschedule) == (False, False)


@pytest.mark.parametrize(
    ("attempt", "retried"), [(1, True), (2, True), (3, False), (4, False)]
)
def test_creative_oops_1487390_is_tried_at_most_three_times(attempt, retried):
    # Given the generic "Adcreative Create Failed" error
    error = graph_error(100, 1487390)

    # When attempt number `attempt` failed with it
    decision = POLICY.decide(error, attempt, rng=random.Random(1))

    # Then only the first two failures lead to another (third) attempt
    assert decision.retry is retried
    assert decision.reschedule is False


def test_token_error_decision_names_the_setting_to_fix():
    decision = POLICY.decide(graph_error(190, 463), 1, rng=random.Random(1))

    assert "META_ACCESS_TOKEN" in decision.reason


def test_ambiguous_failures_are_retried_until_the_attempts_are_spent():
    # Given a timeout with no answer from Meta
    error = MetaAmbiguousError("read timeout")

    # When the policy decides on the early and the last attempt
    early = POLICY.decide(error, 1, rng=random.Random(3))
    last = POLICY.decide(error, POLICY.max_attempts, rng=random.Random(3))

    # Then it retries early and gives up at the bound
    assert early.retry is True
    assert (last.retry, last.reschedule) == (False, False)


def test_unknown_codes_are_retried_only_when_meta_says_transient():
    assert POLICY.decide(
        graph_error(9999, is_transient=True), 1, rng=FixedRandom(0)
    ).retry
    assert not POLICY.decide(graph_error(9999), 1, rng=FixedRandom(0)).retry


def test_backoff_grows_is_capped_and_keeps_a_jitter_floor():
    # Given the lowest and the highest jitter draw
    low, high = FixedRandom(0.0), FixedRandom(0.999999)

    # When the backoff is computed for growing attempts
    lows = [POLICY.backoff(n, rng=low) for n in range(1, 10)]
    highs = [POLICY.backoff(n, rng=high) for n in range(1, 10)]

    # Then it doubles from base_delay, never exceeds max_delay, never drops below half
    assert lows[0] == pytest.approx(0.05)
    assert highs[0] == pytest.approx(0.1, rel=1e-3)
    assert lows == sorted(lows)
    assert max(highs) <= POLICY.max_delay
    assert min(lows[-3:]) == pytest.approx(POLICY.max_delay / 2)


def test_jitter_spreads_delays_of_simultaneous_failures():
    error = graph_error(2, is_transient=True)

    delays = {
        POLICY.decide(error, 3, rng=random.Random(s)).delay_seconds for s in range(20)
    }

    assert len(delays) > 10


def buc_header(minutes: float, *, account: str = "1001") -> dict[str, str]:
    usage = {
        account: [
            {
                "type": "ads_management",
                "call_count": 100,
                "total_cputime": 20,
                "total_time": 20,
                "estimated_time_to_regain_access": minutes,
                "ads_api_access_tier": "development_access",
            }
        ]
    }
    return {"X-Business-Use-Case-Usage": json.dumps(usage)}


def test_a_short_advertised_wait_is_slept_through():
    # Given an 80004 throttle that advertises a 0.2-minute wait (12 s)
    error = graph_error(80004, 2446079, is_transient=True, headers=buc_header(0.2))

    # When the policy decides
    decision = POLICY.decide(error, 1, rng=FixedRandom(0.5))

    # Then it sleeps at least the advertised wait, inline
    assert decision.retry is True
    assert decision.delay_seconds >= 12.0


def test_a_long_advertised_wait_is_rescheduled_not_slept():
    # Given a 17 throttle that advertises 5 minutes, beyond the inline cap
    error = graph_error(17, 2446079, is_transient=True, headers=buc_header(5))

    # When the policy decides
    decision = POLICY.decide(error, 1, rng=FixedRandom(0.5))

    # Then the caller must reschedule for at least five minutes
    assert (decision.retry, decision.reschedule) == (False, True)
    assert decision.delay_seconds >= 300


def test_a_throttle_that_outlasts_the_attempts_is_rescheduled_not_failed():
    error = graph_error(613, 1487742)

    decision = POLICY.decide(error, POLICY.max_attempts, rng=FixedRandom(0.5))

    assert decision.reschedule is True


def test_policy_block_368_is_a_long_pause():
    decision = POLICY.decide(graph_error(368), 1, rng=FixedRandom(0.5))

    assert decision.reschedule is True
    assert decision.delay_seconds >= 3600


@pytest.mark.parametrize(
    ("subcode", "retried", "delay_zero"),
    [(1363037, True, True), (1363030, True, False), (1363045, False, False)],
)
def test_video_upload_errors_resume_restart_or_stop(subcode, retried, delay_zero):
    error = graph_error(6001 if subcode != 1363045 else 6000, subcode)

    decision = POLICY.decide(error, 1, rng=FixedRandom(0.5))

    assert decision.retry is retried
    if retried:
        assert (decision.delay_seconds == 0.0) is delay_zero


def test_a_retry_later_stays_rescheduled():
    later = MetaRetryLater("wait", retry_after_seconds=120.0)

    decision = POLICY.decide(later, 1, rng=FixedRandom(0.5))

    assert (decision.reschedule, decision.delay_seconds) == (True, 120.0)


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, 0.0),
        (buc_header(3), 180.0),
        ({"x-business-use-case-usage": "not json"}, 0.0),
        (
            {
                "x-ad-account-usage": json.dumps(
                    {"acc_id_util_pct": 9.67, "reset_time_duration": 100}
                )
            },
            0.0,
        ),
        (
            {
                "X-Ad-Account-Usage": json.dumps(
                    {"acc_id_util_pct": 100, "reset_time_duration": 240}
                )
            },
            240.0,
        ),
        (
            {
                "x-app-usage": json.dumps(
                    {"call_count": 100, "estimated_time_to_regain_access": 2}
                )
            },
            120.0,
        ),
        ({**buc_header(1), **buc_header(4, account="2002")}, 240.0),
    ],
)
def test_advertised_wait_reads_every_usage_header_shape(headers, seconds):
    assert advertised_wait_seconds(headers) == seconds


def test_usage_percent_is_the_highest_reported_share():
    headers = {
        "x-app-usage": json.dumps({"call_count": 28, "total_time": 25}),
        "x-ad-account-usage": json.dumps({"acc_id_util_pct": 91.5}),
    }

    assert usage_percent(headers) == 91.5


# --- the task's questions: retry when, give up when ------------------------------

TASK_POLICY = RetryPolicy(task_max_retries=3, task_base_countdown=60.0)


def test_a_task_retries_a_transient_error_with_jittered_backoff_from_a_minute():
    error = graph_error(2, is_transient=True)

    first = TASK_POLICY.decide_task(error, 0, rng=FixedRandom(0.0), max_countdown=3600)
    third = TASK_POLICY.decide_task(error, 2, rng=FixedRandom(1.0), max_countdown=3600)

    assert (first.action, first.countdown) == (TaskAction.RETRY, 30.0)
    assert (third.action, third.countdown) == (TaskAction.RETRY, 240.0)


def test_a_task_gives_up_at_its_bound_failing_errors_and_postponing_throttles():
    failed = TASK_POLICY.decide_task(
        graph_error(2, is_transient=True), 3, rng=FixedRandom(0.5), max_countdown=3600
    )
    postponed = TASK_POLICY.decide_task(
        graph_error(17, 2446079, is_transient=True),
        3,
        rng=FixedRandom(0.5),
        max_countdown=3600,
    )

    assert failed.action == TaskAction.FAIL
    assert failed.reason.startswith("Gave up after 4 attempts")
    assert postponed.action == TaskAction.POSTPONE


def test_a_task_waits_what_meta_asked_but_never_beyond_its_ceiling():
    later = MetaRetryLater("blocked", retry_after_seconds=900.0)
    day = MetaRetryLater("a day", retry_after_seconds=86400.0)

    asked = TASK_POLICY.decide_task(later, 0, rng=FixedRandom(0.5), max_countdown=3000)
    capped = TASK_POLICY.decide_task(day, 0, rng=FixedRandom(0.5), max_countdown=3000)

    assert (asked.action, asked.countdown) == (TaskAction.RETRY, 900.0)
    assert (capped.action, capped.countdown) == (TaskAction.RETRY, 3000.0)


@pytest.mark.parametrize(("code", "subcode"), [(190, None), (10, None), (100, 33)])
def test_a_permanent_error_stops_the_task_and_is_permanent_for_the_service(
    code, subcode
):
    error = graph_error(code, subcode)

    decision = TASK_POLICY.decide_task(
        error, 0, rng=FixedRandom(0.5), max_countdown=3600
    )

    assert decision.action == TaskAction.STOP
    assert TASK_POLICY.is_permanent(error)
    assert not TASK_POLICY.is_permanent(graph_error(2, is_transient=True))
