"""Who may see what: every page needs a login unless marked public; setup comes first."""

from collections.abc import Callable
from functools import wraps

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from app.auth.services import any_user_exists

SETUP_ENDPOINTS = {"auth.setup", "static", "main.set_language"}


def public(view: Callable) -> Callable:
    """Mark a view as reachable without logging in."""
    view.is_public = True
    return view


def admin_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated or not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def setup_is_needed() -> bool:
    """True until the first account exists; cached once it does, as accounts are never deleted."""
    if current_app.extensions.get("rencontres_has_users"):
        return False
    if any_user_exists():
        current_app.extensions["rencontres_has_users"] = True
        return False
    return True


def guard_request():
    endpoint = request.endpoint
    if endpoint is None:
        return None
    if endpoint not in SETUP_ENDPOINTS and setup_is_needed():
        return redirect(url_for("auth.setup"))
    view = current_app.view_functions.get(endpoint)
    if endpoint == "static" or getattr(view, "is_public", False):
        return None
    if not current_user.is_authenticated:
        return current_app.login_manager.unauthorized()
    return None
