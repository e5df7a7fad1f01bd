"""GraphMetaClient against the fake Graph API: every protocol method, happy path."""

from __future__ import annotations

import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from promotion.meta.graph import (
    ADVANTAGE_CREATIVE_FEATURES,
    GraphMetaClient,
    appsecret_proof,
    encode_params,
    parse_insight_row,
)
from promotion.meta.protocol import (
    AdSpec,
    AdStatus,
    CreativeSpec,
    MetaAdsClient,
    VideoState,
)
from tests.fakes.graph_server import FakeGraphServer, days


def write_file(tmp_path, name: str, size: int) -> str:
    path = tmp_path / name
    path.write_bytes(os.urandom(size))
    return str(path)


def creative_spec(video_id: str, image_hash: str = "", name: str = "ce-v1-creative"):
    return CreativeSpec(
        name=name,
        page_id="2002",
        video_id=video_id,
        message="Summer hook #sun",
        title="Summer",
        call_to_action_type="SHOP_NOW",
        link="https://shop.example/p",
        image_hash=image_hash,
        instagram_user_id="3003",
    )


def test_the_client_satisfies_the_meta_ads_client_protocol(client):
    assert isinstance(client, MetaAdsClient)
    assert client.mode == "live"


def test_a_small_video_is_uploaded_in_one_multipart_post_named_by_its_key(
    client, fake_graph, tmp_path
):
    # Given a small MP4
    path = write_file(tmp_path, "v1.mp4", 40_000)

    # When it is uploaded
    video_id = client.upload_video(path=path, name="ce-v1-video")

    # Then the fake holds exactly those bytes under that title
    video = fake_graph.state.videos[video_id]
    assert bytes(video["data"]) == Path(path).read_bytes()
    assert video["title"] == "ce-v1-video"
    [request] = fake_graph.requests_to("POST", r"advideos$")
    assert request.content_type.startswith("multipart/form-data")
    assert request.files["source"][0] == "v1.mp4"
    assert client.find_video_by_name(name="ce-v1-video") == video_id
    assert client.find_video_by_name(name="ce-unknown") is None


def test_wait_video_ready_polls_until_meta_says_ready(
    client, fake_graph, tmp_path, recorder
):
    # Given a video Meta reports as processing for two polls
    fake_graph.state.video_processing_polls = 2
    video_id = client.upload_video(path=write_file(tmp_path, "v.mp4", 1000), name="v")

    # When the client waits
    status = client.wait_video_ready(video_id=video_id, timeout_seconds=60)

    # Then it polled three times and reports ready
    assert status.state == VideoState.READY
    assert len(fake_graph.requests_to("GET", rf"^{video_id}$")) == 3
    assert (
        fake_graph.requests_to("GET", rf"^{video_id}$")[0].params["fields"] == "status"
    )
    assert recorder.sleeps == [0.01, 0.01]


def test_wait_video_ready_reports_errors_and_deadlines(
    make_client, fake_graph, tmp_path
):
    # Given one video that fails processing and one that never finishes in time
    clock = iter(range(0, 1000, 10)).__next__
    client = make_client(clock=clock)
    fake_graph.state.video_final_status = "error"
    fake_graph.state.video_processing_polls = 0
    broken = client.upload_video(path=write_file(tmp_path, "a.mp4", 100), name="a")
    fake_graph.state.video_processing_polls = 100
    slow = client.upload_video(path=write_file(tmp_path, "b.mp4", 100), name="b")

    # When the client waits for each
    failed = client.wait_video_ready(video_id=broken, timeout_seconds=60)
    waiting = client.wait_video_ready(video_id=slow, timeout_seconds=30)

    # Then the first is an error with Meta's reason, the second still processing
    assert failed.state == VideoState.ERROR
    assert "1363008" in failed.detail
    assert waiting.state == VideoState.PROCESSING
    assert "30s" in waiting.detail


def test_the_poster_upload_returns_the_hash_from_the_images_map(
    client, fake_graph, tmp_path
):
    path = write_file(tmp_path, "poster.jpg", 5000)

    image_hash = client.upload_image(path=path, name="ce-v1-poster.jpg")

    assert image_hash in fake_graph.state.images
    [request] = fake_graph.requests_to("POST", r"adimages$")
    assert request.files["filename"][0] == "ce-v1-poster.jpg"


