"""Stub views, replaced by the accounts work."""

from app.auth import bp
from app.auth.access import public


@bp.route("/setup", methods=["GET", "POST"])
def setup():
    return "setup"


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    return "login"


@bp.post("/logout")
def logout():
    return "logout"


@bp.get("/account")
def account():
    return "account"


@bp.get("/users")
def list_users():
    return "users"
