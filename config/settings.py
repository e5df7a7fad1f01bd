"""Settings for Creative Engine, read from the environment.

With nothing set, a fresh clone runs on a SQLite file with in-process tasks and the stub
Meta client (the embedded default). DATABASE_URL / CELERY_BROKER_URL move it onto
PostgreSQL and Redis. Secrets have no production default: with DJANGO_DEBUG off a missing
DJANGO_SECRET_KEY stops start-up.
"""

import os
import tempfile
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.templatetags.static import static

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=True)

_DEV_SECRET_KEY = "django-insecure-embedded-default-only-for-debug"  # noqa: S105
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off."
    )

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"]
)
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The console's theme: before django.contrib.admin so its templates win.
    "unfold",
    "unfold.contrib.filters",
    "unfold.contrib.forms",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served by us, not a CDN
    "django_celery_beat",
    "axes",  # login throttling for the admin and the session API
    "productions",
    "variants",
    "promotion",
    "creative_engine",
]

MIDDLEWARE = [
    # Outermost: every failure on an API path answers the API's JSON error shape.
    "creative_engine.api.middleware.APIErrorShapeMiddleware",
    "creative_engine.api.flood_guard.AuthFailureFloodMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Inside CSP's: the console's Alpine.js evaluates its attributes (admin pages only).
    "config.csp.ConsoleScriptPolicyMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 answer.
    "axes.middleware.AxesMiddleware",
]

# django-axes checks every login (admin form, session API) before the password does.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let a web process and in-process tasks share the file.
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    DATABASES["default"]["OPTIONS"].setdefault(
        "init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    # Tests on a file, not shared-cache memory: threads in the locking tests then wait
    # on the busy timeout like real processes instead of failing "table is locked".
    # One file per test process, so parallel runs never share it.
    DATABASES["default"]["TEST"] = {
        "NAME": str(
            Path(tempfile.gettempdir()) / f"creative-engine-test-{os.getpid()}.db"
        )
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = env.str("MEDIA_URL", default="/media/")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Django serves media (with HTTP Range, to signed-in staff with a role: config/media.py)
# unless a front server does (then set this off and protect the path there).
MEDIA_SERVED_BY_DJANGO = env.bool("MEDIA_SERVED_BY_DJANGO", default=True)

# --- Media storage -------------------------------------------------------------------------
# Masters, renders and posters go through Django's storage API only. `local` (the embedded
# default) keeps them under MEDIA_ROOT; `s3` puts them in an S3-compatible bucket
# (django-storages + boto3), so web, beat and every worker share nothing but the database,
# the broker and the bucket. Media pages then redirect to short-lived presigned URLs.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="local")
if MEDIA_STORAGE == "local":
    _MEDIA_BACKEND: dict[str, object] = {
        "BACKEND": "django.core.files.storage.FileSystemStorage"
    }
elif MEDIA_STORAGE == "s3":
    AWS_STORAGE_BUCKET_NAME = env.str("AWS_STORAGE_BUCKET_NAME", default="")
    if not AWS_STORAGE_BUCKET_NAME:
        raise ImproperlyConfigured("MEDIA_STORAGE=s3 needs AWS_STORAGE_BUCKET_NAME.")
    _MEDIA_BACKEND = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            # Empty: AWS itself; MinIO, Ceph, R2... are named by their URL.
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("AWS_S3_REGION_NAME", default="") or None,
            # Empty: boto3's own chain (env, instance role, ~/.aws).
            "access_key": env.str("AWS_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("AWS_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("AWS_LOCATION", default=""),
            "addressing_style": env.str("AWS_S3_ADDRESSING_STYLE", default="") or None,
            "signature_version": "s3v4",
            # Unreleased videos: private objects, presigned URLs that expire.
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": env.int("AWS_QUERYSTRING_EXPIRE", default=600),
            # A taken name gets a suffix, as on disk: a render never replaces another.
            "file_overwrite": False,
        },
    }
else:
    raise ImproperlyConfigured("MEDIA_STORAGE must be 'local' or 's3'.")
STORAGES = {
    "default": _MEDIA_BACKEND,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    },
}
# Masters can be large videos; uploads above this stream to a temporary file.
FILE_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# --- Master input limits -----------------------------------------------------------------
# What a person may hand the engine as a master and its style guide; past these the API
# answers 400 and the admin shows a form error, each naming the setting. One size cap
# for uploads and URL fetches (FETCH_MAX_BYTES is read as its former name).
MASTER_MAX_BYTES = env.int(
    "MASTER_MAX_BYTES", default=env.int("FETCH_MAX_BYTES", default=1024**3)
)
# The API's own ceiling on a master's duration is a day; a setting may only lower it.
MASTER_MAX_SECONDS = env.float("MASTER_MAX_SECONDS", default=86_400.0)
MASTER_MAX_DIMENSION = env.int("MASTER_MAX_DIMENSION", default=4096)
MASTER_MAX_STREAMS = env.int("MASTER_MAX_STREAMS", default=8)
# Stored names are slugs of at most this many characters, extension included; the
# storage adds its own suffix when a name is taken.
MASTER_FILE_NAME_MAX_CHARS = env.int("MASTER_FILE_NAME_MAX_CHARS", default=100)
STYLE_GUIDE_MAX_LIST_ITEMS = env.int("STYLE_GUIDE_MAX_LIST_ITEMS", default=100)
STYLE_GUIDE_MAX_TEXT_CHARS = env.int("STYLE_GUIDE_MAX_TEXT_CHARS", default=1000)
for _name, _value, _low, _high in (
    ("MASTER_MAX_BYTES", MASTER_MAX_BYTES, 1, 1 << 62),
    ("MASTER_MAX_SECONDS", MASTER_MAX_SECONDS, 1, 86_400),
    ("MASTER_MAX_DIMENSION", MASTER_MAX_DIMENSION, 16, 16_384),
    ("MASTER_MAX_STREAMS", MASTER_MAX_STREAMS, 1, 64),
    # A slug this long plus the storage's suffix stays inside one path component.
    ("MASTER_FILE_NAME_MAX_CHARS", MASTER_FILE_NAME_MAX_CHARS, 16, 200),
    ("STYLE_GUIDE_MAX_LIST_ITEMS", STYLE_GUIDE_MAX_LIST_ITEMS, 1, 10_000),
    ("STYLE_GUIDE_MAX_TEXT_CHARS", STYLE_GUIDE_MAX_TEXT_CHARS, 1, 100_000),
):
    if not _low <= _value <= _high:
        raise ImproperlyConfigured(f"{_name} must be between {_low} and {_high}.")
