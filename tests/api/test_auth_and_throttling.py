"""Session auth for people logged in to the admin, token auth for clients, and the
throttle answering 429 in the one error shape."""

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

pytestmark = pytest.mark.django_db


def test_a_manager_logged_in_by_session_reads_the_api(manager_user):
    client = APIClient()
    client.force_login(manager_user)

    response = client.get("/meta/creative-engine/status")

    assert response.status_code == 200


def test_a_session_write_without_the_csrf_token_is_refused(manager_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager_user)

    response = client.post("/meta/creative-engine/run", {}, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]["message"]


def test_a_session_write_with_the_csrf_token_is_accepted(manager_user):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(manager_user)
    client.get("/api/docs/")  # the docs page sets the CSRF cookie
    token = client.cookies["csrftoken"].value

    response = client.post(
        "/meta/creative-engine/run",
        {"dry_run": True},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert response.status_code == 202, response.content


def test_a_bad_token_is_a_401(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")

    response = client.get("/api/variants/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_an_inactive_manager_is_refused(manager_api, manager_user):
    manager_user.is_active = False
    manager_user.save(update_fields=["is_active"])

    response = manager_api.get("/api/variants/")

    assert response.status_code == 401


def test_a_superuser_counts_as_admin(db):
    from tests.api.conftest import token_client
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True)

    response = token_client(root).get("/api/runs/")

    assert response.status_code == 200


def test_too_many_requests_get_a_429_with_retry_after(manager_api, monkeypatch):
    monkeypatch.setattr(
        SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/minute", "anon": "3/minute"}
    )

    answers = [manager_api.get("/api/variants/").status_code for _ in range(4)]

    assert answers == [200, 200, 200, 429]
    throttled = manager_api.get("/api/variants/")
    assert throttled.json()["error"]["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0


def test_the_docs_page_is_swagger_ui_for_role_holders(manager_api):
    response = manager_api.get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content


def test_the_docs_page_loads_swagger_ui_from_our_static_files_not_a_cdn(manager_api):
    from django.contrib.staticfiles import finders

    page = manager_api.get("/api/docs/").content.decode()

    assert "cdn.jsdelivr.net" not in page and "unpkg.com" not in page
    assert (
        "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    )
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_the_docs_page_runs_under_the_content_security_policy(manager_api):
    """No inline script (CSP `script-src 'self'`), and no unsafe-none opener policy."""
    import re

    response = manager_api.get("/api/docs/")
    page = response.content.decode()

    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert (
        "unsafe-inline"
        not in response.headers["Content-Security-Policy"]
        .split("script-src")[1]
        .split(";")[0]
    )
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all(
        "src=" in attrs and not body.strip() for attrs, body in scripts
    )
    init = re.search(r'<script src="([^"]*script=[^"]*)"', page)
    assert init is not None
    script = manager_api.get(init.group(1).replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content
