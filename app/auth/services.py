"""Accounts: creation, passwords, login checks and the failed-login rate limit."""

import functools
import re
import secrets
from datetime import datetime, timedelta

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Select, delete, exists, func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db, login
from app.models import LoginFailure, User
from app.text import fold, like_pattern

MIN_PASSWORD_LENGTH = 12
# Generous for passphrases, small enough that nobody makes the server hash megabytes.
MAX_PASSWORD_LENGTH = 200
MAX_NAME_LENGTH = 120
# Runs of three or more letters: the parts of a name worth keeping out of a password.
_LETTER_RUNS = re.compile(r"[^\W\d_]{3,}")


class AccountError(ValueError):
    """An account operation refused, with messages fit to show the person who asked for it."""

    def __init__(self, *messages: str) -> None:
        super().__init__(" ".join(messages))
        self.messages = list(messages)


class LoginFailed(Exception):
    """Unknown e-mail, wrong password or deactivated account: deliberately not told apart."""


class LoginBlocked(Exception):
    """Too many recent failures for this e-mail or this address; the password was not checked."""


def any_user_exists() -> bool:
    return bool(db.session.scalar(select(exists().where(User.id.is_not(None)))))


@login.user_loader
def load_user(user_id: str) -> User | None:
    # A deactivated account loses its open sessions and remember-me cookies at the next request.
    user = db.session.get(User, int(user_id))
    return user if user is not None and user.active else None


# Passwords and e-mail addresses