# The extensions a master may have: those whose demuxer the engine knows (see
# productions/uploads.py); a deployment may only narrow them.
_READABLE_MASTER_EXTENSIONS = (".mp4", ".mov", ".m4v", ".webm", ".mkv")
MASTER_FILE_EXTENSIONS = tuple(
    e.lower()
    for e in env.list(
        "MASTER_FILE_EXTENSIONS", default=list(_READABLE_MASTER_EXTENSIONS)
    )
)
if not MASTER_FILE_EXTENSIONS or not set(MASTER_FILE_EXTENSIONS) <= set(
    _READABLE_MASTER_EXTENSIONS
):
    raise ImproperlyConfigured(
        "MASTER_FILE_EXTENSIONS must be one or more of "
        + ", ".join(_READABLE_MASTER_EXTENSIONS)
        + "."
    )

# --- Security (production values when DJANGO_DEBUG is off) -------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("DJANGO_CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Login throttling (django-axes) ------------------------------------------------------
# After LOGIN_FAILURE_LIMIT wrong passwords for one username from one address, that pair
# is refused (429) for LOGIN_LOCKOUT_MINUTES, right password or not; success resets it.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("LOGIN_LOCKOUT_MINUTES", default=15.0) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"  # on the console's theme
# Behind DJANGO_PROXY_COUNT trusted proxies the client is the address they report in
# X-Forwarded-For; with none (the default) that header is the client's own and ignored.
_PROXY_COUNT = env.int("DJANGO_PROXY_COUNT", default=0)
AXES_IPWARE_PROXY_COUNT = _PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if _PROXY_COUNT else ("REMOTE_ADDR",)
)
if AXES_FAILURE_LIMIT < 1 or AXES_COOLOFF_TIME <= 0:
    raise ImproperlyConfigured(
        "LOGIN_FAILURE_LIMIT must be at least 1 and LOGIN_LOCKOUT_MINUTES positive."
    )

