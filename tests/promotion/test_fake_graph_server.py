"""The fake Graph API keeps Meta's wire quirks (meta-graph-api.md §8.4), tested
with plain httpx so the fake is checked independently of our client."""

from __future__ import annotations

import datetime as dt
import json

import httpx
import pytest

from tests.fakes.graph_server import FakeGraphServer

TOKEN = {"access_token": "TOK"}


@pytest.fixture
def http(fake_graph: FakeGraphServer):
    with httpx.Client(base_url=f"{fake_graph.base_url}/v25.0", timeout=2.0) as client:
        yield client


@pytest.fixture
def account(fake_graph: FakeGraphServer) -> str:
    return fake_graph.state.account_id


def create_ad(http, account, adset_id, creative_id, **extra) -> httpx.Response:
    data = {
        "name": "ad",
        "adset_id": adset_id,
        "creative": json.dumps({"creative_id": creative_id}),
        "status": "PAUSED",
        **TOKEN,
        **extra,
    }
    return http.post(f"/{account}/ads", data={k: v for k, v in data.items() if v})


def seed_creative(fake_graph) -> str:
    creative_id = fake_graph.state.new_id()
    fake_graph.state.creatives[creative_id] = {"id": creative_id, "name": "c"}
    return creative_id


def test_a_node_path_with_a_trailing_slash_is_the_same_node(http, fake_graph):
    adset_id = fake_graph.state.add_adset()

    with_slash = http.get(f"/{adset_id}/", params={**TOKEN, "fields": "daily_budget"})
    without = http.get(f"/{adset_id}", params={**TOKEN, "fields": "daily_budget"})

    assert (
        with_slash.json() == without.json() == {"daily_budget": "5000", "id": adset_id}
    )


def test_the_version_must_look_like_v_digits_dot_digits(fake_graph):
    bad = httpx.get(f"{fake_graph.base_url}/v25/me", params=TOKEN)

    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == 2500


def test_an_expired_api_version_answers_2635(fake_graph):
    fake_graph.min_version = (24, 0)

    old = httpx.get(f"{fake_graph.base_url}/v23.0/act_1001/ads", params=TOKEN)

    assert old.json()["error"]["code"] == 2635


@pytest.mark.parametrize(
    "auth",
    [
        {"params": TOKEN},
        {"data": TOKEN},
        {"headers": {"Authorization": "OAuth TOK"}},
    ],
    ids=["query", "form", "header"],
)
def test_the_token_is_read_from_query_form_or_authorization_header(
    http, fake_graph, auth
):
    adset_id = fake_graph.state.add_adset()

    answer = http.post(
        f"/{adset_id}", **{**auth, "data": {**auth.get("data", {}), "status": "PAUSED"}}
    )

    assert answer.json() == {"success": True}


def test_a_missing_or_invalid_token_gets_meta_shaped_errors(http, account):
    missing = http.get(f"/{account}/ads")
    invalid = http.get(f"/{account}/ads", params={"access_token": "nope"})

    assert missing.json()["error"]["code"] == 104
    assert invalid.status_code == 400
    assert invalid.json()["error"]["code"] == 190
    assert invalid.json()["error"]["type"] == "OAuthException"
    assert invalid.headers["WWW-Authenticate"].startswith(
        'OAuth "Facebook Platform" "invalid_token"'
    )


def test_a_wrong_appsecret_proof_is_refused(http, fake_graph, account):
    fake_graph.app_secret = "s"

    wrong = http.get(f"/{account}/ads", params={**TOKEN, "appsecret_proof": "00"})
    right = http.get(
        f"/{account}/ads",
        params={
            **TOKEN,
            "appsecret_proof": (
                "cf7842c06038347044e35e74f53ff76c3c9053f4d48a488d1c19823846dd3432"
            ),
        },
    )

    assert "appsecret_proof" in wrong.json()["error"]["message"]
    assert right.status_code == 200


