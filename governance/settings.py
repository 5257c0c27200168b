"""Settings for the grid governance product.

Everything that differs between machines comes from the environment, read
through the typed helpers in governance.env. docs/configuration.md lists
every variable; keep the two in step.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from governance.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_str,
    env_time_ranges,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
DEMO_MODE = env_bool("DEMO_MODE", False)

SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-only-for-debug-runs"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.forms",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "rest_framework",
    "rest_framework_gis",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "django_celery_beat",
    "governance.lockout.AxesConfig",  # django-axes
    "governance",
    "grids",
    "cases",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost of ours: under /api/ every error leaves in the one JSON shape (governance.errors).
    "governance.errors.ApiErrorMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "governance.sessions.SlidingSessionMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as axes asks: it turns a lockout flagged during the request into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "governance.urls"
WSGI_APPLICATION = "governance.wsgi.application"
ASGI_APPLICATION = "governance.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "governance.context_processors.product",
            ],
        },
    },
]

# Widgets (the offline map widget among them) render through TEMPLATES, so
# templates/ can override Django's widget templates.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database -------------------------------------------------------------
# spatialite:///absolute/path.sqlite3 (default, embedded) or
# postgis://user:password@host:port/name (production).
DATABASE_URL = env_str("DATABASE_URL", f"spatialite:///{VAR_DIR / 'governance.sqlite3'}")
_SCHEMES = {"spatialite", "postgis"}
if DATABASE_URL.split("://", 1)[0] not in _SCHEMES:
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with spatialite:// or postgis:// (got {DATABASE_URL.split('://', 1)[0]!r})."
    )
# Connections are kept between requests: opening one (and loading SpatiaLite into
# it) cost 23 ms of a 31 ms request on SpatiaLite and 25 ms on PostGIS
# (docs/embedded-database.md). A kept connection is checked before reuse.
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 300, minimum=0), conn_health_checks=True
    )
}
if DATABASES["default"]["ENGINE"].endswith("spatialite"):
    # Concurrent writers wait for each other instead of failing with "database is
    # locked" (docs/embedded-database.md). SQLite's default DEFERRED transaction
    # reads first and asks for the write lock only at its first write; when
    # another connection writes meanwhile SQLite cannot wait (it would deadlock)
    # and fails at once, whatever the timeout. BEGIN IMMEDIATE takes the write
    # lock at the start of every atomic block, where the busy timeout does wait.
    # WAL lets readers go on while one writes; synchronous stays FULL so a
    # committed report survives a power cut.
    DATABASES["default"]["ENGINE"] = "governance.db.spatialite"  # writers queue fairly (its docstring)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=env_float("SQLITE_BUSY_TIMEOUT", 30.0),
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL",
    )
    DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_SPATIALITE_NAME", "") or None}
    # The file's folder must exist before SQLite can create the file.
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
SPATIALITE_LIBRARY_PATH = env_str("SPATIALITE_LIBRARY_PATH", "mod_spatialite")
GDAL_LIBRARY_PATH = env_str("GDAL_LIBRARY_PATH", "") or None
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# All geometries are stored in WGS84 longitude/latitude. Areas and lengths
# are measured after transforming to a metric projection; never mix SRIDs in
# one table. The system check governance.E003 verifies the database agrees.
STORAGE_SRID = 4326

# --- Auth and permissions ----------------------------------------------------
AUTHENTICATION_BACKENDS = [
    # First: refuses a locked-out account or address before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Sign-in lockout (docs/security.md). Failures are counted per account and, apart,
# per address: either reaching the limit locks, so a guesser can neither spread
# one account's guesses over many addresses nor one address's over many accounts.
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_FAILURE_LIMIT = env_int("SIGNIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_MINUTES", 15, minimum=1))
# A success must not wipe the count: axes would delete every failure from the
# address too, so a guesser holding one valid login could reset the count at will.
AXES_RESET_ON_SUCCESS = False
# Attempts during a lock are refused without a database write (the lock still runs
# from the last counted failure): a guesser hammering a locked account must not
# queue writes behind the case reports on SQLite. governance.lockout logs each one.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_LOCKOUT_CALLABLE = "governance.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "governance.lockout.client_ip"
# Behind a reverse proxy: the header it sets (as Django names it, e.g.
# HTTP_X_FORWARDED_FOR) and how many of our proxies append to it. Empty: REMOTE_ADDR.
SIGNIN_CLIENT_IP_HEADER = env_str("SIGNIN_CLIENT_IP_HEADER", "")
SIGNIN_TRUSTED_PROXIES = env_int("SIGNIN_TRUSTED_PROXIES", 1, minimum=1)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
GUARDIAN_RAISE_403 = True
# Nothing is ever granted to anonymous visitors; without this guardian would
# create an "AnonymousUser" login in every database.
ANONYMOUS_USER_NAME = None

# --- Language and time -------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

# --- Working calendar (the SLA clock) ---------------------------------------
# Office periods of a working day; OFFICE_HOURS_MON … OFFICE_HOURS_SUN override
# single weekdays (SAT/SUN apply on make-up working days, 调休).
OFFICE_HOURS = env_time_ranges("OFFICE_HOURS", "09:00-12:00,13:30-17:30")
_WEEKDAY_NAMES = ["MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"]
OFFICE_HOURS_BY_WEEKDAY = {
    day: env_time_ranges(f"OFFICE_HOURS_{name}", "")
    if env_str(f"OFFICE_HOURS_{name}", "")
    else (OFFICE_HOURS if day < 5 else [])
    for day, name in enumerate(_WEEKDAY_NAMES)
}
if not OFFICE_HOURS:
    raise ImproperlyConfigured("OFFICE_HOURS must name at least one period, e.g. 09:00-12:00.")

# A department may return (退单) a wrongly assigned case within this many
# working hours of its dispatch; later it must ask for the command centre's help.
CASE_RETURN_WINDOW_WORKING_HOURS = env_float("CASE_RETURN_WINDOW_WORKING_HOURS", 2.0)
if CASE_RETURN_WINDOW_WORKING_HOURS <= 0:
    raise ImproperlyConfigured("CASE_RETURN_WINDOW_WORKING_HOURS must be more than 0.")

# --- Measures (综合评价) --------------------------------------------------------
# A unit is ranked by a rate only once the rate's denominator (cases due, for the
# on-time closure rate) reaches this many: three cases at 100 % must not outrank
# thirty-two at 90 %. Smaller units are still listed, unranked and marked.
MEASURES_MIN_CASES_FOR_RANKING = env_int("MEASURES_MIN_CASES_FOR_RANKING", 10, minimum=1)

# --- Static and media --------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))
WHITENOISE_USE_FINDERS = DEBUG

# --- Maps (offline by default) -----------------------------------------------
# No tile is ever requested unless MAP_TILE_URL is set, e.g. to a tile server
# inside the government network: https://tiles.example.gov.cn/{z}/{x}/{y}.png
MAP_TILE_URL = env_str("MAP_TILE_URL", "")
MAP_TILE_ATTRIBUTION = env_str("MAP_TILE_ATTRIBUTION", "")
MAP_DEFAULT_CENTER = tuple(float(v) for v in env_list("MAP_DEFAULT_CENTER", ["121.55", "29.96"]))
if len(MAP_DEFAULT_CENTER) != 2:
    raise ImproperlyConfigured("MAP_DEFAULT_CENTER must be 'longitude,latitude'.")
MAP_DEFAULT_ZOOM = env_int("MAP_DEFAULT_ZOOM", 13, minimum=1)

# --- Celery ------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
# A message is acknowledged only after its task finished, and a worker that
# dies mid-task gives it back: with idempotent tasks nothing is lost.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 120, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 180, minimum=1)
if CELERY_TASK_TIME_LIMIT <= CELERY_TASK_SOFT_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_TASK_TIME_LIMIT must exceed CELERY_TASK_SOFT_TIME_LIMIT.")
# Redis re-delivers an unacknowledged message after this many seconds; it
# must outlast the longest task or a slow task runs twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * CELERY_TASK_TIME_LIMIT}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
HEALTHZ_CELERY_TIMEOUT = env_float("HEALTHZ_CELERY_TIMEOUT", 1.0)

# --- REST API ----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "governance.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Bounded size and depth (governance.api); form bodies are not accepted by the API.
    "DEFAULT_PARSER_CLASSES": ["governance.api.JSONParser", "rest_framework.parsers.MultiPartParser"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "EXCEPTION_HANDLER": "governance.api.exception_handler",
}
# Request bodies (docs/api.md): a JSON body at most DATA_UPLOAD_MAX_MEMORY_SIZE
# bytes and API_MAX_JSON_DEPTH levels deep; an API upload (a photo and its form
# fields) at most API_MAX_UPLOAD_BYTES. Larger: 413 before the body is read.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 2_621_440, minimum=1024)
API_MAX_JSON_DEPTH = env_int("API_MAX_JSON_DEPTH", 32, minimum=4)
API_MAX_UPLOAD_BYTES = env_int("API_MAX_UPLOAD_BYTES", 12 * 1024 * 1024, minimum=1024 * 1024)
# Non-API pages answer CSRF failures with the Chinese 403 page, /api/ with JSON.
CSRF_FAILURE_VIEW = "governance.errors.csrf_failure"
SPECTACULAR_SETTINGS = {
    "TITLE": "Grid governance API",
    "DESCRIPTION": "Departments, grids and cases of the unified urban grid.",
    "VERSION": "1.0.0",
    # The schema and Swagger UI are for staff with a role, like the API itself.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated", "governance.api.HasRole"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The schema says what the API does (docs/api.md): every operation lists the
    # common error answers in the one error shape; the schema's own view is not an API.
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "governance.schema.add_common_errors",
    ],
    # Every app has a "status"; name each enum after its model so they never collide.
    "ENUM_NAME_OVERRIDES": {
        "GridVersionStatusEnum": "grids.models.GridVersion.Status",
        "CellAssignmentDutyEnum": "grids.models.CellAssignment.Duty",
        "RoleEnum": "governance.models.Role",
        "RegionLevelEnum": "governance.models.Region.Level",
        "CaseStatusEnum": "cases.models.Status",
        "CategoryKindEnum": "cases.models.Category.Kind",
        "CasePhotoKindEnum": "cases.models.CasePhoto.Kind",
    },
}

# --- Security ----------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
# A session ends after a working day without a request (sliding: every request
# within it moves the end forward, written at most once per SESSION_REFRESH_SECONDS
# by governance.sessions; docs/security.md says why not SESSION_SAVE_EVERY_REQUEST).
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_REFRESH_SECONDS = env_int("SESSION_REFRESH_SECONDS", 300, minimum=0)
if SESSION_REFRESH_SECONDS >= SESSION_COOKIE_AGE:
    raise ImproperlyConfigured("SESSION_REFRESH_SECONDS must be shorter than SESSION_COOKIE_AGE.")
if env_bool("USE_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# gis.W001: Debian 12 ships GDAL 3.6, which cannot block file and network
# access from spatial references; only authenticated department admins upload
# files to GDAL here. On Debian 13 (GDAL 3.10) drop this from the list.
SILENCED_SYSTEM_CHECKS = env_list("SILENCED_SYSTEM_CHECKS", ["gis.W001"])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

PRODUCT_NAME = env_str("PRODUCT_NAME", "") or _("Grid governance platform")