# --- Content Security Policy (django-csp) on every page: admin, docs, API ---------------
# Scripts only from our own static files (Swagger UI included); inline styles allowed,
# since the admin and Swagger UI set them; media and posters from our own origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],
        # Masters may be public https URLs (checked on arrival); media cannot run code.
        "media-src": ["'self'", "blob:", "https:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["creative_engine.api.permissions.IsAdminOrManager"],
    # JSON only, by the API's rules (depth, size, storable text); the master upload adds
    # multipart on its own view. No browsable API: every answer is JSON.
    "DEFAULT_PARSER_CLASSES": ["creative_engine.api.parsers.SafeJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "creative_engine.api.pagination.BoundedPageNumberPagination",
    "PAGE_SIZE": 50,
    # Every operation documents the error responses it can give, in the one shape.
    "DEFAULT_SCHEMA_CLASS": "creative_engine.api.schema.EngineAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env.str("API_THROTTLE_USER", default="6000/hour"),
        "anon": env.str("API_THROTTLE_ANON", default="60/hour"),
    },
    "EXCEPTION_HANDLER": "creative_engine.api.errors.api_exception_handler",
    # The client's address for throttles: behind DJANGO_PROXY_COUNT trusted proxies.
    "NUM_PROXIES": _PROXY_COUNT or None,
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Creative Engine API",
    "DESCRIPTION": "Autonomous Meta video-ad variant production under human rules.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # The docs page loads Swagger UI from our static files: no third-party script runs
    # with an admin's session, and the docs work offline.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- API input limits ----------------------------------------------------------------------
# What one request may carry; each refusal is a 400/413 that names its setting.


def _int_setting(name: str, *, default: int, low: int, high: int) -> int:
    raw = env.str(name, default=str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number, not {raw!r}."
        ) from None
    if not low <= value <= high:
        raise ImproperlyConfigured(
            f"{name} must be between {low} and {high}, not {value}."
        )
    return value


# Nesting of any JSON value (a body, or a JSON field of a form). Real payloads nest 4
# deep; the ceiling stays far below Python's recursion limit (1000), which every later
# walk of the value (serializers, json.dumps, the database adapter) spends.
API_MAX_JSON_DEPTH = _int_setting("API_MAX_JSON_DEPTH", default=32, low=4, high=200)
# A JSON body (not the multipart master upload). A master with 50 cuts, a full style
# guide and 10,000 characters of instructions is under 40 KB.
API_MAX_BODY_BYTES = _int_setting(
    "API_MAX_BODY_BYTES", default=1024 * 1024, low=16 * 1024, high=100 * 1024 * 1024
)
# Fragments created with their master in one request: each one is validated, stored
# and audited in one transaction, and later planned by the render worker.
API_MAX_NESTED_FRAGMENTS = _int_setting(
    "API_MAX_NESTED_FRAGMENTS", default=50, low=1, high=1000
)
# Django reads a body whole only up to this; never below the API's own limit, so the
# limit a JSON client meets is API_MAX_BODY_BYTES.
DATA_UPLOAD_MAX_MEMORY_SIZE = max(DATA_UPLOAD_MAX_MEMORY_SIZE, API_MAX_BODY_BYTES)
# An address whose API requests fail authentication this many times within the window
# (no credentials, a bad token) is answered 429 on every API request until the window
# passes: floods meet a throttle before they meet the permission check.
API_AUTH_FAILURE_LIMIT = _int_setting(
    "API_AUTH_FAILURE_LIMIT", default=30, low=1, high=100_000
)
API_AUTH_FAILURE_WINDOW_SECONDS = _int_setting(
    "API_AUTH_FAILURE_WINDOW_SECONDS", default=60, low=1, high=86_400
)


# --- Cache (Redis when REDIS_URL is set; used by throttling) -----------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
# Unset broker: tasks run in-process (the embedded default).
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # state lives in our tables
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=15 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=20 * 60)
# The visibility timeout must exceed every time limit and retry delay, or Redis hands a
# running task to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 60 * 60}
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {
    "variants.*": {"queue": "render"},
    "promotion.*": {"queue": "meta"},
    "creative_engine.*": {"queue": "default"},
}
# django-celery-beat's database scheduler, claiming the cycle's window as it fires.
CELERY_BEAT_SCHEDULER = "creative_engine.beat:CycleScheduler"
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Referenced by setup_schedule; the schedule itself lives in django-celery-beat's tables.
CREATIVE_ENGINE_CYCLE_CRONTAB = crontab(minute=0, hour="0,12")

