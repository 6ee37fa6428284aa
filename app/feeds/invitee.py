"""The invitee's own page, reached through any of their personal links: their upcoming
invitations, their groups, their own details, and leaving a group."""

from datetime import date, datetime, time

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import contains_eager, selectinload

from app.extensions import db
from app.feeds.services import contact_invitations
from app.formatting import default_zone, format_day
from app.groups.services import leave_group
from app.mail.outbox import queue_email, render_email
from app.models import Contact, Group, GroupMembership, Invitation
from app.questions import services as question_services
from app.urls import absolute_url


def upcoming_invitations(contact: Contact, now: datetime) -> list[Invitation]:
    """The contact's invitations to meetings not started yet, published or cancelled."""
    return contact_invitations(contact.id, now)


def meetings_with_required_questions(invitations: list[Invitation]) -> set[int]:
    """The meetings of these invitations that ask a required question: "I will attend" is
    answered on the meeting's own page, where the questions are, not by the own page's
    buttons."""
    return question_services.meetings_with_required_questions([i.meeting_id for i in invitations])


def own_invitation(contact: Contact, invitation_id: int) -> Invitation | None:
    """One of the contact's invitations; another contact's is as good as missing."""
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.contact_id != contact.id:
        return None
    return invitation


def current_memberships(contact: Contact, on: date) -> list[GroupMembership]:
    """The contact's open memberships begun by the day `on`, with their groups, by group
    name: someone who left today has left, though today is still their last day."""
    return list(
        db.session.scalars(
            select(GroupMembership)
            .join(GroupMembership.group)
            .where(
                GroupMembership.contact_id == contact.id,
                GroupMembership.joined_on <= on,
                GroupMembership.left_on.is_(None),
            )
            .options(contains_eager(GroupMembership.group).selectinload(Group.organisers))
            .order_by(Group.search_key, Group.id)
        )
    )


def open_membership(contact: Contact, group_id: int) -> GroupMembership | None:
    """The contact's membership of this group not yet closed."""
    return db.session.scalar(
        select(GroupMembership)
        .where(
            GroupMembership.contact_id == contact.id,
            GroupMembership.group_id == group_id,
            GroupMembership.left_on.is_(None),
        )
        .options(selectinload(GroupMembership.group).selectinload(Group.organisers))
    )


def update_own_details(contact: Contact, phone: str, function: str) -> None:
    """The contact's phone (already normalised) and function, as they typed them."""
    contact.phone = phone
    contact.function = function
    db.session.flush()


def leave_as_member(membership: GroupMembership, left_on: date, now: datetime) -> None:
    """The member leaves the group on `left_on`, and its organisers are told by e-mail.
    Raises GroupStateError (an archived group) or FieldError, as leave_group does."""
    leave_group(membership, left_on)
    group, contact = membership.group, membership.contact
    locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    group_url = absolute_url("groups.show_group", group_id=group.id)
    with force_locale(locale):
        left_day = format_day(datetime.combine(left_on, time(12), default_zone()))
    for organiser in group.organisers:
        rendered = render_email(
            "group_member_left",
            locale,
            group=group,
            contact=contact,
            left_day=left_day,
            organiser=organiser,
            group_url=group_url,
        )
        queue_email("group_member_left", organiser.email, rendered, now, to_name=organiser.name)
    db.session.flush()