def test_a_creative_opts_out_of_every_enhancement_and_records_what_meta_reports(
    client, fake_graph, tmp_path
):
    # Given an uploaded video and poster, and Meta reporting one feature back
    # differently from what we sent
    video_id = client.upload_video(path=write_file(tmp_path, "v.mp4", 500), name="v")
    image_hash = client.upload_image(path=write_file(tmp_path, "p.jpg", 50), name="p")
    fake_graph.state.creative_feature_overrides = {"inline_comment": "OPT_IN"}

    # When the creative is created
    result = client.create_creative(spec=creative_spec(video_id, image_hash))

    # Then every feature was sent as OPT_OUT, with the exact story spec
    [request] = fake_graph.requests_to("POST", r"adcreatives$")
    sent = request.params["degrees_of_freedom_spec"]["creative_features_spec"]
    assert set(sent) == set(ADVANTAGE_CREATIVE_FEATURES)
    assert {v["enroll_status"] for v in sent.values()} == {"OPT_OUT"}
    assert request.params["object_story_spec"] == {
        "page_id": "2002",
        "instagram_user_id": "3003",
        "video_data": {
            "video_id": video_id,
            "image_hash": image_hash,
            "message": "Summer hook #sun",
            "title": "Summer",
            "call_to_action": {
                "type": "SHOP_NOW",
                "value": {"link": "https://shop.example/p"},
            },
        },
    }
    # And the result carries what Meta reported, including the deviation
    assert result.creative_id in fake_graph.state.creatives
    assert result.enhancements["inline_comment"] == "OPT_IN"
    assert result.enhancements["video_auto_crop"] == "OPT_OUT"
    assert client.find_creative_by_name(name="ce-v1-creative") == result.creative_id


def test_a_creative_without_poster_hash_uses_the_videos_preferred_thumbnail(
    client, fake_graph, tmp_path
):
    video_id = client.upload_video(path=write_file(tmp_path, "v.mp4", 500), name="v")

    client.create_creative(spec=creative_spec(video_id))

    [request] = fake_graph.requests_to("POST", r"adcreatives$")
    image_url = request.params["object_story_spec"]["video_data"]["image_url"]
    assert image_url.startswith(fake_graph.base_url)


def test_the_opt_out_list_matches_every_feature_the_pinned_sdk_knows():
    # Given the feature list of the pinned facebook-business release
    features = pytest.importorskip(
        "facebook_business.adobjects.adcreativefeaturesspec"
    ).AdCreativeFeaturesSpec
    bundles = {"standard_enhancements", "standard_enhancements_catalog"}

    # Then we opt out of each one of them, bundles aside (deprecated since v22)
    assert set(ADVANTAGE_CREATIVE_FEATURES) == set(features._field_types) - bundles


def test_an_ad_is_created_paused_with_the_pixel_and_found_by_name(client, fake_graph):
    # Given an ad set and a creative
    adset_id = fake_graph.state.add_adset()
    creative_id = seed_creative(fake_graph)

    # When the ad is created
    ad_id = client.create_ad(
        spec=AdSpec(
            name="ce-v1-ad",
            adset_id=adset_id,
            creative_id=creative_id,
            pixel_id="4004",
        )
    )

    # Then it is PAUSED, points at the creative and tracks the pixel
    ad = fake_graph.state.ads[ad_id]
    assert ad["status"] == "PAUSED"
    assert ad["creative"] == {"id": creative_id}
    assert ad["tracking_specs"] == [
        {"action.type": ["offsite_conversion"], "fb_pixel": ["4004"]}
    ]
    [request] = fake_graph.requests_to("POST", r"act_\d+/ads$")
    assert request.params["creative"] == {"creative_id": creative_id}
    assert client.find_ad_by_name(adset_id=adset_id, name="ce-v1-ad") == ad_id
    assert client.find_ad_by_name(adset_id=adset_id, name="ce-v1") is None


def test_find_ad_by_name_follows_paging(make_client, fake_graph):
    # Given an ad set whose ads all contain the wanted name, the wanted one oldest
    client = make_client(page_size=2)
    adset_id = fake_graph.state.add_adset()
    creative_id = seed_creative(fake_graph)
    wanted = client.create_ad(
        spec=AdSpec(name="ce-ad", adset_id=adset_id, creative_id=creative_id)
    )
    for n in range(1, 7):
        client.create_ad(
            spec=AdSpec(name=f"ce-ad-{n}", adset_id=adset_id, creative_id=creative_id)
        )

    # When it is looked up by name
    found = client.find_ad_by_name(adset_id=adset_id, name="ce-ad")

    # Then the client walked the pages (newest first) to the last one
    assert found == wanted
    lookups = fake_graph.requests_to("GET", rf"^{adset_id}/ads$")
    assert len(lookups) == 4
    assert "after" not in lookups[0].params
    assert all("after" in r.params for r in lookups[1:])


