"""Proxies ("pouvoirs") and the quorum of deliberative meetings.

A member who cannot come gives their proxy to another invitee of the same meeting, on their
personal page or through an organiser. The meeting's rules say whether proxies are allowed and
how many one person may hold. A proxy counts only if its holder is present: otherwise it is
void. The holder is told by e-mail and may refuse it; the giver is then told too.
"""

import math
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import aliased, joinedload

from app.attendance.status import attendance_column, attendance_of
from app.extensions import db
from app.invitations.answers import queue_personal_email
from app.models import Answer, Attendance, Contact, Invitation, Meeting, Proxy, ProxyStatus, User


class ProxyRefused(Exception):
    """The proxy cannot be given, withdrawn or refused now; str() says why, to show."""


# The rules


def proxies_open(meeting: Meeting, now: datetime, user: User | None) -> bool:
    """Invitees give proxies until the meeting starts; organisers until the record is closed
    (after that, reopening it is the way)."""
    if not meeting.proxies_allowed or meeting.attendance_closed_at is not None:
        return False
    return user is not None or now < meeting.starts_at


def can_give(invitation: Invitation) -> bool:
    """Only someone who cannot come gives a proxy: they answered "not coming" or are marked
    excused."""
    return attendance_of(invitation, invitation.meeting) is Attendance.EXCUSED


def held_count(holder: Invitation) -> int:
    return db.session.scalar(
        select(func.count(Proxy.id)).where(
            Proxy.holder_id == holder.id, Proxy.status == ProxyStatus.ACTIVE
        )
    )


def active_proxy(giver: Invitation) -> Proxy | None:
    return db.session.scalar(
        select(Proxy).where(Proxy.giver_id == giver.id, Proxy.status == ProxyStatus.ACTIVE)
    )


def held_proxies(holder: Invitation) -> list[Proxy]:
    """The active proxies `holder` holds, with their givers' contacts."""
    return list(
        db.session.scalars(
            select(Proxy)
            .where(Proxy.holder_id == holder.id, Proxy.status == ProxyStatus.ACTIVE)
            .options(joinedload(Proxy.giver).joinedload(Invitation.contact))
            .order_by(Proxy.id)
        )
    )


def holder_candidates(giver: Invitation) -> list[Invitation]:
    """Who may hold `giver`'s proxy: the other invitees expected or present, who give no proxy
    themselves and hold fewer than the maximum (or hold this one); by name."""
    meeting = giver.meeting
    held = (
        select(func.count(Proxy.id))
        .where(Proxy.holder_id == Invitation.id, Proxy.status == ProxyStatus.ACTIVE)
        .scalar_subquery()
    )
    current = active_proxy(giver)
    keeps_current = Invitation.id == (current.holder_id if current else None)
    return _members(
        meeting,
        Invitation.id != giver.id,
        _may_hold(meeting),
        ~_gives_a_proxy(),
        (held < meeting.max_proxies_per_holder) | keeps_current,
    )


def _check_can_give(giver: Invitation, holder: Invitation, now: datetime, user) -> None:
    meeting = giver.meeting
    if not meeting.proxies_allowed:
        raise ProxyRefused(_l("This meeting does not take proxies."))
    if not proxies_open(meeting, now, user):
        raise ProxyRefused(_l("Proxies can no longer be given for this meeting."))
    if holder.meeting_id != giver.meeting_id or holder.id == giver.id or holder.walk_in:
        raise ProxyRefused(_l("Choose another person invited to this meeting."))
    if not can_give(giver):
        raise ProxyRefused(_l("Only someone who cannot come gives a proxy."))
    if active_proxy(holder) is not None:
        raise ProxyRefused(
            _l("%(name)s has given their own proxy: choose someone else.", name=holder_name(holder))
        )
    if attendance_of(holder, meeting) not in (Attendance.EXPECTED, Attendance.PRESENT):
        raise ProxyRefused(
            _l(
                "%(name)s is not expected at the meeting: choose someone else.",
                name=holder_name(holder),
            )
        )
    if held_count(holder) >= meeting.max_proxies_per_holder:
        raise ProxyRefused(
            _l(
                "%(name)s already holds as many proxies as allowed: choose someone else.",
                name=holder_name(holder),
            )
        )


def holder_name(invitation: Invitation) -> str:
    return invitation.contact.full_name


# Changes