def password_problems(password: str, name: str, email: str) -> list[str]:
    """What is wrong with `password` for the account named `name` with address `email`."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_("Use at least %(count)s characters.", count=MIN_PASSWORD_LENGTH))
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(_("Use at most %(count)s characters.", count=MAX_PASSWORD_LENGTH))
    folded = fold(password)
    if any(word in folded for word in _personal_words(name, email)):
        problems.append(_("The password must not contain the account's name or e-mail address."))
    return problems


def _personal_words(name: str, email: str) -> set[str]:
    """The folded name, its parts of 3+ letters, the address and its local part."""
    folded_name, folded_email = fold(name), fold(email)
    words = set(_LETTER_RUNS.findall(folded_name))
    local_part = folded_email.partition("@")[0]
    words.update(word for word in (folded_name, folded_email, local_part) if len(word) >= 3)
    return words


def normalise_email(address: str) -> str:
    """The address checked for its syntax (never over the network) and lower-cased."""
    try:
        result = validate_email((address or "").strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise AccountError(_("Enter a valid e-mail address, such as name@example.org.")) from error
    return result.normalized.lower()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))


def email_is_taken(email: str, except_user: User | None = None) -> bool:
    query = select(User.id).where(func.lower(User.email) == email.strip().lower())
    if except_user is not None:
        query = query.where(User.id != except_user.id)
    return db.session.scalar(query.limit(1)) is not None


def password_matches(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def _checked_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise AccountError(_("Enter a name."))
    if len(name) > MAX_NAME_LENGTH:
        raise AccountError(
            _("The name must be at most %(count)s characters long.", count=MAX_NAME_LENGTH)
        )
    return name


def check_new_email(address: str, except_user: User | None = None) -> str:
    """The normalised address, unless it is invalid or another account already uses it."""
    email = normalise_email(address)
    if email_is_taken(email, except_user):
        raise AccountError(_("Another account already uses this e-mail address."))
    return email


def _checked_password(password: str, name: str, email: str) -> str:
    problems = password_problems(password, name, email)
    if problems:
        raise AccountError(*problems)
    return password


# Accounts


def create_user(*, name: str, email: str, password: str, is_admin: bool, now: datetime) -> User:
    """A new active account, after checking the name, the address and the password policy."""
    name = _checked_name(name)
    email = check_new_email(email)
    _checked_password(password, name, email)
    user = User(
        name=name,
        email=email,
        password_hash=generate_password_hash(password),
        is_admin=is_admin,
        active=True,
        created_at=now,
    )
    db.session.add(user)
    db.session.flush()
    return user


def create_first_administrator(*, name: str, email: str, password: str, now: datetime) -> User:
    """The administrator made by the setup page, which only works while no account exists."""
    if any_user_exists():
        raise AccountError(_("The application is already set up."))
    return create_user(name=name, email=email, password=password, is_admin=True, now=now)


def update_profile(user: User, *, name: str, email: str, wants_digest: bool | None = None) -> User:
    """Change the name, the address and, unless None, the choice of the daily digest."""
    # Both checked before either is set, so a refusal leaves the account untouched.
    name, email = _checked_name(name), check_new_email(email, except_user=user)
    user.name, user.email = name, email
    if wants_digest is not None:
        user.wants_digest = wants_digest
    db.session.flush()
    return user


def change_password(user: User, new_password: str) -> None:
    """Set a new password; the caller has checked the current one."""
    user.password_hash = generate_password_hash(
        _checked_password(new_password, user.name, user.email)
    )
    db.session.flush()


def deactivation_problem(user: User, acting_user: User) -> str | None:
    """Why `acting_user` may not deactivate `user`, or None when they may."""
    if user.id == acting_user.id:
        return _("You cannot deactivate your own account.")
    if not user.active:
        return _("This account is already deactivated.")
    return None


def deactivate_user(user: User, acting_user: User) -> None:
    problem = deactivation_problem(user, acting_user)
    if problem:
        raise AccountError(problem)
    user.active = False
    db.session.flush()


def reactivate_user(user: User) -> None:
    user.active = True
    db.session.flush()


def users_query(search: str = "") -> Select:
    """Accounts by name, optionally those whose name or e-mail contains `search`.

    The columns are only lower-cased, not folded: "HÉLÈNE" finds "Hélène" and "Hélène" finds
    "Helene", but "helene" misses "Hélène". Accounts are a handful; a folded key column
    (as contacts have) would fix that if it ever matters.
    """
    query = select(User).order_by(func.lower(User.name), User.id)
    search = (search or "").strip()
    if not search:
        return query
    lowered = "%{}%".format(
        search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    )
    patterns = {lowered, like_pattern(search)}
    return query.where(
        or_(
            *(
                func.lower(column).like(pattern, escape="\\")
                for column in (User.name, User.email)
                for pattern in patterns
            )
        )
    )


# Login and its rate limit


def _failure_window() -> timedelta:
    return timedelta(minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


def login_is_blocked(email: str, ip_address: str, now: datetime) -> bool:
    """True when this e-mail or this address has used up its failures within the window."""
    recent_failures = select(func.count(LoginFailure.id)).where(
        LoginFailure.created_at > now - _failure_window(),
        or_(LoginFailure.email == email, LoginFailure.ip_address == ip_address),
    )
    return db.session.scalar(recent_failures) >= current_app.config["LOGIN_MAX_FAILURES"]


@functools.cache
def _unknown_account_hash() -> str:
    # Checked against when the e-mail is unknown, so an answer takes as long either way and
    # its timing does not reveal which addresses have an account.
    return generate_password_hash(secrets.token_urlsafe(32))


def authenticate(email: str, password: str, ip_address: str, now: datetime) -> User:
    """The active account with this e-mail and password; raises LoginBlocked or LoginFailed."""
    email = (email or "").strip().lower()
    if login_is_blocked(email, ip_address, now):
        raise LoginBlocked()
    user = user_by_email(email)
    password_hash = user.password_hash if user is not None else _unknown_account_hash()
    password_is_right = check_password_hash(password_hash, password)
    if user is None or not password_is_right or not user.active:
        db.session.add(LoginFailure(email=email, ip_address=ip_address, created_at=now))
        db.session.flush()
        raise LoginFailed()
    user.last_login_at = now
    # The owner got in: their earlier typos should not count against their next login.
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == email))
    db.session.flush()
    return user


def purge_login_failures(now: datetime) -> int:
    """Forget failures older than the rate-limit window; returns how many were removed."""
    result = db.session.execute(
        delete(LoginFailure).where(LoginFailure.created_at <= now - _failure_window())
    )
    db.session.flush()
    return result.rowcount
