"""End to end in a real browser: a visitor on a phone registers for an open meeting with the
directory's suggestions, answers its question, then confirms through the e-mailed link.

Uses the browser and live server of test_browser_flow (skipped where Chromium is absent,
unless REQUIRE_BROWSER is set)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import (
    Answer,
    Meeting,
    MeetingQuestion,
    MeetingStatus,
    MeetingVisibility,
    Organisation,
    OutboxMessage,
    QuestionAnswer,
    QuestionKind,
    Registration,
    RegistrationStatus,
    User,
)
from app.text import fold
from tests.test_browser_flow import browser, live_app  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser
CONFIRM_LINK = re.compile(r"https?://[^/\s]+(/r/[A-Za-z0-9_-]+)")


def open_meeting() -> tuple[str, int]:
    """An open published meeting with a required question, and a directory organisation."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    organiser = User(email="claire@example.org", name="Claire Martin", password_hash="x")
    db.session.add(
        Organisation(
            name="Centre social du Lac", town="Dijon", name_key=fold("Centre social du Lac")
        )
    )
    meeting = Meeting(
        title="Forum des bénévoles",
        status=MeetingStatus.PUBLISHED,
        visibility=MeetingVisibility.OPEN,
        slug="forum-des-benevoles",
        published_at=now,
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=10, hours=2),
        venue_name="Maison des associations",
        venue_town="Dijon",
        capacity=20,
        organisers=[organiser],
    )
    meeting.questions = [
        MeetingQuestion(
            kind=QuestionKind.SINGLE_CHOICE,
            label="Atelier de l'après-midi",
            choices="Lecture\nMathématiques",
            required=True,
        )
    ]
    db.session.add(meeting)
    db.session.commit()
    return meeting.slug, meeting.id


def test_a_visitor_registers_with_a_suggestion_and_confirms(browser, live_app):  # noqa: F811
    app, base_url = live_app
    with app.app_context():
        slug, meeting_id = open_meeting()
    page = browser.new_page(locale="fr-FR", viewport={"width": 360, "height": 800})

    page.goto(f"{base_url}/m/{slug}")
    assert page.get_by_role("heading", level=1).inner_text() == "Forum des bénévoles"
    page.get_by_label("Mme", exact=True).check()
    page.get_by_label("Prénom").fill("Zoé")
    page.get_by_label("Nom", exact=True).fill("Lambert")
    page.get_by_label("Courriel").fill("zoe.lambert@example.net")
    organisation = page.get_by_label("Structure")
    organisation.press_sequentially("centre so", delay=30)
    suggestion = page.locator("datalist option")
    suggestion.first.wait_for(state="attached")
    assert suggestion.first.get_attribute("value") == "Centre social du Lac (Dijon)"
    organisation.fill("Centre social du Lac (Dijon)")
    page.get_by_label("Lecture").check()
    page.get_by_label("J'accepte l'utilisation de mes informations décrite ci-dessus.").check()
    page.get_by_role("button", name="S'inscrire").click()

    page.wait_for_url(f"{base_url}/m/{slug}/registered")
    assert "Consultez votre messagerie" in page.content()
    with app.app_context():
        body = db.session.scalars(select(OutboxMessage.text_body)).one()
    (path,) = set(CONFIRM_LINK.findall(body))

    page.goto(f"{base_url}{path}")
    page.get_by_role("button", name="Confirmer mon inscription").click()

    page.wait_for_url(re.compile(r".*/i/[A-Za-z0-9_-]+$"))
    with app.app_context():
        registration = db.session.scalars(select(Registration)).one()
        assert registration.status is RegistrationStatus.ACCEPTED
        invitation = registration.invitation
        assert invitation.meeting_id == meeting_id
        assert invitation.answer is Answer.COMING
        assert invitation.contact.organisation.name == "Centre social du Lac"
        assert invitation.contact.self_registered
        answer = db.session.scalars(select(QuestionAnswer)).one()
        assert answer.value == '["Lecture"]'
