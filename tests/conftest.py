import pytest
from django.core.cache import cache

from config.celery import app as celery_app
from productions.roles import ADMIN_GROUP, MANAGER_GROUP
from tests.factories import UserFactory

pytest_plugins = ["tests.fakes.s3_server"]


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
