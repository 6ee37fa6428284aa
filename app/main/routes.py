"""Home page (the organiser's dashboard) and language switch."""

from datetime import UTC, datetime

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.access import public
from app.i18n import LANGUAGE_COOKIE
from app.main import bp, services
from app.meetings.services import STATUS_LABELS
from app.reminders.services import reminder_label
from app.urls import safe_next_url

ONE_YEAR = 365 * 24 * 3600


@bp.get("/")
def index():
    now = datetime.now(UTC)
    return render_template(
        "main/dashboard.html",
        dashboard=services.dashboard(current_user._get_current_object(), now),
        now=now,
        status_labels=STATUS_LABELS,
        reminder_label=reminder_label,
    )


@bp.post("/language")
@public
def set_language():
    language = request.form.get("language", "")
    response = redirect(safe_next_url(request.form.get("next")) or url_for("main.index"))
    if language in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=ONE_YEAR,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
            httponly=True,
        )
    return response
