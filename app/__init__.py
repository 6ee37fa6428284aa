"""The Rencontres application factory."""

import os

from flask import Flask, render_template
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from config import BASE_DIR, DEFAULT_SECRET_KEY, Config, config_from_environment


def create_app(config: type[Config] | None = None, **overrides) -> Flask:
    app = Flask(
        __name__,
        template_folder="../templates",
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.from_object(config or config_from_environment())
    app.config.update(overrides)
    check_production_settings(app)
    if app.config["TRUSTED_PROXIES"]:
        count = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    os.makedirs(app.instance_path, exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def check_production_settings(app: Flask) -> None:
    """Refuse to run in production with a secret anyone can read in our repository."""
    if not app.config.get("REQUIRE_SECRET_KEY"):
        return
    secret = app.config.get("SECRET_KEY") or ""
    if secret == DEFAULT_SECRET_KEY or len(secret) < 32:
        raise RuntimeError(
            "SECRET_KEY is not set (or shorter than 32 characters). In production it signs "
            "sessions and must be secret: set it in the environment or in .env, for example "
            "SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')."
        )


def register_extensions(app: Flask) -> None:
    # Imported here: at module level, `mail` would be shadowed by the app.mail package.
    from app import ratelimit
    from app.extensions import babel, csrf, db, login, mail, migrate
    from app.i18n import select_locale

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(BASE_DIR / "migrations"), compare_type=True, render_as_batch=True
    )
    mail.init_app(app)
    csrf.init_app(app)
    login.init_app(app)
    login.login_view = "auth.login"
    login.login_message = _l("Please log in to see this page.")
    login.login_message_category = "info"
    babel.init_app(app, locale_selector=select_locale)
    ratelimit.init_app(app)


def register_blueprints(app: Flask) -> None:
    from app.agenda import bp as agenda_bp
    from app.attendance import bp as attendance_bp
    from app.auth import bp as auth_bp
    from app.contacts import bp as contacts_bp
    from app.feeds import bp as feeds_bp
    from app.groups import bp as groups_bp
    from app.invitations import bp as invitations_bp
    from app.mail import bp as mail_bp
    from app.main import bp as main_bp
    from app.meetings import bp as meetings_bp
    from app.organisations import bp as organisations_bp
    from app.questions import bp as questions_bp
    from app.registrations import bp as registrations_bp
    from app.reminders import bp as reminders_bp
    from app.series import bp as series_bp
    from app.settings import bp as settings_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(contacts_bp, url_prefix="/contacts")
    app.register_blueprint(organisations_bp, url_prefix="/organisations")
    app.register_blueprint(meetings_bp, url_prefix="/meetings")
    app.register_blueprint(groups_bp, url_prefix="/groups")
    app.register_blueprint(feeds_bp, url_prefix="/groups")
    app.register_blueprint(invitations_bp)
    app.register_blueprint(reminders_bp, url_prefix="/meetings")
    app.register_blueprint(attendance_bp, url_prefix="/meetings")
    app.register_blueprint(mail_bp, url_prefix="/emails")
    app.register_blueprint(series_bp, url_prefix="/series")
    app.register_blueprint(registrations_bp)
    app.register_blueprint(agenda_bp)
    app.register_blueprint(settings_bp, url_prefix="/admin")
    app.register_blueprint(questions_bp, url_prefix="/meetings")


def register_errorhandlers(app: Flask) -> None:
    from app.extensions import db

    def render_error(error):
        code = getattr(error, "code", 500) or 500
        if code >= 500:
            db.session.rollback()
        # Allow (405) and Retry-After (429) are kept; the page is ours.
        headers = getattr(error, "get_headers", lambda: [])()
        headers = [(name, value) for name, value in headers if name != "Content-Type"]
        return render_template(f"errors/{code}.html", error=error), code, headers

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, render_error)

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors/400.html", error=error, csrf=True), 400


def register_request_hooks(app: Flask) -> None:
    from app.auth.access import guard_request
    from app.security import add_security_headers, install_log_redaction

    app.before_request(guard_request)
    app.after_request(add_security_headers)
    install_log_redaction(app)


def register_template_helpers(app: Flask) -> None:
    from app import templating

    templating.register(app)


def register_commands(app: Flask) -> None:
    from app.cli import register

    register(app)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite: enforce foreign keys, and use WAL so the web app and the worker share the file."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # SQLite's recommended setting in WAL mode: a commit no longer waits for the disk, so the
    # outbox worker's commit per message costs a third. An application crash or a killed
    # worker loses nothing; only an OS crash or a power cut may roll back the last commits.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()
