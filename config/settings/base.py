"""Complete, environment-driven settings with safe development defaults."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("ONESTOP_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


SECRET_KEY = os.environ.get("SECRET_KEY", "dev-insecure-onestop-key-change-me-in-production-0000")
DEBUG = env_bool("DEBUG", True)
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Demo mode: administrator roles need no second factor, demo logins are shown.
ONESTOP_DEMO = env_bool("ONESTOP_DEMO", False)
ONESTOP_PACK = os.environ.get("ONESTOP_PACK", "az")
ONESTOP_PACKS_DIR = Path(os.environ.get("ONESTOP_PACKS_DIR", BASE_DIR / "packs"))

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "onestop.core",
    "onestop.accounts",
    "onestop.audit",
    "onestop.catalogue",
    "onestop.centres",
    "onestop.packs",
    "onestop.notifications",
    "onestop.web",
    "onestop.queueing",
    "onestop.planning",
    "onestop.appointments",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "onestop.web.middleware.PackLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "onestop.accounts.middleware.AdminTwoFactorMiddleware",
    "onestop.web.middleware.PageMessageMiddleware",  # Django's, skipped under /api/
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "onestop" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "onestop.web.context.platform",
            ],
        },
    }
]

DATABASE_URL = os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'onestop.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("ONESTOP_DB_POOL", False):
    # A psycopg connection pool per process (production servers with many threads).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("ONESTOP_DB_POOL_MIN", "2")),
        "max_size": int(os.environ.get("ONESTOP_DB_POOL_MAX", "20")),
        "timeout": 10,
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("ONESTOP_DB_SERVER_BINDING", True):
    # Parameters travel apart from the statement, so psycopg prepares statements that a
    # connection runs often and PostgreSQL plans them once instead of on every request
    # (planning was a third of the database's time on the kiosk path; bench/README.md).
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at
    # BEGIN so concurrent writers queue on busy_timeout instead of failing mid-transaction.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("az", _("Azerbaijani")),
    ("ru", _("Russian")),
    ("en", _("English")),
    ("fa", _("Dari")),
    ("ps", _("Pashto")),
]
LANGUAGES_BIDI = ["fa", "ps", "ar", "he", "ur"]
LOCALE_PATHS = [BASE_DIR / "onestop" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL or "memory://")
CELERY_TASK_ALWAYS_EAGER = not bool(REDIS_URL)
CELERY_BEAT_SCHEDULE: dict = {}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "onestop.core.negotiation.CachedContentNegotiation",
    "EXCEPTION_HANDLER": "onestop.core.problems.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "onestop API",
    "DESCRIPTION": "One-stop public service centres: catalogue, queue, bookings.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
}

# Notifications: SMS and e-mail go through the transactional outbox (onestop.notifications).
# "file" appends JSON lines to ONESTOP_OUTBOX_DIR (default <VAR_DIR>/outbox); "http" posts to
# an SMS gateway; e-mail can also use "django" (Django's EMAIL_BACKEND).
ONESTOP_SMS_PROVIDER = os.environ.get("ONESTOP_SMS_PROVIDER", "file")
ONESTOP_EMAIL_PROVIDER = os.environ.get("ONESTOP_EMAIL_PROVIDER", "file")
ONESTOP_OUTBOX_DIR = Path(os.environ.get("ONESTOP_OUTBOX_DIR", VAR_DIR / "outbox"))
ONESTOP_SMS_HTTP_URL = os.environ.get("ONESTOP_SMS_HTTP_URL", "")
ONESTOP_SMS_HTTP_TOKEN = os.environ.get("ONESTOP_SMS_HTTP_TOKEN", "")
ONESTOP_SMS_HTTP_TIMEOUT = float(os.environ.get("ONESTOP_SMS_HTTP_TIMEOUT", "10"))
ONESTOP_NOTIFICATIONS_MAX_ATTEMPTS = int(os.environ.get("ONESTOP_NOTIFICATIONS_MAX_ATTEMPTS", "6"))
ONESTOP_NOTIFICATIONS_RETRY_SECONDS = int(os.environ.get("ONESTOP_NOTIFICATIONS_RETRY_SECONDS", "30"))
CELERY_BEAT_SCHEDULE["notifications.retry"] = {
    "task": "onestop.run_sweep", "schedule": 30.0, "args": ("notifications.retry",),
}

# Appointments: rate limits (onestop/appointments/ratelimit.py; "off" only with DEBUG, for load
# tests), link lifetimes, reminder hour, public address for SMS links, sweeps in Celery beat.
_APPOINTMENT_LIMITS = {
    "otp_per_phone": "5/h",
    "otp_per_ip": "30/h",
    "booking_per_national_id": "10/h",
    "booking_per_ip": "60/h",
}
_RATE_LIMITS_OFF = os.environ.get("ONESTOP_RATE_LIMITS", "").strip().lower() == "off"
ONESTOP_RATE_LIMITS: dict[str, str] | str = "off" if _RATE_LIMITS_OFF else _APPOINTMENT_LIMITS
ONESTOP_PUBLIC_URL = os.environ.get("ONESTOP_PUBLIC_URL", "")
ONESTOP_BOOKING_LINK_MAX_AGE = int(os.environ.get("ONESTOP_BOOKING_LINK_MAX_AGE", "5184000"))
ONESTOP_PHONE_TOKEN_MAX_AGE = int(os.environ.get("ONESTOP_PHONE_TOKEN_MAX_AGE", "1800"))
ONESTOP_BOOKING_REMINDER_HOUR = int(os.environ.get("ONESTOP_BOOKING_REMINDER_HOUR", "10"))
for _sweep, _every in (("appointments.no_shows", 60.0), ("appointments.reminders", 300.0)):
    CELERY_BEAT_SCHEDULE[_sweep] = {"task": "onestop.run_sweep", "schedule": _every,
                                    "args": (_sweep,)}
