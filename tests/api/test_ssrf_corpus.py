"""A master's video_url is fetched by a worker: hostile URLs are refused when they
arrive (400 on the field), before anything is stored. DNS answers come from the fake
resolver in conftest (FAKE_DNS); nothing here touches the network."""

import pytest

from productions.models import CreativeFragment, CreativeProduction
from tests.factories import ProductionFactory

pytestmark = pytest.mark.django_db

HOSTILE_URLS = [
    # loopback, in every spelling
    "http://127.0.0.1/master.mp4",
    "http://127.0.0.1:8000/admin/",
    "http://localhost/master.mp4",
    "http://[::1]/master.mp4",
    "http://2130706433/master.mp4",
    "http://0x7f.1/master.mp4",
    "http://0x7f000001/master.mp4",
    "http://017700000001/master.mp4",
    "http://127.1/master.mp4",
    "http://0/master.mp4",
    "http://0.0.0.0/master.mp4",
    "http://[::]/master.mp4",
    "http://[::ffff:127.0.0.1]/master.mp4",
    "http://[64:ff9b::7f00:1]/master.mp4",
    "http://[2002:7f00:1::]/master.mp4",
    # private networks and carrier-grade NAT
    "http://10.0.0.1/master.mp4",
    "http://172.16.5.4/master.mp4",
    "http://192.168.1.10/master.mp4",
    "http://100.64.0.1/master.mp4",
    "http://[fd12:3456::1]/master.mp4",
    # link-local and cloud metadata
    "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
    "http://169.254.170.2/v2/credentials",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://[fe80::1]/master.mp4",
    "http://100.100.100.200/latest/meta-data/",
    "http://168.63.129.16/machine",
    "http://metadata.google.internal/computeMetadata/v1/",
    # names that resolve to forbidden addresses (or partly: every address must pass)
    "http://internal.example.com/master.mp4",
    "http://loopback.example.com/master.mp4",
    "http://metadata.example.com/latest/meta-data/",
    "http://v6-loopback.example.com/master.mp4",
    "http://rebind.example.com/master.mp4",
    "https://does-not-resolve.invalid/master.mp4",
    # multicast, broadcast, reserved
    "http://224.0.0.1/master.mp4",
    "http://255.255.255.255/master.mp4",
    "http://240.0.0.1/master.mp4",
    # credentials and schemes other than http(s)
    "http://user:secret@cdn.example.com/master.mp4",
    "http://cdn.example.com@127.0.0.1/master.mp4",
    "file:///etc/passwd",
    "ftp://cdn.example.com/master.mp4",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "dict://127.0.0.1:11211/stat",
    "javascript:alert(1)",
    "data:video/mp4;base64,AAAA",
    "//cdn.example.com/master.mp4",
    "cdn.example.com/master.mp4",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_a_hostile_master_url_is_refused_on_arrival(admin_api, url):
    response = admin_api.post(
        "/api/productions/",
        {"title": "Hostile", "video_url": url, "duration": 10.0},
        format="json",
    )

    assert response.status_code == 400, (url, response.content)
    assert response.json()["error"]["fields"]["video_url"]
    assert not CreativeProduction.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://internal.example.com/master.mp4",
        "http://[::1]/x",
    ],
)
def test_a_hostile_url_is_refused_when_a_master_is_changed(manager_api, url):
    master = ProductionFactory()
    before = master.video_url

    response = manager_api.patch(
        f"/api/productions/{master.pk}/", {"video_url": url}, format="json"
    )

    assert response.status_code == 400
    master.refresh_from_db()
    assert master.video_url == before


def test_a_hostile_fragment_url_is_refused(manager_api):
    master = ProductionFactory()

    response = manager_api.post(
        "/api/fragments/",
        {
            "master_creative": str(master.pk),
            "fragment_type": "hook",
            "start_time": 0.0,
            "end_time": 2.0,
            "video_url": "http://10.0.0.7/cut.mp4",
        },
        format="json",
    )

    assert response.status_code == 400
    assert "video_url" in response.json()["error"]["fields"]
    assert not CreativeFragment.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://cdn.example.com/master.mp4",
        "http://media.example.org:8080/videos/master.mp4?sig=abc",
        "https://93.184.216.34/master.mp4",
    ],
)
def test_a_public_master_url_is_accepted(admin_api, url):
    response = admin_api.post(
        "/api/productions/",
        {"title": "Public", "video_url": url, "duration": 10.0},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()["video_url"] == url
