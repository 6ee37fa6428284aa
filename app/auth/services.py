"""Accounts: creation, passwords, login checks and the failed-login rate limit."""

from sqlalchemy import exists, select

from app.extensions import db, login
from app.models import User


def any_user_exists() -> bool:
    return bool(db.session.scalar(select(exists().where(User.id.is_not(None)))))


@login.user_loader
def load_user(user_id: str) -> User | None:
    return db.session.get(User, int(user_id))


def purge_login_failures(now) -> int:
    """Stub replaced by the accounts work."""
    return 0
