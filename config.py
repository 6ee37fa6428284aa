"""Settings classes; every value can be overridden by an environment variable (or `.env`)."""

import os
from pathlib import Path

from dotenv import load_dotenv

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"
DEFAULT_SECRET_KEY = "dev-only-insecure-secret-key"

load_dotenv(BASE_DIR / ".env")


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def default_database_url() -> str:
    return f"sqlite:///{INSTANCE_DIR / 'rencontres.db'}"


def database_url(value: str | None, default: str) -> str:
    """The URL to use; plain postgres:// and postgresql:// URLs get the installed psycopg 3."""
    url = value or default
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def engine_options(url: str) -> dict:
    """A server's connections can drop (a restart, an idle timeout): each is tested when taken
    from the pool. An SQLite file's never drop, and the test would double its statements."""
    return {} if url.startswith("sqlite") else {"pool_pre_ping": True}


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"), default_database_url())
    SQLALCHEMY_ENGINE_OPTIONS = engine_options(SQLALCHEMY_DATABASE_URI)
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000").rstrip("/")
    TIMEZONE = os.environ.get("TIMEZONE", "Europe/Paris")
    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "fr")
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = ("fr", "en")

    REDIS_URL = os.environ.get("REDIS_URL", "")
    # Rate-limit counters: shared through Redis when there is one, else kept per process.
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    # Requests per address on the invitees' personal pages.
    INVITEE_RATE_LIMIT = os.environ.get("INVITEE_RATE_LIMIT", "60 per minute")
    # Registrations sent per address through the public form of open meetings.
    REGISTRATION_RATE_LIMIT = os.environ.get("REGISTRATION_RATE_LIMIT", "10 per hour")
    HUEY_SQLITE_PATH = os.environ.get("HUEY_SQLITE_PATH", str(INSTANCE_DIR / "huey.db"))
    HUEY_IMMEDIATE = False

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "rencontres@localhost")
    # Delivery: attempts before a message is marked failed, messages per SMTP connection, and
    # how long a worker may hold a message before another one takes it back.
    MAIL_MAX_ATTEMPTS = env_int("MAIL_MAX_ATTEMPTS", 8)
    MAIL_BATCH_SIZE = env_int("MAIL_BATCH_SIZE", 100)
    MAIL_CLAIM_TIMEOUT_MINUTES = env_int("MAIL_CLAIM_TIMEOUT_MINUTES", 10)
    # A worker that was down sends reminders late by less than this, and skips older ones.
    REMINDER_GRACE_HOURS = env_int("REMINDER_GRACE_HOURS", 6)
    # Local hour (in TIMEZONE) from which the organisers' daily digest goes out.
    DIGEST_HOUR = env_int("DIGEST_HOUR", 7)

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    WTF_CSRF_TIME_LIMIT = None

    LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 10)
    LOGIN_FAILURE_WINDOW_MINUTES = env_int("LOGIN_FAILURE_WINDOW_MINUTES", 15)
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none).
    TRUSTED_PROXIES = env_int("TRUSTED_PROXIES", 0)
    PAGE_SIZE = env_int("PAGE_SIZE", 50)
    MAX_CONTENT_LENGTH = env_int("MAX_UPLOAD_BYTES", 5 * 1024 * 1024)


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("TEST_DATABASE_URL"), "sqlite://")
    SQLALCHEMY_ENGINE_OPTIONS = {}
    WTF_CSRF_ENABLED = False
    HUEY_IMMEDIATE = True
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_SERVER = ""
    BASE_URL = "http://localhost"
    SERVER_NAME = None


class ProductionConfig(Config):
    REQUIRE_SECRET_KEY = True
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_environment() -> type[Config]:
    """The settings class named by RENCONTRES_ENV (development by default)."""
    name = os.environ.get("RENCONTRES_ENV", "development")
    if name not in CONFIGS:
        raise RuntimeError(f"RENCONTRES_ENV must be one of {', '.join(CONFIGS)}, not {name!r}.")
    return CONFIGS[name]