# --- Creative Engine ----------------------------------------------------------------------
CREATIVE_ENGINE_MODE = env.str("CREATIVE_ENGINE_MODE", default="stub")
if CREATIVE_ENGINE_MODE not in {"stub", "live"}:
    raise ImproperlyConfigured("CREATIVE_ENGINE_MODE must be 'stub' or 'live'.")
# Reliability: a scheduled run that meets another cycle comes back this often; render and
# upload work holds a lease renewed by a heartbeat (expired: its worker is gone); the
# sweep re-sends work whose message is not on the broker after DISPATCH_STALE_SECONDS
# (only used when the broker cannot be asked).
CYCLE_LOCK_RETRY_SECONDS = env.int("CYCLE_LOCK_RETRY_SECONDS", default=30)
WORK_LEASE_SECONDS = env.int("WORK_LEASE_SECONDS", default=60)
DISPATCH_STALE_SECONDS = env.int("DISPATCH_STALE_SECONDS", default=30 * 60)
if not 1 <= CYCLE_LOCK_RETRY_SECONDS <= 600:
    raise ImproperlyConfigured("CYCLE_LOCK_RETRY_SECONDS must be between 1 and 600.")
if not 10 <= WORK_LEASE_SECONDS <= 3600:
    raise ImproperlyConfigured("WORK_LEASE_SECONDS must be between 10 and 3600.")

FFMPEG_BINARY = env.str("FFMPEG_BINARY", default="")  # empty: imageio-ffmpeg's binary
RENDER_WIDTH = env.int("RENDER_WIDTH", default=1080)
RENDER_HEIGHT = env.int("RENDER_HEIGHT", default=1920)
# A render worker's own disk: each render gets a fresh folder under RENDER_SCRATCH_DIR
# (inputs fetched from storage, outputs before they are stored), removed when it ends.
RENDER_SCRATCH_DIR = env.path(
    "RENDER_SCRATCH_DIR",
    default=Path(tempfile.gettempdir()) / "creative-engine-render",
)
# Encoded pieces (H.264 segments) reused across renders, and fetched masters, on the
# worker's own disk; least recently used first beyond RENDER_CACHE_MAX_BYTES.
RENDER_CACHE_DIR = env.str("RENDER_CACHE_DIR", default="")  # empty: SCRATCH/cache
RENDER_CACHE_MAX_BYTES = env.int("RENDER_CACHE_MAX_BYTES", default=1024**3)
if RENDER_CACHE_MAX_BYTES < 0:
    raise ImproperlyConfigured("RENDER_CACHE_MAX_BYTES must not be negative.")
VARIANTS_PER_MASTER_MAX = env.int("VARIANTS_PER_MASTER_MAX", default=15)
if not 5 <= VARIANTS_PER_MASTER_MAX <= 15:
    raise ImproperlyConfigured("VARIANTS_PER_MASTER_MAX must be between 5 and 15.")
FETCH_TIMEOUT_SECONDS = env.float("FETCH_TIMEOUT_SECONDS", default=120.0)

META_GRAPH_URL = env.str("META_GRAPH_URL", default="https://graph.facebook.com")
META_API_VERSION = env.str("META_API_VERSION", default="v25.0")
META_ACCESS_TOKEN = env.str("META_ACCESS_TOKEN", default="")
META_APP_SECRET = env.str("META_APP_SECRET", default="")
META_AD_ACCOUNT_ID = env.str("META_AD_ACCOUNT_ID", default="")
META_PAGE_ID = env.str("META_PAGE_ID", default="")
META_INSTAGRAM_USER_ID = env.str("META_INSTAGRAM_USER_ID", default="")
META_DEFAULT_ADSET_ID = env.str("META_DEFAULT_ADSET_ID", default="")
# Testing and scaling are separate ad sets: new variants are tested in the testing ad
# set (a master's `adset_id`, else this, else META_DEFAULT_ADSET_ID) on a bounded test
# budget; a winner graduates, as the same creative, into the scaling ad set (a
# master's `scaling_adset_id`, else this), where the ROAS engine steers the budget.
# No scaling ad set: winners stay in the testing ad set, as before.
META_TESTING_ADSET_ID = env.str("META_TESTING_ADSET_ID", default="")
META_SCALING_ADSET_ID = env.str("META_SCALING_ADSET_ID", default="")
META_TIMEOUT_SECONDS = env.float("META_TIMEOUT_SECONDS", default=60.0)
# The currency the live preflight expects the ad account to bill in (empty: any).
META_ACCOUNT_CURRENCY = env.str("META_ACCOUNT_CURRENCY", default="")
META_MAX_RUNNING_ADS_PER_PAGE = env.int("META_MAX_RUNNING_ADS_PER_PAGE", default=250)
META_STUB_UPLOAD_FAILURE_RATE = env.float("META_STUB_UPLOAD_FAILURE_RATE", default=0.15)
META_STUB_SEED = env.int("META_STUB_SEED", default=1017)
# How the stub market's ad sets split their budget: "auction" (like Meta: towards
# the ads its noisy estimate favours, new ads get a floor) or "even".
META_STUB_DELIVERY = env.str("META_STUB_DELIVERY", default="auction")
if META_STUB_DELIVERY not in ("auction", "even"):
    raise ImproperlyConfigured("META_STUB_DELIVERY must be 'auction' or 'even'.")