def test_ad_status_changes_are_posted_to_the_ad_node(client, fake_graph):
    adset_id = fake_graph.state.add_adset()
    ad_id = client.create_ad(
        spec=AdSpec(name="a", adset_id=adset_id, creative_id=seed_creative(fake_graph))
    )

    client.set_ad_status(ad_id=ad_id, status=AdStatus.ACTIVE)

    assert fake_graph.state.ads[ad_id]["status"] == "ACTIVE"
    [request] = fake_graph.requests_to("POST", rf"^{ad_id}$")
    assert request.params == {"status": "ACTIVE"}


def test_adset_budget_is_read_and_set_in_minor_units(client, fake_graph):
    # Given an ad set with $50.00 a day and a CBO ad set
    adset_id = fake_graph.state.add_adset(daily_budget=5000, campaign_id="77")
    cbo_id = fake_graph.state.add_adset(daily_budget=None)

    # When the budget is raised and both are read
    client.set_adset_budget(adset_id=adset_id, daily_budget_minor=6000)
    info = client.get_adset(adset_id=adset_id)

    # Then the new budget is reported, and the CBO ad set has none
    assert (info.adset_id, info.campaign_id, info.daily_budget_minor) == (
        adset_id,
        "77",
        6000,
    )
    assert info.status == "ACTIVE"
    assert client.get_adset(adset_id=cbo_id).daily_budget_minor is None


def test_daily_insights_follow_every_page_and_parse_strings(make_client, fake_graph):
    # Given 2 ads with 5 days of rows each (and a third ad we do not ask for)
    client = make_client(page_size=3)
    since = dt.date(2026, 9, 1)
    until = dt.date(2026, 9, 5)
    for ad_id in ("11", "12", "13"):
        for day in days(since, until):
            fake_graph.state.seed_insight(
                ad_id,
                day,
                impressions=1000,
                reach=800,
                clicks=40,
                spend="12.50",
                purchases=2,
                revenue="59.90",
                video_plays=300,
                video_p25=220,
                video_p50=150,
                video_p75=90,
                video_p100=50,
                video_avg_seconds="4.2",
                video_3s_views=310,
                thruplays=70,
            )

    # When the client reads the window
    rows = list(
        client.get_daily_insights(ad_ids=["11", "12"], since=since, until=until)
    )

    # Then it got all 10 rows over 4 pages, parsed
    assert len(rows) == 10
    assert {r.ad_id for r in rows} == {"11", "12"}
    assert len(fake_graph.requests_to("GET", r"act_\d+/insights$")) == 4
    row = rows[0]
    assert row.date == since
    assert (row.impressions, row.reach, row.clicks) == (1000, 800, 40)
    assert row.frequency == 1.25
    assert row.spend == Decimal("12.50")
    # Purchases are reported under three action types: counted once, not thrice
    assert row.conversions == 2
    assert row.revenue == Decimal("59.90")
    assert (row.video_plays, row.video_p25, row.video_p50) == (300, 220, 150)
    assert (row.video_p75, row.video_p100, row.video_avg_watch_seconds) == (90, 50, 4.2)
    # Retention: 3-second views from the video_view action, ThruPlays from their field
    assert (row.video_3s_views, row.thruplays) == (310, 70)
    # And the request was the one the SDK would send
    first = fake_graph.requests_to("GET", r"act_\d+/insights$")[0]
    assert first.params["level"] == "ad"
    assert first.params["time_increment"] == "1"
    assert first.params["time_range"] == {"since": "2026-09-01", "until": "2026-09-05"}
    assert first.params["filtering"] == [
        {"field": "ad.id", "operator": "IN", "value": ["11", "12"]}
    ]
    assert "video_p100_watched_actions" in first.params["fields"].split(",")
    assert "video_thruplay_watched_actions" in first.params["fields"].split(",")


def test_an_insight_row_without_purchases_or_video_metrics_parses_to_zeroes():
    row = parse_insight_row(
        {
            "ad_id": "9",
            "date_start": "2026-09-30",
            "date_stop": "2026-09-30",
            "impressions": "10",
            "spend": "0.31",
        }
    )

    assert (row.conversions, row.revenue, row.clicks, row.video_p100) == (
        0,
        Decimal(0),
        0,
        0,
    )
    assert row.spend == Decimal("0.31")


def test_params_are_encoded_like_the_sdk():
    encoded = encode_params(
        {
            "creative": {"creative_id": "1003"},
            "execution_options": ["validate_only"],
            "flag": True,
            "daily_budget": 5000,
            "skip": None,
            "name": "x",
        }
    )

    assert encoded == {
        "creative": '{"creative_id":"1003"}',
        "execution_options": '["validate_only"]',
        "flag": "true",
        "daily_budget": "5000",
        "name": "x",
    }


