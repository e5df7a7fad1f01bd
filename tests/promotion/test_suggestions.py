"""The AI suggestion port: rule-based advice, and an OpenAI-compatible backend tested
over real HTTP against a fake chat-completions server on 127.0.0.1."""

import contextlib
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace

import pytest

from promotion.suggestions import (
    OpenAICompatibleSuggestions,
    RefreshContext,
    RuleBasedSuggestions,
    suggestion_provider_from_settings,
)

API_KEY = "sk-test-123"
CANNED = "Swap the hook for fragment frag-9:  open on the product in motion.\n"


def make_context(**overrides):
    values = {
        "variant_id": "var-1",
        "master_title": "Summer Drop",
        "tone": "playful",
        "weak_fragment_id": "frag-1",
        "weak_fragment_type": "hook",
        "weak_fragment_label": "Beach opener",
        "weak_fragment_score": 0.31,
        "replacement_fragment_id": "frag-9",
        "drop": 0.27,
        "frequency_recent": 2.6,
        "frequency_baseline": 1.4,
        "caption": "New drop, out now",
    }
    return RefreshContext(**(values | overrides))


class FakeChatServer:
    """A loopback chat-completions endpoint with a switchable behaviour."""

    def __init__(self):
        self.mode = "ok"  # ok | error | slow | garbage | empty
        self.requests = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                server.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "json": json.loads(body),
                    }
                )
                if self.headers.get("Authorization") != f"Bearer {API_KEY}":
                    return self._send(401, {"error": {"message": "bad key"}})
                if server.mode == "error":
                    return self._send(500, {"error": {"message": "boom"}})
                if server.mode == "slow":
                    time.sleep(1.0)
                if server.mode == "garbage":
                    return self._send_raw(200, b"<html>not json</html>")
                content = "" if server.mode == "empty" else CANNED
                return self._send(
                    200,
                    {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": content},
                                "finish_reason": "stop",
                            }
                        ],
                    },
                )

            def _send(self, status, payload):
                self._send_raw(status, json.dumps(payload).encode())

            def _send_raw(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self):
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def chat_server():
    with FakeChatServer() as server:
        yield server


def http_provider(url, *, api_key=API_KEY, timeout=5.0):
    return OpenAICompatibleSuggestions(
        base_url=url, api_key=api_key, model="test-model", timeout=timeout
    )


# --- Rule-based ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("frequency_baseline", "frequency_recent", "expected_diagnosis"),
    [
        (1.4, 2.6, "audience saturation"),
        (1.4, 1.5, "creative wear"),
        (None, 2.0, "creative wear"),  # frequency unknown: no saturation claim
    ],
)
def test_rule_based_suggestion_names_the_weak_fragment_and_why(
    frequency_baseline, frequency_recent, expected_diagnosis
):
    # Given a fatigued variant whose hook scores lowest
    ctx = make_context(
        frequency_baseline=frequency_baseline, frequency_recent=frequency_recent
    )

    # When a refresh is suggested
    suggestion = RuleBasedSuggestions().suggest_refresh(ctx)

    # Then it names the fragment, the replacement and the diagnosis
    assert suggestion.weak_fragment_id == "frag-1"
    assert suggestion.provider == "rule_based"
    assert "hook 'Beach opener'" in suggestion.text
    assert "frag-9" in suggestion.text
    assert "27%" in suggestion.reason
    assert suggestion.reason.startswith(expected_diagnosis)


def test_rule_based_suggestion_asks_for_a_new_fragment_when_none_is_approved():
    ctx = make_context(replacement_fragment_id=None, weak_fragment_type="cta")

    suggestion = RuleBasedSuggestions().suggest_refresh(ctx)

    assert "no approved alternative" in suggestion.text
    assert "new cta to be approved" in suggestion.text


# --- OpenAI-compatible backend over real HTTP --------------------------------------------


def test_http_backend_sends_a_chat_completion_and_uses_the_answer(chat_server):
    # Given the backend pointed at the fake server
    provider = http_provider(chat_server.url + "/")

    # When a refresh is suggested
    suggestion = provider.suggest_refresh(make_context())

    # Then the request is a chat completion with the key as a bearer token
    (request,) = chat_server.requests
    assert request["path"] == "/v1/chat/completions"
    assert request["authorization"] == f"Bearer {API_KEY}"
    payload = request["json"]
    assert payload["model"] == "test-model"
    assert payload["temperature"] == 0.2
    assert payload["max_tokens"] > 0
    assert [m["role"] for m in payload["messages"]] == ["system", "user"]
    assert "Beach opener" in payload["messages"][1]["content"]
    # and the answer, on one line, becomes the suggestion; the fragment stays ours
    assert suggestion.text == (
        "Swap the hook for fragment frag-9: open on the product in motion."
    )
    assert suggestion.weak_fragment_id == "frag-1"
    assert suggestion.provider == "openai_compatible:test-model"
    assert suggestion.reason.startswith("audience saturation")