def test_creates_answer_a_string_id_and_updates_answer_success(
    http, fake_graph, account
):
    adset_id = fake_graph.state.add_adset()

    created = create_ad(http, account, adset_id, seed_creative(fake_graph))
    updated = http.post(f"/{created.json()['id']}/", data={**TOKEN, "status": "ACTIVE"})

    assert isinstance(created.json()["id"], str)
    assert created.json()["id"].isdigit()
    assert updated.json() == {"success": True}


def test_an_ad_must_state_its_status(http, fake_graph, account):
    adset_id = fake_graph.state.add_adset()
    creative_id = seed_creative(fake_graph)

    missing = create_ad(http, account, adset_id, creative_id, status="")
    archived = create_ad(http, account, adset_id, creative_id, status="ARCHIVED")

    assert missing.status_code == 400
    assert "status" in missing.json()["error"]["message"]
    assert archived.json()["error"]["code"] == 100
    assert fake_graph.state.ads == {}


def test_edge_paging_omits_next_on_the_last_page(http, fake_graph, account):
    adset_id = fake_graph.state.add_adset()
    creative_id = seed_creative(fake_graph)
    for _ in range(3):
        create_ad(http, account, adset_id, creative_id)

    first = http.get(f"/{account}/ads", params={**TOKEN, "limit": 2}).json()
    second = http.get(
        f"/{account}/ads",
        params={**TOKEN, "limit": 2, "after": first["paging"]["cursors"]["after"]},
    ).json()

    assert len(first["data"]) == 2 and "next" in first["paging"]
    assert len(second["data"]) == 1
    assert "after" in second["paging"]["cursors"]
    assert "next" not in second["paging"]


def test_unknown_objects_and_edges_answer_the_error_envelope(http):
    unknown = http.get("/999/", params=TOKEN)
    edge = http.get("/999/comments", params=TOKEN)

    for answer in (unknown, edge):
        assert answer.status_code == 400
        assert set(answer.json()) == {"error"}
        assert answer.json()["error"]["code"] == 100


def test_chunked_upload_offsets_are_strings_and_a_wrong_offset_names_the_right_one(
    http, fake_graph, account
):
    fake_graph.state.chunk_size = 10
    start = http.post(
        f"/{account}/advideos",
        data={**TOKEN, "upload_phase": "start", "file_size": "25"},
    ).json()
    session = start["upload_session_id"]

    def transfer(offset: str, data: bytes) -> httpx.Response:
        return http.post(
            f"/{account}/advideos",
            data={
                **TOKEN,
                "upload_phase": "transfer",
                "upload_session_id": session,
                "start_offset": offset,
            },
            files={"video_file_chunk": ("x.mp4", data, "multipart/form-data")},
        )

    first = transfer("0", b"a" * 10)
    wrong = transfer("0", b"a" * 10)
    early_finish = http.post(
        f"/{account}/advideos",
        data={**TOKEN, "upload_phase": "finish", "upload_session_id": session},
    )

    assert (start["start_offset"], start["end_offset"]) == ("0", "10")
    assert first.json() == {"start_offset": "10", "end_offset": "20"}
    error = wrong.json()["error"]
    assert (error["code"], error["error_subcode"]) == (6001, 1363037)
    assert error["error_data"] == {"start_offset": 10, "end_offset": 20}
    assert early_finish.json()["error"]["error_subcode"] == 1363045


def test_adimages_answers_a_map_keyed_by_filename(http, account):
    answer = http.post(
        f"/{account}/adimages",
        data=TOKEN,
        files={"filename": ("poster.jpg", b"\xff\xd8jpeg", "image/jpeg")},
    ).json()

    assert list(answer["images"]) == ["poster.jpg"]
    assert len(answer["images"]["poster.jpg"]["hash"]) == 32


def test_creatives_refuse_removed_fields_and_the_deprecated_bundle(
    http, fake_graph, account
):
    story = {"page_id": "2002", "instagram_actor_id": "1"}
    actor = http.post(
        f"/{account}/adcreatives",
        data={**TOKEN, "object_story_spec": json.dumps(story)},
    )
    bundle = http.post(
        f"/{account}/adcreatives",
        data={
            **TOKEN,
            "object_story_spec": json.dumps({"page_id": "2002"}),
            "degrees_of_freedom_spec": json.dumps(
                {
                    "creative_features_spec": {
                        "standard_enhancements": {"enroll_status": "OPT_OUT"}
                    }
                }
            ),
        },
    )

    assert actor.json()["error"]["error_subcode"] == 2446149
    assert bundle.json()["error"]["error_subcode"] == 3858504


