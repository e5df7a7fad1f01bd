"""Meta's error bodies may echo the request: no token or proof survives into the error,
the PromotionLog row, the logs or the API's 502 answer."""

from __future__ import annotations

import logging

import pytest

from promotion.meta.errors import MetaApiError, MetaPermissionError
from promotion.meta.graph import GraphMetaClient, appsecret_proof
from promotion.meta.redaction import REDACTED, redact_secrets, redact_structure
from promotion.models import PromotionLog
from promotion.services.meta_calls import record_meta_call
from tests.fakes.graph_server import FakeGraphServer

TOKEN = "EAAB-live-token-0123456789abcdef"
APP_SECRET = "app-secret-fedcba9876543210"
PROOF = appsecret_proof(APP_SECRET, TOKEN)


@pytest.mark.parametrize(
    ("text", "leaked"),
    [
        ("GET /v25.0/act_1/ads?access_token=EAABxyz123&fields=id", "EAABxyz123"),
        ("access_token=EAABxyz123", "EAABxyz123"),
        ("ACCESS_TOKEN=EAABxyz123", "EAABxyz123"),
        ('{"access_token": "EAABxyz123", "fields": "id"}', "EAABxyz123"),
        ("{'access_token': 'EAABxyz123'}", "EAABxyz123"),
        ("appsecret_proof=9f86d081884c7d65", "9f86d081884c7d65"),
        ("access_token%3DEAABxyz123%26fields%3Did", "EAABxyz123"),
        ("client_secret: s3cr3tvalue", "s3cr3tvalue"),
        ("fb_exchange_token=EAACshort99", "EAACshort99"),
        ("input_token=EAADinput77; debug", "EAADinput77"),
        ("app_secret=abcdef123456", "abcdef123456"),
        ("a=1&access_token=EAABxyz123&b=2&appsecret_proof=beef1234", "EAABxyz123"),
    ],
)
def test_credential_parameters_lose_their_values(text, leaked):
    redacted = redact_secrets(text)

    assert leaked not in redacted
    assert REDACTED in redacted


@pytest.mark.parametrize(
    "text",
    [
        f"Invalid token {TOKEN} for this app",
        f"proof {PROOF} does not match",
        f"{TOKEN}{PROOF}",
    ],
)
def test_known_secrets_are_blanked_wherever_they_appear(text):
    redacted = redact_secrets(text, (TOKEN, PROOF))

    assert TOKEN not in redacted and PROOF not in redacted


def test_text_without_secrets_is_left_alone():
    text = "(#100) adset_id 120200000000 does not exist; token count 3"
    assert redact_secrets(text, (TOKEN,)) == text


def test_nested_error_data_is_redacted_by_key_and_by_value():
    data = {
        "access_token": TOKEN,
        "request": {"url": f"/ads?access_token={TOKEN}", "echo": [f"x {PROOF}"]},
    }

    cleaned = redact_structure(data, (TOKEN, PROOF))

    assert TOKEN not in repr(cleaned) and PROOF not in repr(cleaned)
    assert cleaned["access_token"] == REDACTED


@pytest.fixture
def echoing_graph():
    """A real fake Graph server on loopback whose error echoes the request back."""
    with FakeGraphServer(access_token=TOKEN, app_secret=APP_SECRET) as server:
        server.faults.fail_next(
            "GET",
            r"^1$",
            status=400,
            error={
                "message": (
                    f"(#200) Permissions error for GET /v25.0/1?access_token={TOKEN}"
                    f"&appsecret_proof={PROOF}"
                ),
                "type": "OAuthException",
                "code": 200,
                "error_user_msg": f"The token {TOKEN} lacks ads_management",
                "error_data": {"echo": {"appsecret_proof": PROOF, "raw": TOKEN}},
                "fbtrace_id": "AbCdEf",
            },
        )
        yield server


def _client(server: FakeGraphServer, **options) -> GraphMetaClient:
    return GraphMetaClient(
        base_url=server.base_url,
        api_version="v25.0",
        access_token=TOKEN,
        app_secret=APP_SECRET,
        ad_account_id=server.state.account_id,
        page_id="1234567890",
        timeout=2.0,
        **options,
    )


def test_an_echoed_graph_error_carries_no_secret(echoing_graph):
    client = _client(echoing_graph)
    try:
        with pytest.raises(MetaPermissionError) as caught:
            client.get_adset(adset_id="1")
    finally:
        client.close()

    error: MetaApiError = caught.value
    everything = " ".join(
        [str(error), error.message, error.user_message, repr(error.error_data)]
    )
    assert TOKEN not in everything and PROOF not in everything
    assert "Permissions error" in str(error)  # the useful part stays


def test_the_promotion_log_row_and_the_log_lines_carry_no_secret(
    echoing_graph, db, caplog
):
    client = _client(echoing_graph, observer=record_meta_call)
    with caplog.at_level(logging.DEBUG), pytest.raises(MetaApiError):
        try:
            client.get_adset(adset_id="1")
        finally:
            client.close()

    row = PromotionLog.objects.get()
    assert not row.success and row.error_code == "200"
    assert TOKEN not in row.error_message and PROOF not in row.error_message
    assert TOKEN not in caplog.text and PROOF not in caplog.text


def test_a_configured_secret_never_reaches_a_log_row_even_unnamed(db, settings):
    settings.META_ACCESS_TOKEN = TOKEN
    from promotion.services.meta_calls import promotion_log_decision

    promotion_log_decision(
        operation="upload_refused", message=f"Meta said: bad {TOKEN} here"
    )

    assert TOKEN not in PromotionLog.objects.get().error_message
