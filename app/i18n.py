"""Which language a page speaks: the visitor's choice (cookie), else the browser's, else the
installation's default (French); outside a request, always the default."""

from flask import Response, current_app, has_request_context, request

LANGUAGE_COOKIE = "lang"
ONE_YEAR = 365 * 24 * 3600


def remember_language(response: Response, language: str) -> Response:
    """Keep the visitor's choice of `language` for a year, if it is one of ours."""
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


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # Commands and background jobs speak the installation's language.
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )
