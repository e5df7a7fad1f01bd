"""StubMetaClient: Meta's contract without the network, deterministic per seed."""

import dataclasses
import datetime as dt
import os
from collections import Counter

import pytest

from promotion.meta.configured import get_meta_client
from promotion.meta.enhancements import ADVANTAGE_CREATIVE_FEATURES
from promotion.meta.errors import (
    MetaApiError,
    MetaError,
    MetaRateLimitError,
    MetaTransientError,
)
from promotion.meta.protocol import (
    AdSpec,
    AdStatus,
    CreativeSpec,
    MetaAdsClient,
    MetaCall,
)
from promotion.meta.stub import StubMetaClient
from promotion.models import StubMetaAttempt, StubMetaObject
from tests.promotion.builders import T0

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


@pytest.fixture
def video_path(tmp_path):
    path = tmp_path / "variant.mp4"
    path.write_bytes(b"\x00" * 4096)
    return str(path)


@pytest.fixture
def poster_path(tmp_path):
    path = tmp_path / "poster.jpg"
    path.write_bytes(b"\xff\xd8poster")
    return str(path)


def stub(seed: int = 5, failure_rate: float = 0.0, **kwargs) -> StubMetaClient:
    kwargs.setdefault("clock", lambda: T0)
    return StubMetaClient(seed=seed, failure_rate=failure_rate, **kwargs)


def upload_ad(client: StubMetaClient, name: str, video: str, poster: str) -> str:
    video_id = client.upload_video(path=video, name=f"{name}-video")
    image_hash = client.upload_image(path=poster, name=f"{name}-poster")
    creative = client.create_creative(
        spec=CreativeSpec(
            name=f"{name}-creative",
            page_id="111",
            video_id=video_id,
            message="Listen now",
            title="New single",
            call_to_action_type="LEARN_MORE",
            link="https://example.com",
            image_hash=image_hash,
        )
    )
    return client.create_ad(
        spec=AdSpec(name=f"{name}-ad", adset_id="900", creative_id=creative.creative_id)
    )


def scenario(seed: int, video: str, poster: str) -> tuple[list[str], list]:
    """Three ads, two activated for a week, read back."""
    client = stub(seed=seed)
    ads = [upload_ad(client, f"ce-{n}", video, poster) for n in range(3)]
    for ad in ads[:2]:
        client.set_ad_status(ad_id=ad, status=AdStatus.ACTIVE)
    later = stub(seed=seed, clock=lambda: T0 + 8 * DAY)
    rows = list(
        later.get_daily_insights(ad_ids=ads, since=T0.date(), until=T0.date() + 7 * DAY)
    )
    return ads, rows


def test_same_seed_gives_the_same_ids_and_insights(video_path, poster_path):
    # Given a scenario played on a fresh account
    first = scenario(11, video_path, poster_path)

    # When the account is wiped and the scenario replayed with the same seed
    StubMetaObject.objects.all().delete()
    StubMetaAttempt.objects.all().delete()
    second = scenario(11, video_path, poster_path)

    # Then every id and every number is the same
    assert first == second
    assert all(ad.isdigit() and len(ad) == 18 for ad in first[0])
    assert first[1], "the active ads delivered"


def test_another_seed_gives_other_ids_and_numbers(video_path, poster_path):
    ads_a, rows_a = scenario(11, video_path, poster_path)
    ads_b, rows_b = scenario(12, video_path, poster_path)

    assert set(ads_a).isdisjoint(ads_b)
    assert [r.impressions for r in rows_a] != [r.impressions for r in rows_b]


def test_the_default_failure_rate_lets_80_to_90_percent_of_uploads_through(
    video_path, poster_path
):
    # Given the configured default failure rate
    client = stub(seed=1017, failure_rate=0.15)

    # When 250 uploads are attempted once each
    outcomes = []
    for n in range(250):
        try:
            upload_ad(client, f"ce-{n}", video_path, poster_path)
        except MetaError as exc:
            outcomes.append(type(exc).__name__)
        else:
            outcomes.append("ok")

    # Then 80-90 % succeed and the failures are Meta's own error types; an
    # ambiguous failure did the work, so the client finds it and it counts as done
    share = outcomes.count("ok") / len(outcomes)
    assert 0.80 <= share <= 0.90
    kinds = Counter(o for o in outcomes if o != "ok")
    assert "MetaTransientError" in kinds
    assert "MetaAmbiguousError" not in kinds


def test_failures_carry_metas_codes_and_every_attempt_reaches_the_observer(
    video_path,
):
    # Given a stub whose first three video uploads fail in scripted ways
    calls: list[MetaCall] = []
    client = stub(
        observer=calls.append,
        inject_failures={"upload_video": ["transient", "throttled", "permanent"]},
    )

    # When the upload is attempted four times
    errors = []
    for _ in range(3):
        with pytest.raises(MetaApiError) as caught:
            client.upload_video(path=video_path, name="ce-x-video")
        errors.append(caught.value)
    video_id = client.upload_video(path=video_path, name="ce-x-video")

    # Then the errors are typed like Meta's and the observer saw every attempt,
    # and the lookup by name after the one failure that may have done the work
    assert isinstance(errors[0], MetaTransientError) and errors[0].code == 2
    assert isinstance(errors[1], MetaRateLimitError) and errors[1].code == 17
    assert (errors[2].code, errors[2].subcode) == (6000, 1363045)
    assert [(c.operation, c.attempt, c.success, c.error_code) for c in calls] == [
        ("upload_video", 1, False, 2),
        ("find_video", 1, True, None),
        ("upload_video", 2, False, 17),
        ("upload_video", 3, False, 6000),
        ("upload_video", 4, True, None),
    ]
    assert calls[-1].object_id == video_id


def test_an_ambiguous_failure_did_the_work_and_the_client_returns_it_found_by_name(
    video_path,
):
    # Given a stub that does the work but loses the answer
    calls: list[MetaCall] = []
    client = stub(
        observer=calls.append, inject_failures={"upload_video": ["ambiguous"]}
    )

    # When the video is uploaded
    video_id = client.upload_video(path=video_path, name="ce-amb-video")

    # Then the client looked it up by name and returned the one video Meta made
    assert video_id == client.find_video_by_name(name="ce-amb-video")
    assert StubMetaObject.objects.filter(kind="video").count() == 1
    assert [(c.operation, c.success) for c in calls[:2]] == [
        ("upload_video", False),
        ("find_video", True),
    ]
    assert client.find_video_by_name(name="ce-other-video") is None


def test_a_resumed_create_looks_up_first_and_creates_nothing_new(video_path):
    # Given a video uploaded by an earlier attempt
    client = stub()
    video_id = client.upload_video(path=video_path, name="ce-r-video")

    # When a retry resumes the same uploads
    again = client.upload_video(path=video_path, name="ce-r-video", resume=True)
    fresh = client.upload_video(path=video_path, name="ce-r-video")

    # Then resuming finds the first video; only a fresh create makes another
    assert again == video_id
    assert fresh != video_id
    assert StubMetaObject.objects.filter(kind="video").count() == 2


def test_creatives_opt_out_of_every_enhancement(video_path, poster_path):
    client = stub()
    video_id = client.upload_video(path=video_path, name="ce-c-video")

    result = client.create_creative(
        spec=CreativeSpec(
            name="ce-c-creative",
            page_id="111",
            video_id=video_id,
            message="m",
            title="t",
            call_to_action_type="LEARN_MORE",
            link="https://example.com",
        )
    )

    assert set(result.enhancements) == set(ADVANTAGE_CREATIVE_FEATURES)
    assert set(result.enhancements.values()) == {"OPT_OUT"}


def test_the_stub_opts_out_exactly_as_the_graph_client_does(
    video_path, client, fake_graph
):
    # Given a creative created by the stub and one created by the Graph client
    spec = CreativeSpec(
        name="ce-o-creative",
        page_id="111",
        video_id="",
        message="m",
        title="t",
        call_to_action_type="LEARN_MORE",
        link="https://example.com",
    )
    stub_client = stub()
    stub_video = stub_client.upload_video(path=video_path, name="ce-o-video")
    stub_client.create_creative(spec=dataclasses.replace(spec, video_id=stub_video))
    graph_video = client.upload_video(path=video_path, name="ce-o-video")
    client.create_creative(spec=dataclasses.replace(spec, video_id=graph_video))

    # Then the stub's creative carries the Graph client's opt-out, to the letter,
    # without the standard_enhancements bundle Meta rejects since v22
    stored = StubMetaObject.objects.get(kind="creative", name="ce-o-creative")
    stub_opt_out = stored.payload["degrees_of_freedom_spec"]
    [request] = fake_graph.requests_to("POST", r"adcreatives$")
    assert stub_opt_out == request.params["degrees_of_freedom_spec"]
    assert "standard_enhancements" not in stub_opt_out["creative_features_spec"]


