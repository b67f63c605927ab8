"""Tongban settings, read from environment variables (12-factor).

Variables: DATABASE_URL, REDIS_URL, SECRET_KEY, DEBUG, ALLOWED_HOSTS, HOST, PORT,
SECURE_SSL (HTTPS-only cookies and redirects; on by default when DEBUG is off),
CSRF_TRUSTED_ORIGINS, MEDIA_ROOT, TONGBAN_DATA_DIR, LOG_LEVEL; case clocks and Celery: see the
block "Case clocks and background tasks"; uploaded files' storage, size limit and virus scanner:
the block "Case materials storage".

Without DATABASE_URL the embedded SQLite database in ``var/tongban.sqlite3`` is used (WAL mode);
without REDIS_URL the cache is process-local memory.
"""

from datetime import timedelta
from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parents[3]
PACKAGE_DIR = Path(__file__).resolve().parents[1]

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# The development key is refused by `check --deploy` (tongban.core.checks); production sets one.
DEV_SECRET_KEY = "dev-only-tongban-key-change-me-0123456789-abcdefghijklmnopqrstuvwxyz"  # noqa: S105
SECRET_KEY = env.str("SECRET_KEY", default="") or DEV_SECRET_KEY

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
HOST = env.str("HOST", default="127.0.0.1")
PORT = env.int("PORT", default=8000)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "ninja",
    "tongban.core",
    "tongban.org",
    "tongban.accounts",
    "tongban.catalog",
    "tongban.registry",
    "tongban.notify",
    "tongban.cases",
    "tongban.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "tongban.web.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "tongban.core.middleware.RejectControlCharactersMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "tongban.web.middleware.ElderModeMiddleware",
    # Axes must come last: it turns a lockout into a readable page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "tongban.config.urls"
WSGI_APPLICATION = "tongban.config.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "tongban.web.context_processors.shell",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATA_DIR = Path(env.str("TONGBAN_DATA_DIR", default=str(BASE_DIR / "var")))
_default_sqlite = f"sqlite:///{DATA_DIR / 'tongban.sqlite3'}"
DATABASES = {"default": env.db_url("DATABASE_URL", default=_default_sqlite)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers proceed while one writer writes; IMMEDIATE avoids lock upgrades.
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA busy_timeout=5000;"
            ),
            "transaction_mode": "IMMEDIATE",
        }
    )
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if not env.bool("DATABASE_JIT", default=False):
        # PostgreSQL's JIT compiles a plan it guesses to be costly; for the platform's short
        # queries the compiling is the cost (8.6 s of one list query at 10,000,000 cases).
        DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache (rate limits, lockouts, calendar) -------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tongban",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Authentication ---------------------------------------------------------------------------
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 8},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "tongban.accounts.backends.IdentifierBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:workbench"
LOGOUT_REDIRECT_URL = "web:landing"

# django-axes: 5 failures for one account from one address lock it for 15 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "tongban.accounts.backends.lockout_key"
AXES_LOCKOUT_CALLABLE = "tongban.accounts.lockout.lockout_response"
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0)

