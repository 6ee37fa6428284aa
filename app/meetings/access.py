"""Who may act on a meeting, for the views of every domain that works on meetings. Apart from
meetings/routes.py so that other blueprints import it without importing the meeting views."""

from flask import abort
from flask_login import current_user

from app.extensions import db
from app.meetings.services import can_manage
from app.models import Invitation, Meeting


def managed_meeting_or_abort(meeting_id: int) -> Meeting:
    """The meeting, if the current user may change it: 404 when missing, 403 when not theirs."""
    meeting = db.get_or_404(Meeting, meeting_id)
    if not can_manage(current_user, meeting):
        abort(403)
    return meeting


def acting_user():
    """The logged-in account itself, not Flask-Login's proxy, to store in relationships."""
    return current_user._get_current_object()


def invitation_or_404(meeting: Meeting, invitation_id: int) -> Invitation:
    """One invitation of this meeting: another meeting's is as good as missing."""
    invitation = db.get_or_404(Invitation, invitation_id)
    if invitation.meeting_id != meeting.id:
        abort(404)
    return invitation