def give_proxy(
    giver: Invitation, holder: Invitation, now: datetime, user: User | None = None
) -> Proxy:
    """`giver` gives their proxy to `holder` (replacing one they gave before); `user` is the
    organiser recording it, None when the giver does on their page. The holder is told by
    e-mail (queued in this transaction)."""
    current = active_proxy(giver)
    if current is not None and current.holder_id == holder.id:
        return current
    _check_can_give(giver, holder, now, user)
    proxy = db.session.scalar(select(Proxy).where(Proxy.giver_id == giver.id))
    if proxy is None:
        proxy = Proxy(meeting_id=giver.meeting_id, giver=giver)
        db.session.add(proxy)
    proxy.holder = holder
    proxy.status = ProxyStatus.ACTIVE
    proxy.created_at = now
    proxy.ended_at = None
    proxy.recorded_by_id = user.id if user else None
    db.session.flush()
    queue_personal_email("proxy_given", holder, now, giver=giver.contact)
    return proxy


def withdraw_proxy(giver: Invitation, now: datetime, user: User | None = None) -> None:
    """The giver (or an organiser) takes their proxy back; the holder is told."""
    proxy = active_proxy(giver)
    if proxy is None:
        return
    if not proxies_open(giver.meeting, now, user):
        raise ProxyRefused(_l("Proxies can no longer be changed for this meeting."))
    proxy.status, proxy.ended_at = ProxyStatus.WITHDRAWN, now
    queue_personal_email("proxy_withdrawn", proxy.holder, now, giver=giver.contact)


def refuse_proxy(holder: Invitation, proxy_id: int, now: datetime) -> Proxy:
    """The holder declines a proxy they were given; its giver is told, and may give it to
    someone else."""
    proxy = db.session.get(Proxy, proxy_id)
    if proxy is None or proxy.holder_id != holder.id or proxy.status is not ProxyStatus.ACTIVE:
        raise ProxyRefused(_l("This proxy is no longer yours to refuse."))
    if holder.meeting.attendance_closed_at is not None or now >= holder.meeting.starts_at:
        raise ProxyRefused(_l("The meeting has started: ask the organisers."))
    proxy.status, proxy.ended_at = ProxyStatus.REFUSED, now
    queue_personal_email("proxy_refused", proxy.giver, now, holder=holder.contact)
    return proxy


def answer_changed(invitation: Invitation, now: datetime) -> None:
    """After a new answer: someone who gave their proxy and now comes takes it back (its holder
    is told); someone who no longer comes holds no proxy (their givers are told, and may give
    theirs to someone else)."""
    if invitation.answer is Answer.COMING:
        proxy = active_proxy(invitation)
        if proxy is not None:
            proxy.status, proxy.ended_at = ProxyStatus.WITHDRAWN, now
            queue_personal_email("proxy_withdrawn", proxy.holder, now, giver=invitation.contact)
    elif invitation.answer is Answer.NOT_COMING:
        for proxy in held_proxies(invitation):
            proxy.status, proxy.ended_at = ProxyStatus.REFUSED, now
            queue_personal_email("proxy_refused", proxy.giver, now, holder=invitation.contact)


# The quorum


@dataclass(frozen=True)
class Quorum:
    """Votes present (members present, and the valid proxies they hold) against the number
    required; `required` None when the meeting has no quorum."""

    required: int | None
    present: int
    proxies: int

    @property
    def votes(self) -> int:
        return self.present + self.proxies

    @property
    def reached(self) -> bool:
        return self.required is not None and self.votes >= self.required


def _rule(numerator: int | None, denominator: int | None) -> Fraction | int | None:
    if numerator is None:
        return None
    return Fraction(numerator, denominator) if denominator else numerator


def required_votes(meeting: Meeting, members: int) -> int | None:
    """A number of members, or a fraction of the members invited rounded up (half of 45 is
    23)."""
    rule = _rule(meeting.quorum_numerator, meeting.quorum_denominator)
    if isinstance(rule, Fraction):
        return math.ceil(rule * members)
    return rule


def quorum(meeting: Meeting) -> Quorum:
    """The quorum as it stands, in one query. Members are the invitees (not walk-ins); a proxy
    is valid when its giver is not present and its holder is."""
    holder, giver = aliased(Invitation), aliased(Invitation)
    present = Invitation.attendance == Attendance.PRESENT
    valid_proxies = (
        select(func.count(Proxy.id))
        .join(holder, holder.id == Proxy.holder_id)
        .join(giver, giver.id == Proxy.giver_id)
        .where(
            Proxy.meeting_id == meeting.id,
            Proxy.status == ProxyStatus.ACTIVE,
            # Only a mark says "present" (status.py): no derivation needed.
            holder.attendance == Attendance.PRESENT,
            or_(giver.attendance.is_(None), giver.attendance != Attendance.PRESENT),
        )
        .scalar_subquery()
    )
    members, present_members, proxies = db.session.execute(
        select(
            func.count(Invitation.id),
            func.count(Invitation.id).filter(present),
            valid_proxies,
        ).where(Invitation.meeting_id == meeting.id, Invitation.walk_in.is_(False))
    ).one()
    return Quorum(required_votes(meeting, members), present_members, proxies)


