"""Personal links: a random token in the URL, only its SHA-256 in the database."""

import hashlib
import hmac
import secrets
from datetime import datetime

from flask import current_app
from sqlalchemy import insert, select, update

from app.extensions import db
from app.models import Invitation, InvitationLink

# 32 random bytes: 256 bits, far above the 128 the links must carry.
TOKEN_BYTES = 32
# token_urlsafe(32) gives 43 characters; anything much shorter or longer is not ours.
TOKEN_LENGTHS = range(40, 50)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def form_token(token: str) -> str:
    """The CSRF token of the forms on the personal page of `token`: an HMAC of the link under
    SECRET_KEY. Another site can neither read it from the page nor compute it. Tied to the link
    rather than to a session, it needs no cookie: looking at the page leaves nothing in the
    browser, and the page spends no time signing a session."""
    key = current_app.config["SECRET_KEY"].encode()
    message = b"personal-page-form:" + token.encode("ascii", "replace")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def form_token_matches(token: str, sent: str | None) -> bool:
    return hmac.compare_digest(form_token(token).encode(), (sent or "").encode())


def issue_link(invitation: Invitation, now: datetime) -> str:
    """A new personal link for `invitation`; returns the token, which is never stored."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    db.session.add(
        InvitationLink(invitation=invitation, token_hash=hash_token(token), created_at=now)
    )
    return token


def issue_links(invitation_ids: list[int], now: datetime) -> list[str]:
    """A new personal link for each of these invitations, added in one statement; returns
    their tokens, in the same order."""
    tokens = [secrets.token_urlsafe(TOKEN_BYTES) for _id in invitation_ids]
    if tokens:
        db.session.execute(
            insert(InvitationLink),
            [
                {"invitation_id": invitation_id, "token_hash": hash_token(token), "created_at": now}
                for invitation_id, token in zip(invitation_ids, tokens, strict=True)
            ],
        )
    return tokens


def invitation_for_token(token: str) -> Invitation | None:
    """The invitation a live link belongs to; None for unknown, malformed or revoked tokens."""
    if len(token) not in TOKEN_LENGTHS or not token.isascii():
        return None
    return db.session.scalar(
        select(Invitation)
        .join(InvitationLink)
        .where(InvitationLink.token_hash == hash_token(token), InvitationLink.revoked_at.is_(None))
    )


def revoke_links(invitation: Invitation, now: datetime) -> None:
    """Every link sent so far stops working; the next e-mail carries a new one."""
    db.session.execute(
        update(InvitationLink)
        .where(InvitationLink.invitation_id == invitation.id, InvitationLink.revoked_at.is_(None))
        .values(revoked_at=now)
    )
