"""Check-in codes: a short code per invitation, derived from its id and the secret key (never
stored), shown as text and as a QR code, and read back at the door typed or scanned."""

import base64
import functools
import hashlib
import hmac
import re
from dataclasses import dataclass

import segno
from flask import current_app
from flask_babel import gettext as _
from markupsafe import Markup

from app.extensions import db
from app.models import Invitation, Meeting

MAC_LENGTH = 8
# Typed by hand: case, spaces, dashes and dots do not matter.
_IGNORED = re.compile(r"[\s\-_.]+")
_CODE = re.compile(rf"^(\d{{1,12}})([A-Z2-7]{{{MAC_LENGTH}}})$")
# Base32 has no 0, 1 or 8: in the MAC part they can only be a misread O, I or B.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def _mac(invitation_id: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"checkin:{invitation_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:MAC_LENGTH]


def checkin_code(invitation: Invitation) -> str:
    """ "1234-ABCD2EFG": the invitation's id and 8 base32 characters of an HMAC of it."""
    return f"{invitation.id}-{_mac(invitation.id)}"


def parse_code(typed: str) -> int | None:
    """The invitation id a typed or scanned code names, if its MAC is right; else None."""
    compact = _IGNORED.sub("", typed or "").upper()
    if len(compact) <= MAC_LENGTH:
        return None
    compact = compact[:-MAC_LENGTH] + compact[-MAC_LENGTH:].translate(_LOOKALIKES)
    match = _CODE.match(compact)
    if match is None:
        return None
    invitation_id = int(match[1])
    if not hmac.compare_digest(match[2], _mac(invitation_id)):
        return None
    return invitation_id


def invitation_for_code(meeting: Meeting, typed: str) -> Invitation | None:
    """The meeting's invitation a code belongs to; None for a bad code or another meeting's."""
    invitation_id = parse_code(typed)
    if invitation_id is None:
        return None
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.meeting_id != meeting.id:
        return None
    return invitation


def _qr(code: str) -> segno.QRCode:
    return segno.make(code, error="m")


def checkin_qr_svg(invitation: Invitation) -> Markup:
    """The code as an inline SVG QR code, its <title> and aria-label saying what it holds."""
    code = checkin_code(invitation)
    return Markup(_qr_svg(code, _("Check-in code %(code)s", code=code)))


@functools.lru_cache(maxsize=1024)
def _qr_svg(code: str, label: str) -> str:
    """Kept for the people who open their page again and again before the meeting (0.7 ms to
    draw, a few kilobytes to keep)."""
    svg = _qr(code).svg_inline(scale=5, title=label, svgclass="checkin-qr", border=2)
    # segno escapes the title; the label is added as the image's accessible name.
    return svg.replace("<svg ", f'<svg role="img" aria-label="{Markup.escape(label)}" ', 1)


@dataclass(frozen=True)
class CheckinBadge:
    """What a page or an e-mail shows an invitee: the code, and its QR code as inline SVG.

    E-mails carry the SVG too, not an <img>: they have no images at all (nothing to block or
    to track). Clients that drop SVG (Gmail, Outlook) still show the code as text, which the
    check-in page accepts typed; the personal page shows the QR code everywhere."""

    code: str
    svg: Markup


def checkin_badge(invitation: Invitation) -> CheckinBadge:
    return CheckinBadge(
        code=checkin_code(invitation),
        svg=checkin_qr_svg(invitation),
    )
