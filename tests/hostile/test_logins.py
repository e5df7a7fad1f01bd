"""Brute force against the login form: throttled by django-axes, whatever the password."""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from productions.roles import MANAGER_GROUP
from tests.factories import UserFactory

LOGIN_URL = "/admin/login/?next=/admin/"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def manager(db):
    return UserFactory(
        username="marketer", password=PASSWORD, groups=[MANAGER_GROUP], is_staff=True
    )


def _login(client: Client, username: str, password: str, ip: str = "203.0.113.7"):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
    )


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("wrong_passwords", [5, 12, 40])
def test_after_the_failure_limit_even_the_right_password_is_refused(
    manager, settings, wrong_passwords
):
    client = Client()
    statuses = [
        _login(client, "marketer", f"guess-{n}").status_code
        for n in range(wrong_passwords)
    ]

    right = _login(client, "marketer", PASSWORD)

    limit = settings.AXES_FAILURE_LIMIT
    assert statuses[: limit - 1] == [200] * (limit - 1)  # the form again, with an error
    assert set(statuses[limit:]) <= {429}
    assert right.status_code == 429
    assert not _logged_in(client)


def test_fewer_failures_than_the_limit_still_let_the_owner_in(manager, settings):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT - 1):
        _login(client, "marketer", f"guess-{n}")

    response = _login(client, "marketer", PASSWORD)

    assert response.status_code == 302
    assert _logged_in(client)


def test_a_lockout_holds_only_for_that_username_and_address(manager, settings):
    UserFactory(username="colleague", password=PASSWORD, is_staff=True)
    attacker = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(attacker, "marketer", f"guess-{n}")

    other_office = Client()
    colleague = Client()

    assert (
        _login(other_office, "marketer", PASSWORD, ip="198.51.100.4").status_code == 302
    )
    assert _login(colleague, "colleague", PASSWORD).status_code == 302


def test_the_lockout_ends_after_the_cool_off(manager, settings):
    start = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False) as clock:
        client = Client()
        for n in range(settings.AXES_FAILURE_LIMIT):
            _login(client, "marketer", f"guess-{n}")
        assert _login(client, "marketer", PASSWORD).status_code == 429

        clock.shift(dt.timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1))

        assert _login(client, "marketer", PASSWORD).status_code == 302


def test_a_forged_forwarded_for_header_does_not_reset_the_count(manager, settings):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            LOGIN_URL,
            {"username": "marketer", "password": f"guess-{n}"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )

    response = client.post(
        LOGIN_URL,
        {"username": "marketer", "password": PASSWORD},
        REMOTE_ADDR="203.0.113.7",
        HTTP_X_FORWARDED_FOR="10.9.9.9",
    )

    assert response.status_code == 429


def test_the_login_page_carries_a_content_security_policy(db):
    response = Client().get(LOGIN_URL)

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"


HOSTILE_CREDENTIALS = [
    ("", ""),
    ("marketer", ""),
    ("", PASSWORD),
    ("marketer\x00", PASSWORD),
    ("\x00", "\x00"),
    ("marketer", PASSWORD + "\x00"),
    ("a" * 10_000, PASSWORD),
    ("marketer", "p" * 100_000),
    ("a" * 151, PASSWORD),
    ("a" * 256, "x"),
    ("' OR '1'='1", "' OR '1'='1"),
    ("marketer'; DROP TABLE auth_user; --", "x"),
    ("MARKETER", PASSWORD),
    ("märketer", PASSWORD),
    ("<script>alert(1)</script>", "x"),
    ("%00", "%00"),
    ("marketer\u202e", PASSWORD),
]


@pytest.mark.parametrize(("username", "password"), HOSTILE_CREDENTIALS)
def test_hostile_credentials_get_the_form_again_and_no_session(
    manager, username, password
):
    client = Client()

    response = client.post(
        LOGIN_URL,
        {"username": username, "password": password},
        REMOTE_ADDR="203.0.113.9",
    )

    assert response.status_code == 200
    assert not _logged_in(client)
    assert b"errornote" in response.content or b"errorlist" in response.content


@pytest.mark.parametrize(
    "raw_body",
    [
        "username=marketer%ED%A0%80&password=x",  # a lone surrogate, UTF-8 encoded
        "username=%FF%FE&password=%C0%AF",  # not UTF-8 at all
        "username=marketer&password=" + "%00" * 50,
        "username=marketer&username=admin&password=x",  # the field twice
        "username[]=marketer&password=x",
        "password=" + "x" * 1_000,
        "=" * 1_000,
    ],
)
def test_malformed_login_bodies_get_the_form_again_not_a_500(manager, raw_body):
    client = Client()

    response = client.post(
        LOGIN_URL,
        raw_body,
        content_type="application/x-www-form-urlencoded",
        REMOTE_ADDR="203.0.113.10",
    )

    assert response.status_code == 200
    assert not _logged_in(client)


def test_hostile_attempts_count_toward_the_lockout(manager, settings):
    client = Client()
    for n in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "marketer", f"' OR 1=1 -- {n}")

    assert _login(client, "marketer", PASSWORD).status_code == 429


def test_an_overlong_username_is_a_form_error_and_writes_no_attempt(manager):
    from axes.models import AccessAttempt

    client = Client()

    response = _login(client, "m" * 10_000, PASSWORD)

    assert response.status_code == 200
    assert b"at most 150 characters" in response.content
    assert not AccessAttempt.objects.filter(username__startswith="mmm").exists()