def test_appsecret_proof_matches_the_documented_test_vector():
    assert appsecret_proof("s", "TOK") == (
        "cf7842c06038347044e35e74f53ff76c3c9053f4d48a488d1c19823846dd3432"
    )


def test_appsecret_proof_travels_with_every_call_and_the_fake_enforces_it(
    make_client, fake_graph, tmp_path
):
    # Given a fake that requires appsecret_proof for app secret "s"
    fake_graph.app_secret = "s"
    fake_graph.require_appsecret_proof = True
    client = make_client(app_secret="s")

    # When the client makes reads and writes
    video_id = client.upload_video(path=write_file(tmp_path, "v.mp4", 10), name="v")
    client.find_video_by_name(name="v")

    # Then each carried the documented proof
    assert video_id
    proofs = {r.appsecret_proof for r in fake_graph.requests}
    assert proofs == {
        "cf7842c06038347044e35e74f53ff76c3c9053f4d48a488d1c19823846dd3432"
    }


def test_a_client_without_the_app_secret_is_refused_when_proof_is_required(
    client, fake_graph
):
    from promotion.meta.errors import MetaInvalidParameterError

    fake_graph.app_secret = "s"
    fake_graph.require_appsecret_proof = True

    with pytest.raises(MetaInvalidParameterError, match="appsecret_proof"):
        client.get_adset(adset_id=fake_graph.state.add_adset())


def test_every_host_the_client_calls_derives_from_the_base_url(
    make_client, fake_graph, tmp_path
):
    # Given a client whose chunked threshold forces the resumable protocol
    client = make_client(chunk_threshold_bytes=1000)
    fake_graph.state.chunk_size = 1500
    adset_id = fake_graph.state.add_adset()

    # When it runs the whole upload flow
    video_id = client.upload_video(path=write_file(tmp_path, "big.mp4", 4000), name="v")
    client.wait_video_ready(video_id=video_id, timeout_seconds=5)
    image_hash = client.upload_image(path=write_file(tmp_path, "p.jpg", 10), name="p")
    creative = client.create_creative(spec=creative_spec(video_id, image_hash))
    ad_id = client.create_ad(
        spec=AdSpec(name="a", adset_id=adset_id, creative_id=creative.creative_id)
    )
    client.set_ad_status(ad_id=ad_id, status=AdStatus.ACTIVE)
    list(
        client.get_daily_insights(
            ad_ids=[ad_id], since=dt.date.today(), until=dt.date.today()
        )
    )

    # Then every request reached the base URL's host, under the configured version
    base = urlsplit(fake_graph.base_url)
    assert {r.host for r in fake_graph.requests} == {base.netloc}
    assert {r.version for r in fake_graph.requests} == {"v25.0"}


def test_the_version_and_host_come_from_settings(settings):
    settings.META_GRAPH_URL = "http://127.0.0.1:9/"
    settings.META_API_VERSION = "v26.0"
    settings.META_ACCESS_TOKEN = "T"
    settings.META_AD_ACCOUNT_ID = "act_5"
    settings.META_PAGE_ID = "6"
    settings.META_TIMEOUT_SECONDS = 12.5

    with GraphMetaClient.from_settings() as client:
        assert client._url("act_5/ads") == "http://127.0.0.1:9/v26.0/act_5/ads"
        assert client.timeout == 12.5


@pytest.mark.parametrize(
    "overrides",
    [
        {"access_token": ""},
        {"ad_account_id": "5"},
        {"api_version": "25"},
        {"timeout": 0},
    ],
)
def test_a_misconfigured_client_fails_at_construction(make_client, overrides):
    with pytest.raises(ValueError):
        make_client(**overrides)


def seed_creative(fake_graph: FakeGraphServer) -> str:
    """A creative in the fake's state, made without the client under test."""
    creative_id = fake_graph.state.new_id()
    fake_graph.state.creatives[creative_id] = {
        "id": creative_id,
        "name": f"seeded-{creative_id}",
        "created_time": 0,
        "degrees_of_freedom_spec": {},
    }
    return creative_id


def test_observer_sees_each_attempt_with_ids_and_status(client, fake_graph, recorder):
    adset_id = fake_graph.state.add_adset()

    ad_id = client.create_ad(
        spec=AdSpec(name="a", adset_id=adset_id, creative_id=seed_creative(fake_graph))
    )

    [call] = recorder.ops("create_ad")
    assert (call.success, call.attempt, call.object_id, call.http_status) == (
        True,
        1,
        ad_id,
        200,
    )
    assert call.duration_ms > 0
    assert call.details["name"] == "a"
    assert "access_token" not in json.dumps(dict(call.details))