def test_an_adset_budget_changes_at_most_four_times_an_hour(
    http, fake_graph, time_machine
):
    # Given an ad set and a controlled clock
    time_machine.move_to(dt.datetime(2026, 9, 1, 12, 0, tzinfo=dt.UTC), tick=False)
    adset_id = fake_graph.state.add_adset()

    def change(budget: int) -> httpx.Response:
        return http.post(f"/{adset_id}", data={**TOKEN, "daily_budget": str(budget)})

    # When it changes five times in ten minutes, then once more an hour later
    answers = []
    for minute, budget in enumerate((5100, 5200, 5300, 5400, 5500)):
        time_machine.move_to(dt.datetime(2026, 9, 1, 12, minute * 2, tzinfo=dt.UTC))
        answers.append(change(budget))
    time_machine.move_to(dt.datetime(2026, 9, 1, 13, 1, tzinfo=dt.UTC))
    later = change(5600)

    # Then the fifth is refused with code 17 and a wait, the later one accepted
    assert [a.status_code for a in answers] == [200, 200, 200, 200, 400]
    error = answers[-1].json()["error"]
    assert (error["code"], error["is_transient"]) == (17, True)
    usage = json.loads(answers[-1].headers["x-business-use-case-usage"])
    assert next(iter(usage.values()))[0]["estimated_time_to_regain_access"] == 53
    assert later.json() == {"success": True}
    assert fake_graph.state.adsets[adset_id]["daily_budget"] == 5600


def test_insights_filter_by_ad_and_date_and_answer_strings(http, fake_graph, account):
    day = dt.date(2026, 9, 30)
    fake_graph.state.seed_insight("11", day, purchases=1, revenue="59.9")
    fake_graph.state.seed_insight("12", day)
    fake_graph.state.seed_insight("11", day + dt.timedelta(days=1))

    answer = http.get(
        f"/{account}/insights",
        params={
            **TOKEN,
            "level": "ad",
            "fields": "ad_id,impressions,actions",
            "time_range": json.dumps({"since": "2026-09-30", "until": "2026-09-30"}),
            "time_increment": "1",
            "filtering": json.dumps(
                [{"field": "ad.id", "operator": "IN", "value": ["11"]}]
            ),
        },
    ).json()

    [row] = answer["data"]
    assert row["ad_id"] == "11"
    assert row["impressions"] == "1000"
    assert row["date_start"] == row["date_stop"] == "2026-09-30"
    assert {"action_type": "purchase", "value": "1"} in row["actions"]
    assert "spend" not in row


def test_fail_next_fires_only_for_matching_method_path_and_params(http, fake_graph):
    adset_id = fake_graph.state.add_adset()
    fake_graph.faults.fail_next(
        "POST", rf"^{adset_id}$", status=503, body="", when={"status": "PAUSED"}
    )

    read = http.get(f"/{adset_id}", params=TOKEN)
    other = http.post(f"/{adset_id}", data={**TOKEN, "status": "ACTIVE"})
    hit = http.post(f"/{adset_id}", data={**TOKEN, "status": "PAUSED"})
    after = http.post(f"/{adset_id}", data={**TOKEN, "status": "PAUSED"})

    assert [read.status_code, other.status_code, hit.status_code] == [200, 200, 503]
    assert hit.content == b""
    assert after.json() == {"success": True}
    assert fake_graph.faults.fired == [("fail", "POST", adset_id)]


def test_a_lost_response_still_does_the_work(http, fake_graph, account):
    adset_id = fake_graph.state.add_adset()
    fake_graph.faults.lose_response_next("POST", r"ads$")

    with pytest.raises(httpx.RemoteProtocolError):
        create_ad(http, account, adset_id, seed_creative(fake_graph))

    assert len(fake_graph.state.ads) == 1