@pytest.mark.parametrize(
    ("mode", "api_key", "error_name"),
    [
        ("error", API_KEY, "HTTPStatusError"),  # 500
        ("ok", "wrong-key", "HTTPStatusError"),  # 401
        ("garbage", API_KEY, "JSONDecodeError"),
        ("empty", API_KEY, "ValueError"),
    ],
)
def test_http_backend_falls_back_to_rule_based_text_on_errors(
    chat_server, caplog, mode, api_key, error_name
):
    # Given a server that answers badly
    chat_server.mode = mode
    provider = http_provider(chat_server.url, api_key=api_key)

    # When a refresh is suggested
    with caplog.at_level(logging.WARNING, logger="promotion.suggestions"):
        suggestion = provider.suggest_refresh(make_context())

    # Then the rule-based text comes back, marked as a fallback, with a warning
    assert (
        suggestion.text == RuleBasedSuggestions().suggest_refresh(make_context()).text
    )
    assert suggestion.provider == f"rule_based (fallback: {error_name})"
    assert "var-1" in caplog.text
    assert API_KEY not in caplog.text


def test_http_backend_falls_back_when_the_server_is_too_slow(chat_server, caplog):
    # Given a server slower than the client's timeout
    chat_server.mode = "slow"
    provider = http_provider(chat_server.url, timeout=0.2)

    # When a refresh is suggested
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="promotion.suggestions"):
        suggestion = provider.suggest_refresh(make_context())

    # Then it gives up at the timeout and uses the rule-based text
    assert time.monotonic() - started < 0.9
    assert suggestion.provider == "rule_based (fallback: ReadTimeout)"
    assert "ReadTimeout" in caplog.text


def test_http_backend_falls_back_when_nothing_listens():
    # Given a port that was just released
    with FakeChatServer() as server:
        url = server.url
    provider = http_provider(url, timeout=1.0)

    # When / Then the cycle gets rule-based text, not an exception
    suggestion = provider.suggest_refresh(make_context())
    assert suggestion.provider == "rule_based (fallback: ConnectError)"


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "ftp://example.com/v1", "localhost:8000/v1", "http://", ""],
)
def test_http_backend_refuses_urls_that_are_not_http(url):
    with pytest.raises(ValueError, match="http"):
        http_provider(url)


def test_http_backend_never_shows_its_key():
    provider = http_provider("https://llm.example.com/v1")
    assert API_KEY not in repr(provider)


# --- Wiring from settings --------------------------------------------------------------


@pytest.mark.parametrize(
    "settings_like",
    [
        SimpleNamespace(AI_SUGGESTIONS_URL="", AI_SUGGESTIONS_API_KEY="x"),
        {"AI_SUGGESTIONS_URL": ""},
        SimpleNamespace(),
    ],
)
def test_without_a_url_the_provider_is_rule_based(settings_like):
    provider = suggestion_provider_from_settings(settings_like)
    assert isinstance(provider, RuleBasedSuggestions)


def test_with_a_url_the_provider_is_the_http_backend(chat_server):
    # Given settings naming the fake server (as an object, as Django's are)
    settings_like = SimpleNamespace(
        AI_SUGGESTIONS_URL=chat_server.url,
        AI_SUGGESTIONS_API_KEY=API_KEY,
        AI_SUGGESTIONS_MODEL="test-model",
    )

    # When the provider is built and asked
    provider = suggestion_provider_from_settings(settings_like)
    suggestion = provider.suggest_refresh(make_context())

    # Then it talked to the server with the configured key and model
    assert isinstance(provider, OpenAICompatibleSuggestions)
    assert suggestion.provider == "openai_compatible:test-model"
    assert chat_server.requests[0]["json"]["model"] == "test-model"


def test_a_bad_url_in_settings_fails_loudly():
    with pytest.raises(ValueError, match="AI_SUGGESTIONS_URL"):
        suggestion_provider_from_settings({"AI_SUGGESTIONS_URL": "file:///tmp/x"})