def proxy_is_void(proxy: Proxy) -> bool:
    """A proxy whose holder is not present does not count."""
    return attendance_of(proxy.holder, proxy.holder.meeting) is not Attendance.PRESENT


# Reading the record


def proxies_by_giver(meeting: Meeting) -> dict[int, Proxy]:
    """The meeting's active proxies by giver's invitation id, with their holders' contacts."""
    proxies = db.session.scalars(
        select(Proxy)
        .where(Proxy.meeting_id == meeting.id, Proxy.status == ProxyStatus.ACTIVE)
        .options(joinedload(Proxy.holder).joinedload(Invitation.contact))
    )
    return {proxy.giver_id: proxy for proxy in proxies}


def proxy_list(meeting: Meeting) -> list[tuple[Proxy, bool]]:
    """The meeting's active proxies with whether each is void, givers and holders with their
    contacts and organisations, in one query; sorted by giver."""
    giver, giver_contact = aliased(Invitation), aliased(Contact)
    rows = db.session.scalars(
        select(Proxy)
        .join(giver, giver.id == Proxy.giver_id)
        .join(giver_contact, giver_contact.id == giver.contact_id)
        .where(Proxy.meeting_id == meeting.id, Proxy.status == ProxyStatus.ACTIVE)
        .options(
            joinedload(Proxy.giver).joinedload(Invitation.contact).joinedload(Contact.organisation),
            joinedload(Proxy.holder)
            .joinedload(Invitation.contact)
            .joinedload(Contact.organisation),
        )
        .order_by(giver_contact.sort_key, Proxy.id)
    )
    return [(proxy, proxy_is_void(proxy)) for proxy in rows]


def _members(meeting: Meeting, *conditions) -> list[Invitation]:
    """The meeting's invitees (not walk-ins) meeting `conditions`, with their contacts and
    organisations, by name, in one query."""
    return list(
        db.session.scalars(
            select(Invitation)
            .join(Invitation.contact)
            .where(Invitation.meeting_id == meeting.id, Invitation.walk_in.is_(False), *conditions)
            .options(joinedload(Invitation.contact).joinedload(Contact.organisation))
            .order_by(Contact.sort_key, Invitation.id)
        )
    )


def _gives_a_proxy():
    return (
        select(Proxy.id)
        .where(Proxy.giver_id == Invitation.id, Proxy.status == ProxyStatus.ACTIVE)
        .exists()
    )


def _may_hold(meeting: Meeting):
    return attendance_column(meeting).in_([Attendance.EXPECTED, Attendance.PRESENT])


def possible_givers(meeting: Meeting) -> list[Invitation]:
    """The invitees who cannot come and have given no proxy, for the organiser's form."""
    return _members(meeting, attendance_column(meeting) == Attendance.EXCUSED, ~_gives_a_proxy())


def possible_holders(meeting: Meeting) -> list[Invitation]:
    """The invitees expected or present, for the organiser's form (the rules are checked when
    the proxy is given)."""
    return _members(meeting, _may_hold(meeting))


# The meeting's rules


def parse_quorum(text: str) -> tuple[int | None, int | None]:
    """ "12" (members), "1/2" or "2/3" (of the members invited), or "" (no quorum), as the
    meeting's (numerator, denominator); ValueError with the message to show otherwise."""
    text = "".join(text.split())
    if not text:
        return None, None
    numerator, slash, denominator = text.partition("/")
    if not numerator.isdigit() or (slash and not denominator.isdigit()):
        raise ValueError(_l("Give a number of members (12) or a fraction (1/2, 2/3)."))
    if not slash:
        if not 1 <= int(numerator) <= 10000:
            raise ValueError(_l("Give a number of members from 1 to 10,000."))
        return int(numerator), None
    fraction = Fraction(int(numerator), int(denominator)) if int(denominator) else None
    if fraction is None or not 0 < fraction <= 1:
        raise ValueError(_l("Give a fraction between 0 and 1, such as 1/2 or 2/3."))
    return fraction.numerator, fraction.denominator


def quorum_text(meeting: Meeting) -> str:
    """The meeting's quorum as the form shows it: "12", "1/2" or ""."""
    if meeting.quorum_numerator is None:
        return ""
    if meeting.quorum_denominator:
        return f"{meeting.quorum_numerator}/{meeting.quorum_denominator}"
    return str(meeting.quorum_numerator)


def set_rules(
    meeting: Meeting,
    allowed: bool,
    maximum: int,
    quorum_rule: tuple[int | None, int | None],
) -> None:
    """The meeting's proxy and quorum rules. Proxies already given stay as they are when the
    rules change: organisers withdraw them if they must."""
    meeting.proxies_allowed = allowed
    meeting.max_proxies_per_holder = maximum
    meeting.quorum_numerator, meeting.quorum_denominator = quorum_rule
