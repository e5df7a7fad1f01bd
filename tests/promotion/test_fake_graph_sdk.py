"""The official facebook-business SDK against the fake: proof that the fake speaks
Meta's protocol, so the live client's tests against it mean something.

The SDK is a dev dependency only; this test is skipped where it is missing.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings

import pytest

from tests.fakes.graph_server import FakeGraphServer, days

sdk = pytest.importorskip("facebook_business")

from facebook_business.adobjects.ad import Ad  # noqa: E402
from facebook_business.adobjects.adaccount import AdAccount  # noqa: E402
from facebook_business.adobjects.adcreative import AdCreative  # noqa: E402
from facebook_business.adobjects.adimage import AdImage  # noqa: E402
from facebook_business.adobjects.adset import AdSet  # noqa: E402
from facebook_business.adobjects.advideo import AdVideo  # noqa: E402
from facebook_business.api import FacebookAdsApi  # noqa: E402
from facebook_business.exceptions import FacebookRequestError  # noqa: E402
from facebook_business.session import FacebookSession  # noqa: E402
from facebook_business.video_uploader import VideoEncodingStatusChecker  # noqa: E402
from requests.adapters import HTTPAdapter  # noqa: E402

META_HOSTS = ("https://graph-video.facebook.com", "https://graph.facebook.com")


@pytest.fixture
def sdk_api(fake_graph: FakeGraphServer, monkeypatch):
    """The SDK pointed at the fake, crash reporter off, app secret `s` enforced.

    `GRAPH` is a class attribute and the chunked uploader hard-codes
    graph-video.facebook.com, so both hosts are rewritten at the transport
    (meta-graph-api.md §8.2, variant 1): nothing can leak to the internet.
    """
    fake_graph.app_secret = "s"
    fake_graph.require_appsecret_proof = True
    base = fake_graph.base_url
    monkeypatch.setattr(FacebookSession, "GRAPH", base)
    monkeypatch.setattr(FacebookAdsApi, "_default_api", None)
    monkeypatch.setattr(FacebookAdsApi, "_default_account_id", None)

    class ToFake(HTTPAdapter):
        def send(self, request, **kwargs):
            for host in META_HOSTS:
                if request.url.startswith(host):
                    request.url = base + request.url[len(host) :]
            return super().send(request, **kwargs)

    api = FacebookAdsApi.init(
        access_token="TOK",
        app_secret="s",
        api_version="v25.0",
        crash_log=False,
        timeout=5,
    )
    for host in META_HOSTS:
        api._session.requests.mount(host, ToFake())
    with warnings.catch_warnings():
        # The SDK warns about list-typed tracking_specs and parent_id; harmless.
        warnings.simplefilter("ignore")
        yield api


def test_the_sdk_uploads_creates_updates_and_reads_insights_against_the_fake(
    sdk_api, fake_graph, tmp_path
):
    account_id = fake_graph.state.account_id
    account = AdAccount(account_id)
    adset_id = fake_graph.state.add_adset()
    fake_graph.state.chunk_size = 1024 * 1024

    # Given a 3.5 MB video: the SDK's own chunked uploader (start/transfer/finish)
    path = tmp_path / "dummy.mp4"
    path.write_bytes(os.urandom(3_500_000))
    video = AdVideo(parent_id=account_id)
    video[AdVideo.Field.filepath] = str(path)
    video_id = video.remote_create()["id"]
    VideoEncodingStatusChecker.waitUntilReady(sdk_api, video_id, interval=0, timeout=5)
    assert bytes(fake_graph.state.videos[video_id]["data"]) == path.read_bytes()
    transfers = [
        r
        for r in fake_graph.requests_to("POST", r"advideos$")
        if r.params.get("upload_phase") == "transfer"
    ]
    assert [r.params["start_offset"] for r in transfers] == [
        "0",
        "1048576",
        "2097152",
        "3145728",
    ]

    # And a poster image through adimages (response keyed by filename)
    poster = tmp_path / "poster.jpg"
    poster.write_bytes(os.urandom(2000))
    image = AdImage(parent_id=account_id)
    image[AdImage.Field.filename] = str(poster)
    image.remote_create()
    assert image[AdImage.Field.hash] in fake_graph.state.images

    # When the SDK creates a creative and an ad, and activates the ad
    creative = account.create_ad_creative(
        params={
            "name": "sdk-creative",
            "object_story_spec": {
                "page_id": "2002",
                "instagram_user_id": "3003",
                "video_data": {
                    "video_id": video_id,
                    "image_hash": image[AdImage.Field.hash],
                    "message": "Primary text",
                    "title": "Headline",
                    "call_to_action": {
                        "type": "SHOP_NOW",
                        "value": {"link": "https://shop.example/p"},
                    },
                },
            },
            "degrees_of_freedom_spec": {
                "creative_features_spec": {
                    "video_auto_crop": {"enroll_status": "OPT_OUT"}
                }
            },
        }
    )
    ad = account.create_ad(
        params={
            "name": "sdk-ad",
            "adset_id": adset_id,
            "creative": {"creative_id": creative["id"]},
            "status": "PAUSED",
            "tracking_specs": [
                {"action.type": ["offsite_conversion"], "fb_pixel": ["4004"]}
            ],
        }
    )
    Ad(ad["id"]).api_update(params={"status": Ad.Status.active})
    AdSet(adset_id).api_update(params={"daily_budget": 6000})

    # Then the fake holds them as the SDK described them
    assert fake_graph.state.ads[ad["id"]]["status"] == "ACTIVE"
    assert fake_graph.state.ads[ad["id"]]["creative"] == {"id": creative["id"]}
    assert fake_graph.state.adsets[adset_id]["daily_budget"] == 6000
    read_back = AdCreative(creative["id"]).api_get(
        fields=["name", "degrees_of_freedom_spec"]
    )
    assert read_back["name"] == "sdk-creative"
    assert read_back["degrees_of_freedom_spec"].export_all_data()[
        "creative_features_spec"
    ] == {"video_auto_crop": {"enroll_status": "OPT_OUT"}}
    # And the SDK sent auth and proof in the query, trailing slash on node posts
    assert {r.appsecret_proof for r in fake_graph.requests} == {
        "cf7842c06038347044e35e74f53ff76c3c9053f4d48a488d1c19823846dd3432"
    }
    assert any(r.path.endswith(f"/{ad['id']}/") for r in fake_graph.requests)

    # When the SDK reads insights through its Cursor, two rows a page
    since = dt.date(2026, 9, 1)
    for day in days(since, since + dt.timedelta(days=4)):
        fake_graph.state.seed_insight(ad["id"], day, purchases=1, revenue="59.9")
    cursor = account.get_insights(
        fields=["ad_id", "impressions", "spend", "actions", "action_values"],
        params={
            "level": "ad",
            "time_range": {"since": "2026-09-01", "until": "2026-09-05"},
            "time_increment": 1,
            "filtering": [{"field": "ad.id", "operator": "IN", "value": [ad["id"]]}],
            "limit": 2,
        },
    )
    rows = list(cursor)

    # Then it paged with `after` to the last page and got every day, as strings
    assert [r["date_start"] for r in rows] == [
        d.isoformat() for d in days(since, since + dt.timedelta(days=4))
    ]
    assert rows[0]["impressions"] == "1000"
    pages = fake_graph.requests_to("GET", r"act_\d+/insights$")
    assert len(pages) == 3
    assert "after" in pages[1].query and "after" in pages[2].query


def test_the_sdk_parses_the_fakes_errors_and_throttle_headers(sdk_api, fake_graph):
    # Given a throttle on the ads edge and a token Meta rejects
    fake_graph.faults.rate_limit_next("GET", r"act_\d+/ads$", code=80004, eta_minutes=5)

    # When the SDK calls
    with pytest.raises(FacebookRequestError) as throttled:
        list(AdAccount(fake_graph.state.account_id).get_ads(fields=["name"]))
    fake_graph.valid_tokens.clear()
    with pytest.raises(FacebookRequestError) as rejected:
        AdSet(fake_graph.state.add_adset()).api_get(fields=["daily_budget"])

    # Then its exception carries Meta's fields
    assert throttled.value.api_error_code() == 80004
    assert throttled.value.api_error_subcode() == 2446079
    assert throttled.value.api_transient_error() is True
    assert (
        "estimated_time_to_regain_access"
        in throttled.value.http_headers()["x-business-use-case-usage"]
    )
    assert rejected.value.api_error_code() == 190
    assert "invalid_token" in rejected.value.http_headers()["WWW-Authenticate"]
