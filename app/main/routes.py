"""Home page and language switch."""

from flask import current_app, redirect, request, url_for

from app.auth.access import public
from app.i18n import LANGUAGE_COOKIE
from app.main import bp
from app.urls import safe_next_url

ONE_YEAR = 365 * 24 * 3600


@bp.get("/")
def index():
    return redirect(url_for("meetings.list_meetings"))


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
