"""Queueing e-mails: rendered in the recipient's language, safe headers, personal links."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations.tokens import invitation_for_token, issue_link, revoke_links
from app.mail.mime import compose, unsafe_header
from app.mail.outbox import RenderedEmail, header_text, queue_email
from app.models import Invitation, InvitationLink, OutboxMessage
from app.urls import absolute_url
from tests.factories import ContactFactory, MeetingFactory

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def an_email() -> RenderedEmail:
    return RenderedEmail(subject="Invitation", text="Bonjour", html="<p>Bonjour</p>")


def test_header_text_removes_line_breaks_that_would_inject_headers():
    assert header_text("Réunion\r\nBcc: victim@example.org") == "Réunion Bcc: victim@example.org"
    assert header_text("a\x00b\tc") == "a b c"


def test_queued_message_has_safe_headers_and_its_own_message_id(app):
    first = queue_email(
        "test", "someone@example.org", an_email(), NOW, to_name="Eve\nBcc: x@example.org"
    )
    second = queue_email("test", "other@example.org", an_email(), NOW)
    db.session.commit()
    assert first.to_name == "Eve Bcc: x@example.org"
    assert first.message_id != second.message_id
    assert first.message_id.endswith("@localhost>")
    assert db.session.scalars(select(OutboxMessage)).all() == [first, second]
    headers = compose(first, "rencontres@localhost", NOW).split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in headers
    assert f"Message-ID: {first.message_id}".encode() in headers


def test_a_subject_with_a_line_break_is_kept_from_the_server(app):
    email = RenderedEmail(subject="Invitation\r\nBcc: x@example.org", text="a", html="<p>a</p>")
    message = queue_email("test", "someone@example.org", email, NOW)
    db.session.commit()
    # Delivery fails such a row rather than compose it (see test_mail_delivery).
    assert unsafe_header(message, "rencontres@localhost").startswith("Unsafe Subject header")


@pytest.mark.parametrize(
    "address", ["a@example.org\r\nBcc: b@example.org", "a@example.org, b@example.org", "nobody"]
)
def test_queue_refuses_anything_but_one_address(app, address):
    with pytest.raises(ValueError):
        queue_email("test", address, an_email(), NOW)


def test_links_are_random_stored_hashed_and_revocable(app):
    invitation = Invitation(meeting=MeetingFactory(), contact=ContactFactory())
    db.session.add(invitation)
    first, second = issue_link(invitation, NOW), issue_link(invitation, NOW)
    db.session.commit()

    assert len(first) >= 43 and first != second
    stored = db.session.scalars(select(InvitationLink.token_hash)).all()
    assert first not in stored and second not in stored
    assert invitation_for_token(first) is invitation
    assert invitation_for_token(second) is invitation
    assert invitation_for_token(first[:-1] + ("A" if first[-1] != "A" else "B")) is None
    assert invitation_for_token("../../etc/passwd") is None

    revoke_links(invitation, NOW)
    db.session.commit()
    assert invitation_for_token(first) is None
    assert invitation_for_token(second) is None


def test_absolute_urls_use_base_url_without_a_request(app):
    app.config["BASE_URL"] = "https://rencontres.example.org/reseau"
    assert absolute_url("meetings.show_meeting", meeting_id=3) == (
        "https://rencontres.example.org/reseau/meetings/3"
    )
