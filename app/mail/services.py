"""What the E-mails pages show: the outbox filtered and searched, and its counts per status."""

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import defer

from app.extensions import db
from app.models import MessageStatus, OutboxMessage


@dataclass(frozen=True)
class MessageFilters:
    status: MessageStatus | None = None
    query: str = ""

    @property
    def is_filtered(self) -> bool:
        return self.status is not None or bool(self.query)


def message_list_query(filters: MessageFilters) -> Select:
    """Messages newest first, by status and by recipient or subject (case-insensitive).

    The bodies are not loaded: a page of invitations would weigh megabytes, and raising on
    access keeps the template from loading them one row at a time.
    """
    query = (
        select(OutboxMessage)
        .options(
            defer(OutboxMessage.text_body, raiseload=True),
            defer(OutboxMessage.html_body, raiseload=True),
            defer(OutboxMessage.calendar, raiseload=True),
        )
        .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    )
    if filters.status is not None:
        query = query.where(OutboxMessage.status == filters.status)
    if filters.query:
        query = query.where(matches_recipient_or_subject(filters.query))
    return query


def matches_recipient_or_subject(search: str) -> ColumnElement[bool]:
    """SQL condition: `search` appears in the recipient's address or name, or the subject.

    Compared lower-cased, which is enough on PostgreSQL. SQLite's lower() and LIKE fold only
    ASCII letters, so the search as typed is tried too: there "RÉUNION" and "Élise" find
    "réunion" and "Élise", but "élise" misses "Élise".
    """
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    lowered, as_typed = f"%{escaped.lower()}%", f"%{escaped}%"
    columns = (OutboxMessage.to_address, OutboxMessage.to_name, OutboxMessage.subject)
    return or_(
        *(func.lower(column).like(lowered, escape="\\") for column in columns),
        *(column.like(as_typed, escape="\\") for column in columns),
    )


def status_counts() -> dict[MessageStatus, int]:
    """How many messages have each status, every status present (zero when none)."""
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    counts = dict.fromkeys(MessageStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts
