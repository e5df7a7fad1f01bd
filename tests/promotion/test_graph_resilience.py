"""GraphMetaClient under Meta's failure modes: no duplicates, fast token failures,
throttles honoured, long waits rescheduled."""

from __future__ import annotations

import datetime as dt
import os

import httpx
import pytest

from promotion.meta.errors import (
    MetaAmbiguousError,
    MetaInvalidParameterError,
    MetaPermissionError,
    MetaRetryLater,
    MetaTokenError,
    MetaTransientError,
    MetaVersionError,
)
from promotion.meta.protocol import AdSpec, CreativeSpec
from promotion.meta.retry import RetryPolicy
from tests.fakes.graph_server import FakeGraphServer, days, graph_error_body

VIDEOS = r"act_\d+/advideos$"
CREATIVES = r"act_\d+/adcreatives$"
ADS = r"act_\d+/ads$"


def write_file(tmp_path, name: str, size: int) -> str:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return str(path)


def upload_one_variant(client, fake_graph: FakeGraphServer, tmp_path, adset_id: str):
    """The upload pipeline's Meta calls for one variant, keyed by its name."""
    video_id = client.upload_video(
        path=write_file(tmp_path, "v.mp4", 30_000), name="ce-var-7-video"
    )
    client.wait_video_ready(video_id=video_id, timeout_seconds=5)
    image_hash = client.upload_image(
        path=write_file(tmp_path, "p.jpg", 300), name="ce-var-7-poster.jpg"
    )
    creative = client.create_creative(
        spec=CreativeSpec(
            name="ce-var-7-creative",
            page_id="2002",
            video_id=video_id,
            message="Caption #tag",
            title="Title",
            call_to_action_type="LEARN_MORE",
            link="https://shop.example",
            image_hash=image_hash,
        )
    )
    ad_id = client.create_ad(
        spec=AdSpec(
            name="ce-var-7-ad",
            adset_id=adset_id,
            creative_id=creative.creative_id,
            pixel_id="4004",
        )
    )
    return video_id, creative.creative_id, ad_id


def assert_exactly_one_of_each(fake_graph: FakeGraphServer, ids) -> None:
    video_id, creative_id, ad_id = ids
    assert [v["id"] for v in fake_graph.state.finished_videos()] == [video_id]
    assert list(fake_graph.state.creatives) == [creative_id]
    assert list(fake_graph.state.ads) == [ad_id]


def test_one_variant_yields_one_video_creative_and_ad_through_every_failure(
    make_client, fake_graph, tmp_path, recorder
):
    # Given a Meta that fails the first attempts of each create in every way:
    # refusals first (500s, throttles, timeouts before any work), then an
    # attempt that does the work but whose answer is lost or late
    client = make_client(timeout=0.3)
    adset_id = fake_graph.state.add_adset()
    faults = fake_graph.faults
    faults.fail_next("POST", VIDEOS)  # 500 with code 2
    faults.timeout_next("POST", VIDEOS, seconds=1.0, work="none")
    faults.timeout_next("POST", VIDEOS, seconds=1.0)  # did the work, answered late
    faults.rate_limit_next("POST", CREATIVES, code=80004, eta_minutes=0.1)
    faults.fail_next("POST", CREATIVES, status=503, body="<html>Oops</html>")
    faults.lose_response_next("POST", CREATIVES, mode="502")  # did the work
    faults.fail_next("POST", ADS, status=500, body=b"")
    faults.rate_limit_next("POST", ADS, code=17)
    faults.timeout_next("POST", ADS, seconds=1.0, work="none")
    faults.lose_response_next("POST", ADS, mode="reset")  # did the work

    # When the variant is uploaded
    ids = upload_one_variant(client, fake_graph, tmp_path, adset_id)

    # Then Meta holds exactly one video, one creative and one ad
    assert faults.pending() == 0
    assert_exactly_one_of_each(fake_graph, ids)
    # And the client said where it found the objects it had created blind
    found = [c for c in recorder.calls if c.details.get("found_by_name")]
    assert {c.operation for c in found} == {
        "upload_video",
        "create_creative",
        "create_ad",
    }
    # And the advertised throttle wait (0.1 min) was honoured
    assert max(recorder.sleeps) >= 6.0


@pytest.mark.parametrize(
    "arm",
    [
        pytest.param(lambda f, p: f.fail_next("POST", p), id="500-code-2"),
        pytest.param(
            lambda f, p: f.fail_next("POST", p, status=500, body=b""), id="500-empty"
        ),
        pytest.param(
            lambda f, p: f.fail_next("POST", p, status=502, body="<html/>"),
            id="502-html",
        ),
        pytest.param(lambda f, p: f.lose_response_next("POST", p), id="lost-drop"),
        pytest.param(
            lambda f, p: f.lose_response_next("POST", p, mode="reset"), id="lost-reset"
        ),
        pytest.param(
            lambda f, p: f.lose_response_next("POST", p, mode="502"), id="lost-502"
        ),
        pytest.param(
            lambda f, p: f.timeout_next("POST", p, seconds=1.0), id="timeout-did-work"
        ),
        pytest.param(
            lambda f, p: f.timeout_next("POST", p, seconds=1.0, work="none"),
            id="timeout-no-work",
        ),
        pytest.param(
            lambda f, p: f.rate_limit_next("POST", p, code=613, subcode=1487742),
            id="throttle-613",
        ),
        pytest.param(
            lambda f, p: f.fail_next(
                "POST", p, status=400, error=graph_error_body(1, subcode=99)
            ),
            id="unknown-error-1",
        ),
    ],
)
@pytest.mark.parametrize("path", [VIDEOS, CREATIVES, ADS])
def test_each_create_survives_each_failure_without_a_duplicate(
    make_client, fake_graph, tmp_path, arm, path
):
    # Given one failure on one create endpoint
    client = make_client(timeout=0.3)
    adset_id = fake_graph.state.add_adset()
    arm(fake_graph.faults, path)

    # When the variant is uploaded
    ids = upload_one_variant(client, fake_graph, tmp_path, adset_id)

    # Then there is exactly one of each object
    assert fake_graph.faults.pending() == 0
    assert_exactly_one_of_each(fake_graph, ids)


def test_a_bad_token_fails_fast_with_one_request_and_a_clear_message(
    make_client, fake_graph, tmp_path, recorder
):
    # Given a client holding a token Meta does not accept
    client = make_client(access_token="WRONG")

    # When the first call is made
    with pytest.raises(MetaTokenError) as caught:
        client.upload_video(path=write_file(tmp_path, "v.mp4", 10), name="v")

    # Then it failed on the first request, with no retry and no lookup
    assert len(fake_graph.requests) == 1
    assert caught.value.code == 190
    assert "META_ACCESS_TOKEN" in str(caught.value)
    assert "Invalid OAuth access token" in str(caught.value)
    assert "WWW-Authenticate" in caught.value.headers or (
        "www-authenticate" in caught.value.headers
    )
    assert recorder.sleeps == []
    [call] = recorder.calls
    assert (call.success, call.error_code) == (False, 190)


def test_an_expired_token_on_a_create_is_not_retried_or_looked_up(
    make_client, fake_graph
):
    fake_graph.expired_tokens.add("OLD")
    client = make_client(access_token="OLD")
    adset_id = fake_graph.state.add_adset()

    with pytest.raises(MetaTokenError) as caught:
        client.create_ad(spec=AdSpec(name="a", adset_id=adset_id, creative_id="1"))

    assert caught.value.subcode == 463
    assert len(fake_graph.requests) == 1


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (graph_error_body(200, "(#200) Permissions error"), MetaPermissionError),
        (graph_error_body(10, "(#10) Permission denied"), MetaPermissionError),
        (graph_error_body(294, "(#294) Managing ads requires"), MetaPermissionError),
        (
            graph_error_body(100, "(#100) Invalid parameter", subcode=33),
            MetaInvalidParameterError,
        ),
        (graph_error_body(102, "Session key invalid"), MetaTokenError),
    ],
)
def test_permanent_errors_on_a_create_stop_at_the_first_request(
    client, fake_graph, error, expected
):
    adset_id = fake_graph.state.add_adset()
    fake_graph.faults.fail_next("POST", ADS, status=400, error=error, times=5)

    with pytest.raises(expected):
        client.create_ad(spec=AdSpec(name="a", adset_id=adset_id, creative_id="1"))

    assert len(fake_graph.requests) == 1


def test_a_deprecated_api_version_fails_fast(make_client, fake_graph):
    fake_graph.min_version = (26, 0)
    client = make_client(api_version="v24.0")

    with pytest.raises(MetaVersionError, match="2635"):
        client.get_adset(adset_id=fake_graph.state.add_adset())

    assert len(fake_graph.requests) == 1


def test_the_creative_oops_error_is_tried_three_times_at_most(
    client, fake_graph, tmp_path
):
    # Given a video and Meta failing every creative create with 100/1487390
    video_id = client.upload_video(path=write_file(tmp_path, "v.mp4", 10), name="v")
    oops = graph_error_body(
        100, "Adcreative Create Failed", subcode=1487390, is_transient=False
    )
    fake_graph.faults.fail_next("POST", CREATIVES, status=400, error=oops, times=10)

    # When a creative is created
    with pytest.raises(MetaInvalidParameterError):
        client.create_creative(
            spec=CreativeSpec(
                name="c",
                page_id="2002",
                video_id=video_id,
                message="m",
                title="t",
                call_to_action_type="LEARN_MORE",
                link="https://x.example",
                image_hash="",
            )
        )

    # Then exactly three creates were sent
    assert len(fake_graph.requests_to("POST", CREATIVES)) == 3


def test_a_short_advertised_throttle_is_slept_through(client, fake_graph, recorder):
    # Given an 80004 throttle advertising 0.25 minutes on the next budget read
    adset_id = fake_graph.state.add_adset()
    fake_graph.faults.rate_limit_next(
        "GET", rf"^{adset_id}$", code=80004, eta_minutes=0.25
    )

    # When the ad set is read
    info = client.get_adset(adset_id=adset_id)

    # Then the client slept the advertised 15 s (injected sleep) and succeeded
    assert info.daily_budget_minor == 5000
    assert recorder.sleeps and recorder.sleeps[0] >= 15.0


def test_a_long_advertised_throttle_is_rescheduled_not_slept(
    client, fake_graph, tmp_path, recorder
):
    # Given a 17 throttle advertising 10 minutes on the ads edge
    adset_id = fake_graph.state.add_adset()
    fake_graph.faults.rate_limit_next("POST", ADS, code=17, eta_minutes=10)

    # When an ad is created
    with pytest.raises(MetaRetryLater) as caught:
        client.create_ad(spec=AdSpec(name="a", adset_id=adset_id, creative_id="1"))

    # Then the task is told to come back in 10 minutes; nothing slept, no lookup
    assert caught.value.retry_after_seconds >= 600
    assert caught.value.code == 17
    assert recorder.sleeps == []
    assert len(fake_graph.requests) == 1


def test_the_fifth_budget_change_in_an_hour_is_rescheduled(client, fake_graph):
    # Given an ad set whose budget changed four times in the last hour
    adset_id = fake_graph.state.add_adset()
    for budget in (5100, 5200, 5300, 5400):
        client.set_adset_budget(adset_id=adset_id, daily_budget_minor=budget)

    # When a fifth change is asked for
    with pytest.raises(MetaRetryLater) as caught:
        client.set_adset_budget(adset_id=adset_id, daily_budget_minor=5500)

    # Then Meta's code 17 becomes a reschedule for when the window reopens
    assert caught.value.code == 17
    assert caught.value.retry_after_seconds >= 60
    assert fake_graph.state.adsets[adset_id]["daily_budget"] == 5400


def test_an_unanswered_budget_change_is_checked_before_it_is_repeated(
    client, fake_graph, recorder
):
    # Given a budget change whose answer is lost after Meta applied it
    adset_id = fake_graph.state.add_adset()
    fake_graph.faults.lose_response_next("POST", rf"^{adset_id}$")

    # When the budget is set
    client.set_adset_budget(adset_id=adset_id, daily_budget_minor=7000)

    # Then it was applied once: one of the four hourly changes spent, not two
    assert fake_graph.state.adsets[adset_id]["daily_budget"] == 7000
    assert len(fake_graph.state.adsets[adset_id]["budget_changes"]) == 1
    assert recorder.ops("set_adset_budget")[-1].details["verified_by_read"] is True


