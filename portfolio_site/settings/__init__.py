"""Settings, all read from the environment in this package (one place).

Embedded default (nothing set): SQLite file in the project, in-memory channel
layer, local-memory cache. Scale-out: DATABASE_URL (PostgreSQL) and REDIS_URL
(channels_redis layer + Redis cache).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# A production flag: behind TLS. It also turns DEBUG off unless set explicitly.
SECURE = env.bool("DJANGO_SECURE", default=False)
DEBUG = env.bool("DJANGO_DEBUG", default=not SECURE)

_DEV_SECRET_KEY = "dev-insecure-key-do-not-use-in-production-0123456789abcdef"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. With DJANGO_DEBUG=0 a real secret key is "
            "required: export DJANGO_SECRET_KEY=<50+ random characters>, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif SECRET_KEY == _DEV_SECRET_KEY and not DEBUG:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is the public development key; set a real secret."
    )
elif not DEBUG and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 10):
    # Django's own rule (check --deploy, security.W009), enforced: a short or
    # repetitive key can be guessed, and with it sessions and tokens forged.
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is weak: use 50+ random characters with at least 10 "
        "different ones, e.g. from "
        "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`."
    )

# Trusted reverse proxies in front of the app, each appending to
# X-Forwarded-For; 0: REMOTE_ADDR is the client. Never trust a header a client
# can set freely: a rotating X-Forwarded-For escaped the anonymous throttle.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)

ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "channels",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally (works offline)
    "csp",
    "streaming",
    "portfolio",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Errors under /api/ as JSON, even those Django answers itself.
    "portfolio.api.middleware.ApiJsonErrorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as axes asks: turns a locked-out login page into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts, styles, sockets and frames
# from this origin only; the pages have no inline script or style. The
# Swagger page (inline bootstrap script) is exempt in portfolio/api/urls.py.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

ROOT_URLCONF = "portfolio_site.urls"
ASGI_APPLICATION = "portfolio_site.asgi.application"

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

# --- Database -------------------------------------------------------------
DATABASES = {
    "default": env.db_url(
        "DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The embedded mode writes from the server and the feed worker in one
    # process: WAL + IMMEDIATE transactions avoid "database is locked".
    # A file, not memory, for the test database: tests start real server and
    # worker processes that must see the same data.
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(
        BASE_DIR / ".test-db.sqlite3"
    )
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
    # Database work has timeouts: a statement the server runs too long is
    # cancelled, a connect or a silent network (partition) fails instead of
    # waiting forever (libpq connect_timeout, keepalives, tcp_user_timeout).
    _DB_TIMEOUT = env.int("DATABASE_TIMEOUT_SECONDS", default=15)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "connect_timeout": 5,
            "options": f"-c statement_timeout={_DB_TIMEOUT * 1000}"
            f" -c lock_timeout={_DB_TIMEOUT * 1000}",
            "keepalives": 1,
            "keepalives_idle": 5,
            "keepalives_interval": 2,
            "keepalives_count": 3,
            "tcp_user_timeout": _DB_TIMEOUT * 1000,
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Channel layer and cache ----------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CHANNEL_LAYER_PREFIX = env.str("CHANNEL_LAYER_PREFIX", default="asgi")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 reads with a 5 s socket timeout by default, the
                # same as channels_redis' 5 s blocking pop: the read would race
                # the reply and fail at random. Give blocking reads room.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 8,
                        "socket_connect_timeout": 5,
                    }
                ],
                "prefix": CHANNEL_LAYER_PREFIX,
                # Prices are conflated upstream, so a small capacity is plenty;
                # a full channel drops (channels_redis logs at INFO only).
                "capacity": 1000,
                "expiry": 30,
                "group_expiry": 86400,
            },
        },
        # The hubs' broadcast frames (one channel per server process): Redis
        # pub/sub, one PUBLISH per frame pushed to every process
        # (streaming/delivery/hub_channel.py says why that is enough).
        "hub": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 5}],
                "prefix": CHANNEL_LAYER_PREFIX,
            },
        },
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CHANNEL_LAYER_PREFIX,
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000, "expiry": 30, "group_expiry": 86400},
        },
        "hub": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": 1000, "expiry": 30, "group_expiry": 86400},
        },
    }
    # Room above LocMemCache's default 300 entries: prices, throttles and two
    # keys per owner's cached positions share it, and a full cache culls a
    # third of its keys at random (prices included).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }

# --- Auth -------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": (
            "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
        )
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Login lockout (django-axes; the counting rules are in portfolio/login_lockout.py).
# Every authenticate() (admin, dashboard login, API basic auth, token endpoint)
# first asks axes' backend: after LOGIN_MAX_FAILURES failures per username from
# one client address, or LOGIN_MAX_FAILURES_PER_IP per address, that client is
# refused for LOGIN_LOCKOUT_SECONDS, even with the right password.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend that clears the username's count on success (any path).
    "portfolio.login_lockout.ResettingModelBackend",
]
# The cache (Redis in scale-out) so every process shares the counts.
AXES_HANDLER = "portfolio.login_lockout.LoginLockoutHandler"
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each counted on its own
AXES_FAILURE_LIMIT = env.int("LOGIN_MAX_FAILURES", default=5)  # per username
# Axes has one limit; our handler applies this one to the IP's count.
# AXES_FAILURE_LIMIT counts per (username, client address): one client cannot
# lock another out. Per address alone a higher limit (a shared office or
# carrier NAT address) still stops one address spraying many usernames.
LOGIN_MAX_FAILURES_PER_IP = env.int("LOGIN_MAX_FAILURES_PER_IP", default=50)
AXES_COOLOFF_TIME = timedelta(seconds=env.int("LOGIN_LOCKOUT_SECONDS", default=300))
# A refused attempt during a lockout does not stretch it.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Off: axes would clear the IP's count too on login(); our backend clears the
# username's count on every successful authenticate() instead.
AXES_RESET_ON_SUCCESS = False
# REMOTE_ADDR only: X-Forwarded-For is client-controlled and would let an
# attacker pick a fresh IP per guess. (Without django-ipware installed axes
# reads REMOTE_ADDR; this keeps it so if ipware ever is.)
AXES_IPWARE_META_PRECEDENCE_ORDER = ("REMOTE_ADDR",)
# The client address as DRF's throttle sees it: REMOTE_ADDR, or behind
# NUM_PROXIES trusted proxies their X-Forwarded-For entry.
AXES_CLIENT_IP_CALLABLE = "portfolio.login_lockout.client_ip"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# The cache handler keeps no database records: nothing for the admin to show.
AXES_ENABLE_ADMIN = False
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# --- I18N / static ------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- REST API -------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: DRF takes WWW-Authenticate from the first class, so a
    # request without (or with bad) credentials is a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "COERCE_DECIMAL_TO_STRING": True,
    "EXCEPTION_HANDLER": "portfolio.api.exceptions.exception_handler",
    # Exact numbers, bounded nesting, valid text (portfolio/api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "portfolio.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # The one encoder (streaming.encoding): Decimal as exact fixed-point text.
    "DEFAULT_RENDERER_CLASSES": [
        "portfolio.api.renderers.JSONRenderer",
        "portfolio.api.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "NUM_PROXIES": NUM_PROXIES,
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/min"),
        "user": env.str("API_THROTTLE_USER", default="1200/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Crypto Portfolio Analyzer API",
    "DESCRIPTION": "Holdings, alert rules, alerts and live portfolio values. "
    "Every amount and price is a decimal string.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the drf-spectacular-sidecar package, not a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Three "kind" choice sets (alert rules, notification channels, ledger
    # transactions): named apart.
    "ENUM_NAME_OVERRIDES": {
        "AlertKindEnum": "portfolio.models.AlertKind",
        "ChannelKindEnum": "portfolio.notifications.models.ChannelKind",
        "TransactionKindEnum": "portfolio.ledger.models.TransactionKind",
    },
}

# --- Ledger -----------------------------------------------------------------------
# Per-user cap on transactions, and limits of one CSV import.
LEDGER_MAX_TRANSACTIONS = env.int("LEDGER_MAX_TRANSACTIONS", default=100_000)
LEDGER_IMPORT_MAX_BYTES = env.int("LEDGER_IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
LEDGER_IMPORT_MAX_ROWS = env.int("LEDGER_IMPORT_MAX_ROWS", default=20_000)

# --- Streaming / feeds, notifications: in their own modules ---------------------
from .feeds import *  # noqa: E402, F403
from .notifications import *  # noqa: E402, F403

# --- Security (behind TLS) ----------------------------------------------------------
if SECURE:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# --- Logging --------------------------------------------------------------------
# /metrics (Prometheus): open to loopback clients; others need
# "Authorization: Bearer $METRICS_TOKEN" (unset: loopback only).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"level": "INFO"},
        "daphne": {"level": "WARNING"},
    },
}
