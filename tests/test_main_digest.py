"""The organisers' daily digest: once a day from DIGEST_HOUR local time, to those who opted
in, with the answers since the previous one; exactly once even with two workers."""

import re
import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select, update

from app import create_app
from app.extensions import db
from app.main.digest import queue_digests, start_of_local_day
from app.models import Answer, Invitation, Meeting, OutboxMessage, User
from config import TestingConfig
from tests.conftest import USING_POSTGRES, application
from tests.factories import ContactFactory, MeetingFactory, OrganisationFactory, UserFactory

# Monday 23 November 2026, 9:00 in Paris (UTC+1): past the default DIGEST_HOUR of 7.
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def an_organiser(**fields) -> User:
    values = {"wants_digest": True}
    values.update(fields)
    return UserFactory(**values)


def a_meeting(*organisers: User, **fields) -> Meeting:
    values = {
        "title": "Réseau des centres sociaux",
        "starts_at": datetime(2026, 12, 8, 8, 0, tzinfo=UTC),
        "ends_at": datetime(2026, 12, 8, 11, 30, tzinfo=UTC),
        "organisers": list(organisers),
    }
    values.update(fields)
    return MeetingFactory(**values)


def answered(
    meeting: Meeting,
    answer: Answer,
    at: datetime,
    *,
    comment: str = "",
    recorded_by: User | None = None,
    **contact_fields,
) -> Invitation:
    invitation = Invitation(
        meeting=meeting,
        contact=ContactFactory(**contact_fields),
        answer=answer,
        answered_at=at,
        comment=comment,
        invited_at=at - timedelta(days=5),
        answer_recorded_by_id=recorded_by.id if recorded_by else None,
    )
    db.session.add(invitation)
    db.session.commit()
    return invitation


def digests() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "digest").order_by(OutboxMessage.id)
        )
    )


def run_digests(now: datetime) -> int:
    queued = queue_digests(now)
    db.session.commit()
    return queued


def digest_sent_at(user: User) -> datetime | None:
    db.session.expire_all()
    return db.session.get(User, user.id).digest_sent_at


# Opting in on the account page


def test_account_page_offers_the_digest(as_organiser):
    as_organiser.set_cookie("lang", "en")
    page = as_organiser.get("/account").get_data(as_text=True)

    assert "Send me a daily digest of new answers to my meetings" in page
    checkbox = re.search(r'<input[^>]*name="wants_digest"[^>]*>', page).group()
    assert 'type="checkbox"' in checkbox
    assert "checked" not in checkbox
    assert 'aria-describedby="wants_digest-help"' in checkbox


def test_organiser_opts_in_then_out_of_the_digest(as_organiser, organiser):
    profile = {"name": organiser.name, "email": organiser.email}

    response = as_organiser.post("/account", data={**profile, "wants_digest": "y"})
    assert response.status_code == 302
    db.session.refresh(organiser)
    assert organiser.wants_digest
    page = as_organiser.get("/account").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="wants_digest"', page)

    as_organiser.post("/account", data=profile)
    db.session.refresh(organiser)
    assert not organiser.wants_digest


# Who gets a digest, and when


def test_only_organisers_who_opted_in_get_a_digest(app):
    wants = an_organiser(email="wants@example.org")
    does_not = an_organiser(email="doesnot@example.org", wants_digest=False)
    meeting = a_meeting(wants, does_not)
    answered(meeting, Answer.COMING, NOW - timedelta(hours=2))

    assert run_digests(NOW) == 1

    assert [message.to_address for message in digests()] == ["wants@example.org"]
    assert digest_sent_at(does_not) is None


def test_deactivated_account_gets_no_digest(app):
    closed = an_organiser(active=False)
    answered(a_meeting(closed), Answer.COMING, NOW - timedelta(hours=2))

    assert run_digests(NOW) == 0
    assert digests() == []