META_STUB_LATENCY_SECONDS = env.float("META_STUB_LATENCY_SECONDS", default=0.0)
# The ROAS engine (10.5) steers each ad set's daily budget toward ROAS_TARGET in capped
# steps and never outside these bounds, in the account currency's minor units (cents),
# as Meta's daily_budget is. A team sets the ceiling it is willing to let the engine
# reach on its own.
ROAS_TARGET = env.float("ROAS_TARGET", default=2.0)
# The cost per conversion masters with the CPA objective steer towards.
CPA_TARGET = env.float("CPA_TARGET", default=25.0)
if CPA_TARGET <= 0:
    raise ImproperlyConfigured("CPA_TARGET must be positive.")
ROAS_MIN_DAILY_BUDGET_MINOR = env.int("ROAS_MIN_DAILY_BUDGET_MINOR", default=500)
ROAS_MAX_DAILY_BUDGET_MINOR = env.int("ROAS_MAX_DAILY_BUDGET_MINOR", default=1_000_000)
if ROAS_TARGET <= 0:
    raise ImproperlyConfigured("ROAS_TARGET must be positive.")
if not 0 < ROAS_MIN_DAILY_BUDGET_MINOR <= ROAS_MAX_DAILY_BUDGET_MINOR:
    raise ImproperlyConfigured(
        "ROAS_MIN_DAILY_BUDGET_MINOR must be positive and at most "
        "ROAS_MAX_DAILY_BUDGET_MINOR."
    )

if CREATIVE_ENGINE_MODE == "live" and not (META_ACCESS_TOKEN and META_AD_ACCOUNT_ID):
    raise ImproperlyConfigured(
        "Live mode needs META_ACCESS_TOKEN and META_AD_ACCOUNT_ID (act_...)."
    )
if META_AD_ACCOUNT_ID and not META_AD_ACCOUNT_ID.startswith("act_"):
    raise ImproperlyConfigured("META_AD_ACCOUNT_ID must start with 'act_'.")

# Optional OpenAI-compatible backend for refresh suggestions (7.x AI worker stand-in).
AI_SUGGESTIONS_URL = env.str("AI_SUGGESTIONS_URL", default="")
AI_SUGGESTIONS_API_KEY = env.str("AI_SUGGESTIONS_API_KEY", default="")
AI_SUGGESTIONS_MODEL = env.str("AI_SUGGESTIONS_MODEL", default="gpt-4o-mini")

# --- Logging ------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
    },
}

# The admin's login page is the console's front door; after it, the dashboard.
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "admin:index"

# --- The console (django-unfold) ---------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "Creative Engine",
    "SITE_HEADER": "Creative Engine",
    "SITE_SUBHEADER": "Meta video ads on autopilot",
    "SITE_SYMBOL": "movie",
    "SITE_FAVICONS": [
        {
            "rel": "icon",
            "type": "image/svg+xml",
            "href": lambda request: static("console/favicon.svg"),
        }
    ],
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "creative_engine.console.dashboard.dashboard_callback",
    "ENVIRONMENT": "creative_engine.console.dashboard.environment_badge",
    "STYLES": [lambda request: static("console/console.css")],
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": "creative_engine.console.navigation.sidebar_navigation",
    },
}
