"""Home page (the organiser's dashboard) and language switch."""

from datetime import UTC, datetime

from flask import redirect, render_template, request, url_for
from flask_login import current_user

from app.auth.access import public
from app.i18n import remember_language
from app.main import bp, services
from app.meetings.services import STATUS_LABELS
from app.reminders.services import reminder_label
from app.urls import safe_next_url


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
    response = redirect(safe_next_url(request.form.get("next")) or url_for("main.index"))
    return remember_language(response, request.form.get("language", ""))