def test_nothing_goes_out_before_the_digest_hour(app):
    organiser = an_organiser()
    answered(a_meeting(organiser), Answer.COMING, NOW - timedelta(hours=5))

    # 6:59 in Paris.
    assert run_digests(datetime(2026, 11, 23, 5, 59, tzinfo=UTC)) == 0
    assert digests() == []
    assert digest_sent_at(organiser) is None

    # 7:00 in Paris.
    assert run_digests(datetime(2026, 11, 23, 6, 0, tzinfo=UTC)) == 1


def test_the_digest_hour_is_a_setting(app):
    app.config["DIGEST_HOUR"] = 10
    organiser = an_organiser()
    answered(a_meeting(organiser), Answer.COMING, NOW - timedelta(hours=2))

    assert run_digests(NOW) == 0
    assert run_digests(NOW + timedelta(hours=1)) == 1


def test_one_digest_a_day_whatever_the_number_of_runs(app):
    organiser = an_organiser()
    meeting = a_meeting(organiser)
    answered(meeting, Answer.COMING, NOW - timedelta(hours=2))

    assert run_digests(NOW) == 1
    answered(meeting, Answer.NOT_COMING, NOW + timedelta(minutes=5))
    for minutes in (15, 30, 600):
        assert run_digests(NOW + timedelta(minutes=minutes)) == 0

    assert len(digests()) == 1
    assert digest_sent_at(organiser) == NOW


def test_next_day_digest_has_only_the_answers_since_the_last_one(app):
    organiser = an_organiser()
    meeting = a_meeting(organiser)
    answered(meeting, Answer.COMING, NOW - timedelta(hours=2), last_name="Avant")
    assert run_digests(NOW) == 1

    answered(meeting, Answer.NOT_COMING, NOW + timedelta(hours=3), last_name="Après")
    tomorrow = NOW + timedelta(days=1)
    assert run_digests(tomorrow) == 1

    second = digests()[-1]
    assert "Après" in second.text_body
    assert "Avant" not in second.text_body
    assert digest_sent_at(organiser) == tomorrow


def test_first_digest_covers_the_last_24_hours(app):
    organiser = an_organiser()
    meeting = a_meeting(organiser)
    answered(meeting, Answer.COMING, NOW - timedelta(hours=23), last_name="Récente")
    answered(meeting, Answer.COMING, NOW - timedelta(hours=25), last_name="Ancienne")

    assert run_digests(NOW) == 1

    body = digests()[0].text_body
    assert "Récente" in body
    assert "Ancienne" not in body


def test_a_long_pause_gives_a_week_of_answers_not_months(app):
    organiser = an_organiser(digest_sent_at=NOW - timedelta(days=120))
    meeting = a_meeting(organiser)
    answered(meeting, Answer.COMING, NOW - timedelta(days=6), last_name="Semaine")
    answered(meeting, Answer.COMING, NOW - timedelta(days=30), last_name="Mois")

    assert run_digests(NOW) == 1

    body = digests()[0].text_body
    assert "Semaine" in body
    assert "Mois" not in body


def test_no_email_when_nothing_is_new_but_the_window_moves_on(app):
    organiser = an_organiser(digest_sent_at=NOW - timedelta(days=1))
    meeting = a_meeting(organiser)
    answered(meeting, Answer.COMING, NOW - timedelta(days=2))

    assert run_digests(NOW) == 0

    assert digests() == []
    assert digest_sent_at(organiser) == NOW


def test_only_answers_to_the_organisers_own_meetings(app):
    organiser = an_organiser()
    colleague = an_organiser()
    answered(a_meeting(organiser, title="Mine"), Answer.COMING, NOW - timedelta(hours=1))
    answered(a_meeting(colleague, title="Theirs"), Answer.COMING, NOW - timedelta(hours=1))

    assert run_digests(NOW) == 2

    bodies = {message.to_address: message.text_body for message in digests()}
    assert "Mine" in bodies[organiser.email] and "Theirs" not in bodies[organiser.email]
    assert "Theirs" in bodies[colleague.email] and "Mine" not in bodies[colleague.email]