def test_the_truth_is_not_reachable_through_the_client(video_path, poster_path):
    # The protocol the engine codes against has no way to ask for the hidden truth
    protocol_members = {name for name in dir(MetaAdsClient) if not name.startswith("_")}
    client = stub()
    public = {name for name in dir(client) if not name.startswith("_")}

    assert isinstance(client, MetaAdsClient)
    assert not any("truth" in n or "appeal" in n for n in protocol_members | public)
    assert not any("market" in n or "simulator" in n for n in public)
    insight_fields = {f.name for f in dataclasses.fields(_one_row(client, video_path))}
    assert not {"spike", "ctr", "cvr"} & insight_fields


def _one_row(client: StubMetaClient, video_path: str):
    poster = os.path.join(os.path.dirname(video_path), "p.jpg")
    with open(poster, "wb") as handle:
        handle.write(b"p")
    ad = upload_ad(client, "ce-t", video_path, poster)
    client.set_ad_status(ad_id=ad, status=AdStatus.ACTIVE)
    later = stub(clock=lambda: T0 + 3 * DAY)
    return next(
        later.get_daily_insights(ad_ids=[ad], since=T0.date(), until=T0.date() + DAY)
    )


def test_insights_cover_only_days_the_clock_has_finished(video_path, poster_path):
    client = stub()
    ad = upload_ad(client, "ce-d", video_path, poster_path)
    client.set_ad_status(ad_id=ad, status=AdStatus.ACTIVE)

    today = stub(clock=lambda: T0 + dt.timedelta(hours=10))
    days_later = stub(clock=lambda: T0 + 3 * DAY)

    def dates(c: StubMetaClient) -> list[dt.date]:
        rows = c.get_daily_insights(
            ad_ids=[ad], since=T0.date(), until=T0.date() + 10 * DAY
        )
        return [r.date for r in rows]

    assert dates(today) == []
    assert dates(days_later) == [T0.date(), T0.date() + DAY, T0.date() + 2 * DAY]


def test_a_paused_ad_delivers_nothing(video_path, poster_path):
    client = stub()
    ad = upload_ad(client, "ce-p", video_path, poster_path)  # created PAUSED

    rows = list(
        stub(clock=lambda: T0 + 5 * DAY).get_daily_insights(
            ad_ids=[ad], since=T0.date(), until=T0.date() + 4 * DAY
        )
    )

    assert rows == []


def test_an_ad_sets_budget_may_change_four_times_an_hour():
    client = stub()

    for minor in (6000, 7000, 8000, 9000):
        client.set_adset_budget(adset_id="900", daily_budget_minor=minor)
    with pytest.raises(MetaRateLimitError):
        client.set_adset_budget(adset_id="900", daily_budget_minor=10000)
    an_hour_later = stub(clock=lambda: T0 + dt.timedelta(minutes=61))
    an_hour_later.set_adset_budget(adset_id="900", daily_budget_minor=10000)

    assert an_hour_later.get_adset(adset_id="900").daily_budget_minor == 10000


def test_an_archived_ad_cannot_be_reactivated(video_path, poster_path):
    client = stub()
    ad = upload_ad(client, "ce-a", video_path, poster_path)
    client.set_ad_status(ad_id=ad, status=AdStatus.ARCHIVED)

    with pytest.raises(MetaApiError) as caught:
        client.set_ad_status(ad_id=ad, status=AdStatus.ACTIVE)

    assert (caught.value.code, caught.value.subcode) == (100, 1885088)


def test_stub_mode_gives_the_stub_client_from_settings(settings):
    settings.CREATIVE_ENGINE_MODE = "stub"
    settings.META_STUB_SEED = 99
    settings.META_STUB_UPLOAD_FAILURE_RATE = 0.15

    client = get_meta_client()

    assert isinstance(client, StubMetaClient)
    assert (client.mode, client.seed, client.failure_rate) == ("stub", 99, 0.15)