API_TOKEN_TTL = timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=12))
SESSION_COOKIE_AGE = 60 * 60 * 8

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media files -------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(DATA_DIR / "staticfiles")))
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(DATA_DIR / "media")))
MEDIA_URL = "/media/"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env.bool("STATIC_MANIFEST", default=False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Case materials storage (cases/uploads.py, cases/previews.py) ---------------------------
# Owned by the case materials job. Variables: MEDIA_STORAGE_BACKEND (dotted path of the Django
# storage class for uploaded files; default the local file system under MEDIA_ROOT; an
# S3-compatible store once a backend such as django-storages is installed, e.g.
# "storages.backends.s3.S3Storage"), MEDIA_STORAGE_OPTIONS (a JSON object passed to that class,
# e.g. {"bucket_name": "tongban-media", "endpoint_url": "https://…", "default_acl": "private"}),
# CASE_UPLOAD_MAX_BYTES (10 MB), CASE_UPLOAD_MAX_PIXELS (50 megapixels), CASE_VIRUS_SCANNER
# (dotted path of scanner(content, name) -> bool; the default only refuses the EICAR test file).
# Media are never served under MEDIA_URL: every file goes through the access-checked views.
STORAGES["default"] = {
    "BACKEND": env.str(
        "MEDIA_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
    ),
    "OPTIONS": env.json("MEDIA_STORAGE_OPTIONS", default={}),
}
FILE_UPLOAD_PERMISSIONS = 0o640  # personal data: not world-readable on the file system
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o750
CASE_UPLOAD_MAX_BYTES = env.int("CASE_UPLOAD_MAX_BYTES", default=10 * 1024 * 1024)
CASE_UPLOAD_MAX_PIXELS = env.int("CASE_UPLOAD_MAX_PIXELS", default=50_000_000)
CASE_VIRUS_SCANNER = env.str("CASE_VIRUS_SCANNER", default="tongban.cases.uploads.default_scanner")
# --- end of case materials storage ------------------------------------------------------------

# --- Security ---------------------------------------------------------------------------------
SECURE_SSL = env.bool("SECURE_SSL", default=not DEBUG)
SECURE_SSL_REDIRECT = SECURE_SSL
SESSION_COOKIE_SECURE = SECURE_SSL
CSRF_COOKIE_SECURE = SECURE_SSL
SECURE_HSTS_SECONDS = 31536000 if SECURE_SSL else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_SSL
SECURE_HSTS_PRELOAD = SECURE_SSL
if env.bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- API --------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 20
NINJA_PAGINATION_MAX_LIMIT = 200
IDEMPOTENCY_TTL = timedelta(hours=24)

# --- Working days -----------------------------------------------------------------------------
# A case turns yellow when at most this many working days are left.
WORKDAY_WARNING_DAYS = env.int("WORKDAY_WARNING_DAYS", default=1)

# --- Case clocks and background tasks (Celery) ------------------------------------------------
# Owned by the cases clock job (cases/clock.py, cases/tasks.py, config/celery.py).
# Variables: CASE_YELLOW_DAYS (a case turns yellow when at most this many working days are left;
# default WORKDAY_WARNING_DAYS), CASE_MAX_EXTENSION_DAYS (§42: 10), CASE_SUPPLEMENT_DAYS (10
# calendar days for mailed 补正 materials), CELERY_BROKER_URL (default REDIS_URL),
# CELERY_TASK_ALWAYS_EAGER (default: on when there is no broker), CASE_CLOCKS_MINUTES (15).
CASE_YELLOW_DAYS = env.int("CASE_YELLOW_DAYS", default=WORKDAY_WARNING_DAYS)
# How long a server worker keeps what window intake knows of an item at a center for a day
# (version, materials, acceptance, approving department), in seconds; 0 turns it off.
CASE_INTAKE_RULES_SECONDS = env.int("CASE_INTAKE_RULES_SECONDS", default=60)
CASE_MAX_EXTENSION_DAYS = env.int("CASE_MAX_EXTENSION_DAYS", default=10)
CASE_SUPPLEMENT_DAYS = env.int("CASE_SUPPLEMENT_DAYS", default=10)
# Rate limits (django-ratelimit, in the cache): CASE_PROGRESS_RATE — the public progress query,
# page and API together, per address ("10/m"); CASE_PROGRESS_NUMBER_RATE — the same query per
# case number, whatever the address, so one number's mobile cannot be guessed from many
# addresses ("30/h"); CASE_LOOKUP_RATE — staff looking applicants up by identity number (API
# intake, the window's find and register), per user ("120/h").
CASE_PROGRESS_RATE = env.str("CASE_PROGRESS_RATE", default="10/m")
CASE_PROGRESS_NUMBER_RATE = env.str("CASE_PROGRESS_NUMBER_RATE", default="30/h")
CASE_LOOKUP_RATE = env.str("CASE_LOOKUP_RATE", default="120/h")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://"
# No broker (the embedded default): .delay() runs the task in-process, at once.
CELERY_TASK_ALWAYS_EAGER = env.bool(
    "CELERY_TASK_ALWAYS_EAGER", default=CELERY_BROKER_URL == "memory://"
)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True  # no result backend: tasks write their outcome to the database
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep LOGGING (and its masking filter) below
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE = {
    "case-clocks": {
        "task": "tongban.cases.tasks.refresh_clocks",
        "schedule": timedelta(minutes=env.int("CASE_CLOCKS_MINUTES", default=15)),
    },
    "deliver-webhooks": {
        "task": "tongban.notify.deliver_webhooks",
        "schedule": timedelta(minutes=1),
    },
}
# --- end of case clocks and background tasks --------------------------------------------------

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"mask_pii": {"()": "tongban.core.masking.MaskingLogFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["mask_pii"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

ADMIN_SITE_HEADER = _("通办 管理后台")