def test_answers_the_organiser_recorded_are_left_out_and_a_colleagues_are_marked(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    organiser = an_organiser(name="Olivier Organisateur")
    colleague = an_organiser(name="Claire Collègue")
    meeting = a_meeting(organiser, colleague)
    answered(
        meeting, Answer.COMING, NOW - timedelta(hours=1), recorded_by=organiser, last_name="Phoned"
    )
    answered(meeting, Answer.COMING, NOW - timedelta(hours=1), last_name="Online")

    assert run_digests(NOW) == 2

    bodies = {message.to_address: message.text_body for message in digests()}
    assert "Phoned" not in bodies[organiser.email]
    assert "Online" in bodies[organiser.email]
    assert "Phoned" in bodies[colleague.email]
    assert "Recorded by Olivier Organisateur" in bodies[colleague.email]


def test_digest_email_lists_new_answers_with_counts_and_links_in_both_parts(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    organiser = an_organiser(name="Olivier Organisateur", email="olivier@example.org")
    meeting = a_meeting(organiser, title="Liens École et centres sociaux")
    agora = OrganisationFactory(name="Centre social Agora")
    answered(
        meeting,
        Answer.COMING,
        NOW - timedelta(hours=3),
        first_name="Inès",
        last_name="Dupont",
        organisation=agora,
        comment="J'arriverai vers 10 h.",
    )
    answered(meeting, Answer.NOT_COMING, NOW - timedelta(hours=2), last_name="Martin")
    answered(meeting, Answer.COMING, NOW - timedelta(days=3))
    db.session.add(Invitation(meeting=meeting, contact=ContactFactory()))
    db.session.commit()

    assert run_digests(NOW) == 1

    [message] = digests()
    assert message.to_address == "olivier@example.org"
    assert message.to_name == "Olivier Organisateur"
    assert message.subject == "2 new answers to your meetings"
    answers_url = f"http://localhost/meetings/{meeting.id}/invitations/"
    for body in (message.text_body, message.html_body):
        assert "Hello Olivier Organisateur," in body
        assert "Liens École et centres sociaux" in body
        assert "Tuesday 8 December 2026, from 9:00 to 12:30" in body
        assert "Inès Dupont" in body
        assert "Centre social Agora" in body
        assert "Martin" in body
        assert "Not coming" in body
        assert answers_url in body
        assert "http://localhost/account" in body
    assert "« J'arriverai vers 10 h. »" in message.text_body
    assert "J&#39;arriverai vers 10 h." in message.html_body
    assert "Coming : 2 · Not coming : 1 · No answer : 1 · Waiting list : 0" in message.text_body
    assert "<strong>2</strong>" in message.html_body


def test_digest_speaks_the_installation_language(app):
    organiser = an_organiser(name="Olivier Organisateur")
    answered(a_meeting(organiser), Answer.COMING, NOW - timedelta(hours=1))

    run_digests(NOW)

    [message] = digests()
    assert "Bonjour Olivier Organisateur," in message.text_body
    assert "mardi 8 décembre 2026" in message.text_body


def test_every_organiser_of_a_meeting_gets_its_answers(app):
    first, second = an_organiser(), an_organiser()
    answered(a_meeting(first, second), Answer.COMING, NOW - timedelta(hours=1), last_name="Both")

    assert run_digests(NOW) == 2
    assert all("Both" in message.text_body for message in digests())


def test_start_of_the_local_day_follows_daylight_saving(app):
    zone = ZoneInfo(app.config["TIMEZONE"])
    # Sunday 29 March 2026: the clocks go forward at 2:00; the day began at 23:00 UTC.
    assert start_of_local_day(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), zone) == datetime(
        2026, 3, 28, 23, 0, tzinfo=UTC
    )
    # Monday 30 March: summer time, the day began at 22:00 UTC.
    assert start_of_local_day(datetime(2026, 3, 29, 22, 30, tzinfo=UTC), zone) == datetime(
        2026, 3, 29, 22, 0, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("before", "at_digest_hour"),
    [
        # Spring: on Sunday 29 March 2026, 7:00 in Paris is 5:00 UTC (it was 6:00 the day before).
        (datetime(2026, 3, 29, 4, 59, tzinfo=UTC), datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),
        # Autumn: on Sunday 25 October 2026, 7:00 in Paris is 6:00 UTC (it was 5:00 the day before).
        (datetime(2026, 10, 25, 5, 59, tzinfo=UTC), datetime(2026, 10, 25, 6, 0, tzinfo=UTC)),
    ],
)
def test_digest_hour_is_local_time_across_daylight_saving_changes(app, before, at_digest_hour):
    organiser = an_organiser(digest_sent_at=before - timedelta(days=1))
    answered(a_meeting(organiser), Answer.COMING, before - timedelta(hours=1))

    assert run_digests(before) == 0
    assert run_digests(at_digest_hour) == 1
    assert run_digests(at_digest_hour + timedelta(hours=20)) == 0


def test_a_digest_made_just_after_local_midnight_counts_for_that_local_day(app):
    app.config["DIGEST_HOUR"] = 0
    organiser = an_organiser()
    meeting = a_meeting(organiser)
    answered(meeting, Answer.COMING, datetime(2026, 3, 28, 20, 0, tzinfo=UTC))
    # 0:30 in Paris on Sunday 29 March, still Saturday in UTC.
    assert run_digests(datetime(2026, 3, 28, 23, 30, tzinfo=UTC)) == 1

    answered(meeting, Answer.COMING, datetime(2026, 3, 29, 1, 0, tzinfo=UTC))
    # Later the same Sunday in Paris: already done. The next local day: the new answer.
    assert run_digests(datetime(2026, 3, 29, 20, 0, tzinfo=UTC)) == 0
    assert run_digests(datetime(2026, 3, 29, 22, 5, tzinfo=UTC)) == 1


def test_queries_do_not_grow_with_the_number_of_answers(app, count_queries):
    def digest_run_queries(answers_each: int) -> int:
        # Only this round's two organisers are due.
        db.session.execute(update(User).values(wants_digest=False))
        for _organiser in range(2):
            meeting = a_meeting(an_organiser())
            for _answer in range(answers_each):
                answered(meeting, Answer.COMING, NOW - timedelta(hours=1))
        with count_queries() as counter:
            assert queue_digests(NOW) == 2
        db.session.commit()
        return counter.count

    assert digest_run_queries(2) == digest_run_queries(20)


def run_worker(worker_app: Flask, barrier: threading.Barrier, results: list, errors: list) -> None:
    """A worker as on another machine: its own application, engine and connections. The
    application is made before the threads start: Python 3.11 can fail ("AST constructor
    recursion depth mismatch") when two threads compile the URL rules at the same time."""
    try:
        with worker_app.app_context():
            barrier.wait(timeout=10)
            results.append(queue_digests(NOW))
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
    except Exception as error:  # reported to the test's thread, which asserts there is none
        errors.append(error)


def test_two_workers_at_once_make_one_digest_per_organiser(tmp_path):
    settings = {}
    if not USING_POSTGRES:
        settings["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'digest.db'}"
    with application(**settings):
        organisers = [an_organiser() for _ in range(6)]
        for organiser in organisers:
            meeting = a_meeting(organiser)
            for _answer in range(3):
                answered(meeting, Answer.COMING, NOW - timedelta(hours=1))
        expected = sorted(organiser.email for organiser in organisers)
        db.session.close()

        barrier = threading.Barrier(2)
        results: list[int] = []
        errors: list[Exception] = []
        workers = [
            threading.Thread(
                target=run_worker,
                args=(create_app(TestingConfig, **settings), barrier, results, errors),
            )
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)

        assert errors == []
        assert sum(results) == len(organisers)
        addresses = sorted(message.to_address for message in digests())
        assert addresses == expected
