import contextlib
import os

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache, caches

from config.celery import app as celery_app
from productions.roles import ADMIN_GROUP, MANAGER_GROUP
from tests.factories import UserFactory

pytest_plugins = ["tests.fakes.s3_server"]


REDIS_DATABASES = 16


@pytest.fixture(scope="session", autouse=True)
def _cache_database_per_test_process():
    """Parallel test processes on one Redis get a database each: every test clears
    the cache (FLUSHDB), which must not reset another process's throttle counters."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    location = django_settings.CACHES["default"].get("LOCATION", "")
    if worker.startswith("gw") and str(location).startswith("redis://"):
        base, _, database = str(location).rpartition("/")
        number = (int(database or 0) + int(worker[2:])) % REDIS_DATABASES
        django_settings.CACHES["default"]["LOCATION"] = f"{base}/{number}"
        caches.close_all()
        caches.__dict__.pop("settings", None)  # the handler re-reads CACHES
        with contextlib.suppress(AttributeError):
            del caches["default"]  # a connection made before now is dropped
    yield


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    """Every test writes media into its own folder; tasks run in-process by default."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    # A render worker's own disk: scratch folders and its piece cache.
    settings.RENDER_SCRATCH_DIR = str(tmp_path / "scratch")
    settings.RENDER_CACHE_DIR = str(tmp_path / "render-cache")
    # The real hasher costs ~0.3 s per user; tests only need passwords to work.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Celery caches its config: set eager mode on the app itself. Tests that are about a
    # real worker use the `celery_worker_process` fixture instead.
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    # Throttle and flood counters live in the cache: every test starts from zero.
    cache.clear()
    yield
    cache.clear()
    celery_app.conf.task_always_eager = previous


@pytest.fixture
def manager_user(db):
    return UserFactory(username="manager1", groups=[MANAGER_GROUP])


@pytest.fixture
def admin_user_engine(db):
    return UserFactory(username="admin1", groups=[ADMIN_GROUP])


@pytest.fixture
def outsider_user(db):
    return UserFactory(username="outsider1")


@pytest.fixture
def live_graph(settings):
    """Live mode against a fake Graph API on loopback: the configured client is the
    real `GraphMetaClient`, every request goes over HTTP to `live_graph`."""
    from tests.fakes.graph_server import FakeGraphServer

    with FakeGraphServer(access_token="TOK") as server:
        settings.CREATIVE_ENGINE_MODE = "live"
        settings.META_GRAPH_URL = server.base_url
        settings.META_ACCESS_TOKEN = "TOK"
        settings.META_APP_SECRET = ""
        settings.META_AD_ACCOUNT_ID = server.state.account_id
        settings.META_PAGE_ID = server.state.page_id
        settings.META_TIMEOUT_SECONDS = 2.0
        settings.META_DEFAULT_ADSET_ID = server.state.add_adset()
        server.state.video_processing_polls = 0  # no 5 s status poll per upload
        yield server