def test_reads_retry_transient_errors_mid_paging(make_client, fake_graph):
    # Given ten insight rows and a 500 on the second page
    client = make_client(page_size=4)
    since = dt.date(2026, 9, 1)
    for day in days(since, since + dt.timedelta(days=9)):
        fake_graph.state.seed_insight("11", day)
    seen = []

    def fail_second_page():
        fake_graph.faults.fail_next("GET", r"insights$", when={"limit": "4"})

    # When rows are read, the fault armed after the first page arrived
    for n, row in enumerate(
        client.get_daily_insights(
            ad_ids=["11"], since=since, until=since + dt.timedelta(days=9)
        )
    ):
        if n == 0:
            fail_second_page()
        seen.append(row.date)

    # Then every day arrived once
    assert seen == list(days(since, since + dt.timedelta(days=9)))


def test_an_unreachable_meta_is_retried_then_reported_as_transient(
    make_client, recorder
):
    # Given a base URL where nothing listens
    client = make_client(base_url="http://127.0.0.1:9")

    # When a read is made
    with pytest.raises(MetaTransientError, match="connect"):
        client.get_adset(adset_id="1")

    # Then every attempt was tried and reported
    assert len(recorder.calls) == 5
    assert len(recorder.sleeps) == 4


def test_a_timed_out_read_is_ambiguous_and_retried(make_client, fake_graph):
    client = make_client(
        timeout=0.2, retry_policy=RetryPolicy(max_attempts=2, base_delay=0.01)
    )
    adset_id = fake_graph.state.add_adset()
    fake_graph.faults.timeout_next("GET", rf"^{adset_id}$", seconds=1.0, times=2)

    with pytest.raises(MetaAmbiguousError, match="No answer"):
        client.get_adset(adset_id=adset_id)

    assert len(fake_graph.requests) == 2


def test_a_failing_observer_is_raised_and_a_resumed_create_adopts_the_done_one(
    make_client, fake_graph
):
    # Given the log of a successful create cannot be written
    def broken_observer(call):
        raise RuntimeError("database is down")

    adset_id = fake_graph.state.add_adset()
    creative_id = fake_graph.state.new_id()
    fake_graph.state.creatives[creative_id] = {"id": creative_id, "name": "c"}
    spec = AdSpec(name="a", adset_id=adset_id, creative_id=creative_id)

    # When the ad is created, then the failure is an error (not swallowed)
    with pytest.raises(RuntimeError, match="database is down"):
        make_client(observer=broken_observer).create_ad(spec=spec)

    # And the retry, resuming, finds the ad by name instead of creating another
    ad_id = make_client().create_ad(spec=spec, resume=True)
    assert list(fake_graph.state.ads) == [ad_id]


class RefuseFirstConnection(httpx.HTTPTransport):
    """A transport whose first connection attempt is refused."""

    def __init__(self) -> None:
        super().__init__()
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.refused:
            self.refused += 1
            raise httpx.ConnectError("Connection refused", request=request)
        return super().handle_request(request)


def test_a_refused_connection_is_retried_without_a_lookup(make_client, fake_graph):
    # Given the first connection to Meta is refused (the create never left)
    transport = RefuseFirstConnection()
    client = make_client(transport=transport)
    adset_id = fake_graph.state.add_adset()
    creative_id = fake_graph.state.new_id()
    fake_graph.state.creatives[creative_id] = {"id": creative_id, "name": "c"}

    # When an ad is created
    ad_id = client.create_ad(
        spec=AdSpec(name="a", adset_id=adset_id, creative_id=creative_id)
    )

    # Then it was created on the second try, with no lookup in between
    assert transport.refused == 1
    assert list(fake_graph.state.ads) == [ad_id]
    assert [r.method for r in fake_graph.requests] == ["POST"]


def test_when_the_attempts_run_out_after_a_lost_answer_the_name_is_checked_once_more(
    make_client, fake_graph, recorder
):
    # Given a policy with a single attempt, and that attempt's answer lost
    client = make_client(retry_policy=RetryPolicy(max_attempts=1))
    adset_id = fake_graph.state.add_adset()
    creative_id = fake_graph.state.new_id()
    fake_graph.state.creatives[creative_id] = {"id": creative_id, "name": "c"}
    fake_graph.faults.lose_response_next("POST", ADS)

    # When an ad is created
    ad_id = client.create_ad(
        spec=AdSpec(name="a", adset_id=adset_id, creative_id=creative_id)
    )

    # Then the done create is found, not reported as a failure
    assert list(fake_graph.state.ads) == [ad_id]
    assert recorder.ops("create_ad")[-1].details["found_by_name"] is True
