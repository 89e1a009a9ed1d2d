"""Settings for the massage practice system.

Everything comes from the environment with safe local defaults, so a laptop with only Python
runs the product (SQLite, a broker that needs no server) and production differs only by
environment variables.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# Only `make run` (DEBUG on) may sign with this key written in the source: with it anyone who
# reads the source could forge sessions, password-reset links and API tokens.
DEVELOPMENT_SECRET_KEY = "local-only-insecure-key-change-me-in-production"
SECRET_KEY = env.str("SECRET_KEY", default="") or DEVELOPMENT_SECRET_KEY
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set: with DEBUG off the settings refuse to start without a real key. "
        "Set SECRET_KEY in the environment (see .env.example), or DEBUG=true on a laptop."
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

DJANGO_APPS = [
    "practice.apps.PracticeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    "rest_framework_simplejwt",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "pgtrigger",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "csp",
]
LOCAL_APPS = [
    "practice",
    "practice.audit",
    "patients",
    "courses",
    "sessions.apps.TherapySessionsConfig",
    "billing",
    "reports",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: the audit trail's actor is the request's user (practice.audit).
    "practice.audit.context.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "practice.session_guards.SecondFactorMiddleware",
    "practice.session_guards.StaffIdleTimeoutMiddleware",
    # Last, as django-axes asks: it turns a refused sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "practice.urls"
WSGI_APPLICATION = "practice.wsgi.application"
ASGI_APPLICATION = "practice.asgi.application"

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
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
            ],
        },
    },
]

# SQLite is the embedded default so `make run` needs no server; PostgreSQL is the real target
# (exclusion constraints, trigram search) and what the tests and docker compose use.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# No ATOMIC_REQUESTS: it wrapped every read in BEGIN/COMMIT (two round trips for nothing).
# Each service that writes more than one row opens its own transaction.atomic(), which is where
# the unit of work is known (tests/practice/test_authentication.py counts a request's statements).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    # No health check: it sent `SELECT 1` before the first query of every request. Without it a
    # connection the server dropped fails that one request, and Django discards a connection
    # left unusable at the end of the request, so the next gets a fresh one.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
# The audit trail's triggers (practice.audit.capture) are registered in code for every audited
# model and installed after each `migrate`, rather than written into each app's migrations.
PGTRIGGER_MODEL_META = False
PGTRIGGER_MIGRATIONS = False
PGTRIGGER_INSTALL_ON_MIGRATE = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "practice.User"
# django-axes first: it refuses a locked account (or client) before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    # ASVS 4.0 2.1.1: at least 12 characters.
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": env.int("PASSWORD_MIN_LENGTH", default=12)},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ru", _("Russian"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# The zone of a new practice and of pages shown outside any practice; each practice keeps its
# own zone in its settings, and requests scoped to a practice are shown in that zone.
TIME_ZONE = env.str("PRACTICE_TIME_ZONE", default="Europe/Berlin")

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
# Where `manage.py backup` writes its archives (a volume of its own in docker-compose.yml).
BACKUP_DIR = env.path("BACKUP_DIR", default=VAR_DIR / "backups")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Redis is optional: without it the cache is in memory (fine for one process on a laptop).
REDIS_URL = env.str("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Email from one URL: smtp+tls://user:password@mail.example.org:587 (STARTTLS), smtp+ssl://…:465,
# smtp://host:25; the default consolemail:// prints messages (a laptop). EMAIL_BACKEND, a dotted
# path, overrides the URL's backend. `check --deploy` refuses a console or in-memory backend.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = env.str("EMAIL_BACKEND", default=_email["EMAIL_BACKEND"])
EMAIL_HOST = _email["EMAIL_HOST"] or "localhost"
EMAIL_PORT = _email["EMAIL_PORT"] or 25
EMAIL_HOST_USER = _email["EMAIL_HOST_USER"] or ""
EMAIL_HOST_PASSWORD = _email["EMAIL_HOST_PASSWORD"] or ""
EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
# Seconds an SMTP server may take to answer; without it a hung server would hold a reminder
# (and the sweep) indefinitely. Also under the reminders' lease (REMINDER_LEASE_SECONDS).
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=10.0)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="practice@localhost")
# Where patients reach the site: the links in reminders (confirm, cancel) are absolute, and a
# worker sending them has no request to take the host from. `check --deploy` refuses localhost.
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Security: the values `check --deploy` asks for, on whenever DEBUG is off.
# Behind a TLS-terminating proxy of our own (README, "Deploying behind a proxy") the app hears
# plain HTTP and trusts the proxy's X-Forwarded-Proto; exposed directly, a client could send
# that header itself, so it is read only when BEHIND_TLS_PROXY says a proxy sets it.
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env.bool("BEHIND_TLS_PROXY", default=True) else None
)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Pages send the CSRF token from the form or the hx-headers attribute, never from the cookie,
# so no script needs to read it.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

# Content-Security-Policy (django-csp): scripts, styles and everything else from our own origin
# only; no inline script, handler or style attribute. Therapist colours are set from data-*
# attributes by static/js/therapist-colours.js; htmx's indicator style is switched off by the
# htmx-config meta tag in base.html. Swagger UI alone adds inline styles (practice/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Sign-in limits (django-axes, ASVS 4.0 2.2.1) ----------------------------------------------
# Failed sign-ins are counted per account (the email, whether or not it exists, so a lock says
# nothing about which addresses have accounts) and per client address, on the web login, the
# admin's and the API's token endpoint alike. At the limit the account (or address) is refused,
# the right password included, until the cool-off passes or a manager unlocks it.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_LOCKOUT_MINUTES", default=30))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
# A locked-out attempt does not restart the cool-off: the lock ends when it said it would.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "practice.sign_in_limits.attempted_email"
AXES_CLIENT_IP_CALLABLE = "practice.sign_in_limits.client_address"
AXES_LOCKOUT_CALLABLE = "practice.sign_in_limits.lockout_response"
# Axes' own admin would list every practice's attempts to any manager; managers unlock their
# own practice's staff and patients from the memberships list instead.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False

# --- Second factor (django-otp TOTP, ASVS 4.0 2.8) ---------------------------------------------
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Massage practice")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- API -------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "practice.authentication.PracticeJWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Anonymous requests (password guesses on auth/token/) and signed-in users' writes are
    # counted; a signed-in user's reads are not, which spares every read two Redis round trips.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "practice.api.UserWriteRateThrottle",
    ],
    # Who the anonymous rate limit counts: the address NUM_PROXIES hops from the end of
    # X-Forwarded-For, one per proxy of our own in front of the app (README, "Deploying behind a
    # proxy"). 0, the default, counts REMOTE_ADDR only: with the app exposed directly, the
    # header is whatever the client chose to send.
    "NUM_PROXIES": env.int("NUM_PROXIES", default=0),
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("THROTTLE_ANON", default="60/minute"),
        "user": env.str("THROTTLE_USER", default="1000/minute"),
    },
    # The standard parsers, with JSON's refusing a body nested too deeply as a 400.
    "DEFAULT_PARSER_CLASSES": [
        "practice.api.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "practice.api_schema.PracticeAutoSchema",
    "EXCEPTION_HANDLER": "practice.api_errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "SIGNING_KEY": SECRET_KEY,
    # Says which field to send when a client sends `username`, as clients of other APIs do.
    "TOKEN_OBTAIN_SERIALIZER": "practice.tokens.TokenObtainPairSerializer",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Massage Practice API",
    "DESCRIPTION": (
        "Versioned API for practice staff and patients. Requests are scoped to one practice: "
        "a user of several practices names one with the X-Practice header (its slug)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's files come with the package and are served locally: no CDN on a practice LAN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Two choice sets of one field name: every payment's method, and the desk's (no "online").
    "ENUM_NAME_OVERRIDES": {"DeskPaymentMethodEnum": "billing.models.DESK_PAYMENT_METHODS"},
}

# --- Celery ----------------------------------------------------------------------------------
# Without a broker URL the embedded default is kombu's filesystem transport: no server needed,
# at the price of losing a task whose worker is killed. Due work lives in database rows, so
# the broker only ever carries "sweep now" and a lost message costs nothing.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_FOLDER = VAR_DIR / "broker"
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, str | int]
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER / "queue"),
        "data_folder_out": str(CELERY_BROKER_FOLDER / "queue"),
        "processed_folder": str(CELERY_BROKER_FOLDER / "processed"),
        "control_folder": str(CELERY_BROKER_FOLDER / "control"),
    }
    for folder in ("queue", "processed", "control"):
        (CELERY_BROKER_FOLDER / folder).mkdir(parents=True, exist_ok=True)
else:
    # A dead worker's unacknowledged task comes back after the visibility timeout; kombu only
    # looks every interval x throttle seconds, so both are 1 to make that about a minute.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=60),
        "unacked_restore_interval": 1,
        "unacked_restore_throttle": 1,
    }
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or None) or None
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
# Tasks are acknowledged when a worker starts them, not when they end (acks_late off). Every
# task here is a sweep whose work lives in database rows (a killed worker's reminder comes back
# through its lease; a lost sweep is replaced by beat's next), so a redelivery buys nothing; and
# a worker holding an unacknowledged task when the Redis connection drops exits: kombu's
# restore_unacked, run while the consumer closes the dead connection, fails with
# AttributeError: 'NoneType' object has no attribute 'hostname' (reproduced with kombu 5.7.0 by
# tests/sessions/test_workers_broker.py). With nothing unacknowledged, nothing is restored.
CELERY_TASK_ACKS_LATE = False
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 90
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Reconnect to the broker for as long as it takes: Celery's default gives up after 100 attempts
# (about three quarters of an hour) and the worker exits, and no reminder goes out after that.
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Beat cannot create its schedule in a missing folder (with a Redis broker nothing else makes it).
VAR_DIR.mkdir(exist_ok=True)
# Beat only ever says "sweep now": due work lives in database rows (the reminder outbox), never
# in far-future ETA tasks, which Redis redelivers after the visibility timeout (R22).
# Seconds between two sweeps of the outbox: how late a reminder falling due between sweeps can
# be when no send task is running. A sweep with nothing due costs one indexed query.
REMINDER_DISPATCH_INTERVAL = env.float("REMINDER_DISPATCH_INTERVAL", default=5.0)
# Task modules beside `sessions.tasks` (which autodiscovery finds) that the worker must know.
CELERY_IMPORTS = ("sessions.waitlist.tasks",)
CELERY_BEAT_SCHEDULE: dict = {
    "dispatch-due-reminders": {
        "task": "sessions.tasks.dispatch_due_reminders",
        "schedule": REMINDER_DISPATCH_INTERVAL,
        # A sweep not started before the next is due is superseded by it.
        "options": {"expires": REMINDER_DISPATCH_INTERVAL * 0.9},
    },
    "remind-expiring-screenings": {
        "task": "sessions.tasks.remind_expiring_screenings",
        "schedule": crontab(minute=10, hour="*/6"),
    },
    "flag-interrupted-courses": {
        "task": "sessions.tasks.flag_interrupted_courses",
        "schedule": crontab(minute=20, hour="*/6"),
    },
    # R11: once a day; each nudge is timed for the morning in its practice's own zone.
    "remind-next-course-due": {
        "task": "sessions.tasks.remind_next_course_due",
        "schedule": crontab(minute=30, hour=3),
    },
    # Waitlist offers that ran out pass their freed time to the next patient waiting.
    "sweep-waitlist-offers": {
        "task": "sessions.waitlist.tasks.sweep_waitlist_offers",
        "schedule": 60.0,
        "options": {"expires": 54.0},
    },
    # Bookings held for a deposit: kept when it was paid in time, released when not.
    "release-unpaid-deposits": {
        "task": "billing.tasks.release_unpaid_deposits",
        "schedule": 60.0,
        "options": {"expires": 54.0},
    },
    # The API's Idempotency-Key rows: an expired one is already ignored, this keeps the table
    # small.
    "sweep-idempotency-keys": {
        "task": "practice.tasks.sweep_idempotency_keys",
        "schedule": crontab(minute=40),
    },
    # Audit entries past their practice's retention (the only way one is ever deleted).
    "purge-expired-audit-entries": {
        "task": "practice.audit.tasks.purge_expired_audit_entries",
        "schedule": crontab(minute=50, hour=2),
    },
    # Erased patients' retained records, once the practice's retention has passed.
    "purge-erased-patients": {
        "task": "patients.tasks.purge_erased_patients",
        "schedule": crontab(minute=55, hour=2),
    },
}

# --- Reminders (R21, R22) --------------------------------------------------------------------
# SMS delivery (read by sessions/channels.py): the backend's dotted path (the console backend
# logs and keeps messages; "sessions.reminders.channels.HttpSmsBackend" posts to a provider), the
# provider's URL, bearer token and timeout in seconds, and the default sender id.
REMINDER_SMS_BACKEND = env.str(
    "REMINDER_SMS_BACKEND", default="sessions.reminders.channels.ConsoleSmsBackend"
)
REMINDER_SMS_HTTP_URL = env.str("REMINDER_SMS_HTTP_URL", default="")
REMINDER_SMS_HTTP_TOKEN = env.str("REMINDER_SMS_HTTP_TOKEN", default="")
REMINDER_SMS_HTTP_TIMEOUT = env.float("REMINDER_SMS_HTTP_TIMEOUT", default=10.0)
REMINDER_SMS_SENDER = env.str("REMINDER_SMS_SENDER", default="")
# The console backend also appends one JSON line per send here (tests count sends across
# worker processes with it); empty: no file.
REMINDER_SMS_LOG_FILE = env.str("REMINDER_SMS_LOG_FILE", default="")
# Test-only: seconds the console backend waits before each send, so the worker-kill test can
# land its SIGKILL in the middle of a batch. Leave 0 anywhere else.
REMINDER_SMS_CONSOLE_DELAY = env.float("REMINDER_SMS_CONSOLE_DELAY", default=0.0)
# A transiently failing reminder is retried after base x 2^(attempt - 1) seconds (capped at an
# hour, or later when the provider asks) and marked failed after this many attempts.
REMINDER_MAX_ATTEMPTS = env.int("REMINDER_MAX_ATTEMPTS", default=6)
# A dispatcher sends a reminder under a lease of this many seconds; longer than any send can
# take (the SMS and email timeouts), and how long a reminder whose worker died mid-send waits
# before it is sent again (with the same idempotency key).
REMINDER_LEASE_SECONDS = env.int("REMINDER_LEASE_SECONDS", default=120)
REMINDER_RETRY_BASE_SECONDS = env.int("REMINDER_RETRY_BASE_SECONDS", default=60)
# One dispatcher sweep: at most this many reminders per practice per round (round-robin over
# the practices with due rows, so none starves another) and this many seconds in all: with the
# sends still in flight then (at most the SMS or email timeout), below the task's soft time limit.
REMINDER_DISPATCH_BATCH = env.int("REMINDER_DISPATCH_BATCH", default=50)
REMINDER_DISPATCH_TIME_BUDGET = env.float("REMINDER_DISPATCH_TIME_BUDGET", default=45.0)
# A sweep that finds due reminders queues up to this many send tasks, one per due batch, for the
# workers to take in parallel (each expires when the next sweep comes, which queues afresh).
REMINDER_DISPATCH_FANOUT = env.int("REMINDER_DISPATCH_FANOUT", default=8)
# Sends in flight at once in one send task (threads waiting on a provider or SMTP server).
REMINDER_SEND_CONCURRENCY = env.int("REMINDER_SEND_CONCURRENCY", default=16)

# Online payments (billing.online): "fake" pays locally (tests, the demo), "stripe" talks to
# Stripe's Payment Intents. The webhook secret signs the provider's events (Stripe's "whsec_…").
BILLING_PAYMENT_PROVIDER = env.str("BILLING_PAYMENT_PROVIDER", default="fake")
BILLING_WEBHOOK_SECRET = env.str("BILLING_WEBHOOK_SECRET", default="whsec_local_fake_provider")
BILLING_WEBHOOK_TOLERANCE_SECONDS = env.int("BILLING_WEBHOOK_TOLERANCE_SECONDS", default=300)
STRIPE_SECRET_KEY = env.str("STRIPE_SECRET_KEY", default="")
STRIPE_API_URL = env.str("STRIPE_API_URL", default="https://api.stripe.com/v1")

# Panels shown on the desk's session page, by URL name (taking practice_slug and pk), served by
# the apps above sessions and loaded with htmx: the session page never imports them.
SESSION_PAGE_PANELS = env.list("SESSION_PAGE_PANELS", default=["billing:session-panel"])
