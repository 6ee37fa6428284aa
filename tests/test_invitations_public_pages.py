"""The invitee's personal pages: what they show, that GET changes nothing, answering by POST,
closed and cancelled meetings, bad links, CSRF, the rate limit, headers and logs."""

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.invitations.tokens import revoke_links
from app.models import Answer, MeetingStatus, OutboxMessage
from app.security import RedactPersonalLinks
from tests.invitee_helpers import a_meeting, database_snapshot, invite, set_answer


def upcoming_meeting(**fields):
    return a_meeting(datetime.now(UTC), **fields)


def invite_now(meeting, **fields):
    return invite(meeting, datetime.now(UTC), **fields)


@pytest.fixture
def english(client):
    client.set_cookie("lang", "en")
    return client


CSRF_VALUE = re.compile(r'name="csrf_token" value="[^"]*"')


def checked_choice(html: str) -> str | None:
    match = re.search(r'<input checked[^>]*value="(yes|no)"', html)
    return match.group(1) if match else None


def test_page_shows_the_meeting_and_the_answer_form(app, english):
    meeting = upcoming_meeting(
        online_url="https://visio.example.org/salle-42",
        answer_deadline=datetime.now(UTC) + timedelta(days=7),
        description="Point d'étape du projet.",
    )
    invitation, token = invite_now(meeting, first_name="Hélène", last_name="Dupont")

    response = english.get(f"/i/{token}")

    assert response.status_code == 200
    html = response.text
    assert html.count("<h1>") == 1
    assert f"<h1>{meeting.title}</h1>" in html
    assert "Hélène Dupont" in html
    assert "You have not answered yet." in html
    assert 'name="answer"' in html and 'name="comment"' in html
    assert 'href="https://www.openstreetmap.org/search?query=2+rue+des+Corroyeurs' in html
    assert f'href="/i/{token}/calendar.ics"' in html
    assert "https://visio.example.org/salle-42" in html
    assert "Accueil café" in html and "Point d&#39;étape du projet." in html
    assert "claire.martin@federation.example.org" in html
    # The organisers' navigation is not shown to invitees.
    assert "site-nav" not in html


def test_page_is_french_by_default(app, client):
    meeting = upcoming_meeting(starts_at=datetime(2030, 6, 5, 7, 0, tzinfo=UTC))
    _invitation, token = invite_now(meeting)

    html = client.get(f"/i/{token}").text

    assert '<html lang="fr">' in html
    assert "mercredi 5 juin 2030, de 9 h 00 à 12 h 00" in html


@pytest.mark.parametrize(
    "path",
    ["/i/{token}", "/i/{token}?answer=yes", "/i/{token}?answer=no", "/i/{token}/calendar.ics"],
)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_opening_a_link_changes_nothing(app, client, path, method):
    meeting = upcoming_meeting(capacity=1)
    coming, _ = invite_now(meeting)
    set_answer(coming, Answer.COMING)
    waiting, token = invite_now(meeting)
    set_answer(waiting, Answer.WAITING)
    before = database_snapshot()

    response = client.open(path.format(token=token), method=method)

    assert response.status_code == 200
    assert database_snapshot() == before


@pytest.mark.parametrize("path", ["/i/{token}/waiting-list/leave"])
def test_get_on_a_post_only_link_changes_nothing(app, client, path):
    meeting = upcoming_meeting(capacity=1)
    waiting, token = invite_now(meeting)
    set_answer(waiting, Answer.WAITING)
    before = database_snapshot()

    assert client.get(path.format(token=token)).status_code == 405
    assert database_snapshot() == before


def test_the_email_links_preselect_the_answer(app, client):
    _invitation, token = invite_now(upcoming_meeting())

    assert checked_choice(client.get(f"/i/{token}").text) is None
    assert checked_choice(client.get(f"/i/{token}?answer=yes").text) == "yes"
    assert checked_choice(client.get(f"/i/{token}?answer=no").text) == "no"
    assert checked_choice(client.get(f"/i/{token}?answer=maybe").text) is None


def test_the_current_answer_is_preselected_unless_the_link_says_otherwise(app, client):
    invitation, token = invite_now(upcoming_meeting())
    set_answer(invitation, Answer.NOT_COMING)

    assert checked_choice(client.get(f"/i/{token}").text) == "no"
    assert checked_choice(client.get(f"/i/{token}?answer=yes").text) == "yes"


def test_post_records_the_answer_then_redirects_to_the_page(app, english):
    invitation, token = invite_now(upcoming_meeting())

    response = english.post(
        f"/i/{token}?answer=no", data={"answer": "yes", "comment": "Avec une collègue"}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/i/{token}"
    db.session.expire_all()
    assert invitation.answer is Answer.COMING
    assert invitation.comment == "Avec une collègue"
    assert invitation.answered_at is not None
    assert db.session.scalar(select(OutboxMessage.kind)) == "confirmation"
    page = english.get(f"/i/{token}").text
    assert "your answer is saved: you will attend" in page
    assert "You will attend." in page
    assert "Avec une collègue" in page


def test_post_without_a_choice_records_nothing(app, english):
    invitation, token = invite_now(upcoming_meeting())
    before = database_snapshot()

    response = english.post(f"/i/{token}", data={"comment": "?"})

    assert response.status_code == 200
    assert "Choose whether you will attend." in response.text
    assert database_snapshot() == before


def test_the_comment_error_is_shown_next_to_the_field_and_keeps_the_text(app, english):
    _invitation, token = invite_now(upcoming_meeting())

    html = english.post(f"/i/{token}", data={"answer": "yes", "comment": "x" * 2001}).text

    assert '<p class="error" id="comment-error">' in html
    assert 'aria-describedby="comment-help comment-error" aria-invalid="true"' in html
    assert "x" * 2001 + "</textarea>" in html
    assert checked_choice(html) == "yes"


def test_a_changed_meeting_shows_at_once(app, english):
    """The parts of the page that show the meeting are kept between views: a change to the
    meeting or to its programme is a new version, shown on the next view."""
    meeting = upcoming_meeting(description="Première version.")
    _invitation, token = invite_now(meeting)
    assert "Accueil café" in english.get(f"/i/{token}").text

    meeting.title = "Réunion déplacée"
    meeting.description = "Seconde version."
    meeting.programme_items[0].text = "Accueil thé"
    db.session.commit()

    html = english.get(f"/i/{token}").text
    assert "<h1>Réunion déplacée</h1>" in html
    assert "Seconde version." in html and "Première version." not in html
    assert "Accueil thé" in html and "Accueil café" not in html


def test_each_invitee_sees_their_own_answer(app, english):
    meeting = upcoming_meeting()
    answered, answered_token = invite_now(meeting, first_name="Hélène")
    answered.comment = "Végétarienne"
    set_answer(answered, Answer.COMING)
    _other, other_token = invite_now(meeting, first_name="Karim")

    first = english.get(f"/i/{answered_token}").text
    second = english.get(f"/i/{other_token}").text

    assert "You will attend." in first and "Végétarienne" in first
    assert checked_choice(first) == "yes"
    assert "You have not answered yet." in second and "Végétarienne" not in second
    assert "Karim" in second and "Hélène" not in second
    assert checked_choice(second) is None
    assert f'action="/i/{other_token}"' in second


def test_what_invitees_wrote_is_escaped_on_every_view(app, english):
    """Pages of one state are filled in from one rendering: each invitee's name, comment and
    answer time go in escaped, whoever came first."""
    meeting = upcoming_meeting()
    tokens = []
    for number, name in enumerate(["<b>Zoé</b>", "Paul & Lou"]):
        invitation, token = invite_now(meeting, first_name=name)
        invitation.comment = f"<script>alert({number})</script>"
        set_answer(invitation, Answer.COMING, since=datetime(2026, 3, 2 + number, 9, tzinfo=UTC))
        tokens.append(token)

    first, second = (english.get(f"/i/{token}").text for token in tokens)

    assert "&lt;b&gt;Zoé&lt;/b&gt;" in first and "<b>Zoé" not in first
    assert "&lt;script&gt;alert(0)&lt;/script&gt;" in first and "<script>" not in first
    assert "Answered on Monday 2 March 2026" in first
    assert "Paul &amp; Lou" in second and "Zoé" not in second
    assert "alert(1)" in second and "alert(0)" not in second
    assert "Answered on Tuesday 3 March 2026" in second
    assert tokens[0] not in second


def test_the_menu_of_someone_logged_in_is_never_shown_to_invitees(app, client, as_organiser):
    meeting = upcoming_meeting()
    _invitation, token = invite_now(meeting)
    _other, other_token = invite_now(meeting)

    assert "Olivier Organisateur" in as_organiser.get(f"/i/{token}").text
    with client.session_transaction() as session:
        session.clear()

    assert "Olivier Organisateur" not in client.get(f"/i/{other_token}").text


def test_full_meeting_puts_the_answer_on_the_waiting_list(app, english):
    meeting = upcoming_meeting(capacity=1)
    coming, _ = invite_now(meeting)
    set_answer(coming, Answer.COMING)
    invitation, token = invite_now(meeting)

    page = english.get(f"/i/{token}").text
    assert "you will be put on the waiting list" in page

    english.post(f"/i/{token}", data={"answer": "yes"})
    db.session.expire_all()
    assert invitation.answer is Answer.WAITING
    page = english.get(f"/i/{token}").text
    assert "you are on the waiting list, in position 1" in page
    assert f'action="/i/{token}/waiting-list/leave"' in page

    response = english.post(f"/i/{token}/waiting-list/leave")
    assert response.status_code == 302
    db.session.expire_all()
    assert invitation.answer is Answer.NOT_COMING
    assert "You have left the waiting list" in english.get(f"/i/{token}").text


def test_after_the_deadline_the_page_is_read_only_and_says_why(app, english):
    meeting = upcoming_meeting(answer_deadline=datetime.now(UTC) - timedelta(hours=1))
    invitation, token = invite_now(meeting)
    set_answer(invitation, Answer.COMING)

    page = english.get(f"/i/{token}").text
    assert "Answers closed on" in page
    assert "You will attend." in page
    assert 'name="answer"' not in page

    before = database_snapshot()
    response = english.post(f"/i/{token}", data={"answer": "no"})
    assert response.status_code == 302
    assert database_snapshot() == before
    assert "Answers closed on" in english.get(f"/i/{token}").text


def test_a_started_meeting_is_read_only(app, english):
    now = datetime.now(UTC)
    meeting = a_meeting(now, starts_at=now - timedelta(minutes=30))
    _invitation, token = invite_now(meeting)

    page = english.get(f"/i/{token}").text

    assert "This meeting has started: answers are closed." in page
    assert 'name="answer"' not in page


def test_a_cancelled_meeting_says_so_and_why(app, english):
    meeting = upcoming_meeting(
        status=MeetingStatus.CANCELLED,
        cancellation_reason="La salle n'est plus disponible ; une nouvelle date suivra.",
        cancelled_at=datetime.now(UTC),
    )
    _invitation, token = invite_now(meeting)

    page = english.get(f"/i/{token}").text

    assert "This meeting is cancelled" in page
    assert "une nouvelle date suivra." in page
    assert 'name="answer"' not in page
    assert "calendar.ics" not in page


def bad_tokens(app) -> dict[str, str]:
    invitation, revoked = invite_now(upcoming_meeting())
    revoke_links(invitation, datetime.now(UTC))
    db.session.commit()
    return {
        "unknown": "A" * 43,
        "malformed": "not-a-token",
        "too long": "B" * 200,
        "not ascii": "é" * 43,
        "revoked": revoked,
    }


def test_bad_links_all_get_the_same_friendly_404(app, english):
    bodies = set()
    for token in bad_tokens(app).values():
        for path in (f"/i/{token}", f"/i/{token}/calendar.ics"):
            response = english.get(path)
            assert response.status_code == 404
            assert response.headers["Referrer-Policy"] == "no-referrer"
            # The page repeats its own address in the language switch, and the form's CSRF
            # token is signed with the time; nothing else differs.
            body = response.text.replace(path.split("/")[2], "TOKEN").replace("é", "")
            bodies.add(CSRF_VALUE.sub('name="csrf_token" value=""', body))
        for path in (f"/i/{token}", f"/i/{token}/waiting-list/leave"):
            assert english.post(path, data={"answer": "yes"}).status_code == 404
    assert len(bodies) == 2  # the page and the calendar paths differ in `next` only
    assert "Page not found" in bodies.pop()


def test_answering_needs_the_csrf_token(csrf_app):
    client = csrf_app.test_client()
    invitation, token = invite_now(upcoming_meeting(capacity=1))

    assert client.post(f"/i/{token}", data={"answer": "yes"}).status_code == 400
    assert client.post(f"/i/{token}/waiting-list/leave").status_code == 400
    db.session.expire_all()
    assert invitation.answer is Answer.NONE

    page = client.get(f"/i/{token}").text
    csrf_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post(f"/i/{token}", data={"answer": "yes", "csrf_token": csrf_token})
    assert response.status_code == 302
    db.session.expire_all()
    assert invitation.answer is Answer.COMING


def test_looking_at_a_personal_page_sets_no_cookie(csrf_app):
    _invitation, token = invite_now(upcoming_meeting(capacity=1))
    response = csrf_app.test_client().get(f"/i/{token}")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers


def test_the_token_of_another_link_is_refused(csrf_app):
    client = csrf_app.test_client()
    invitation, token = invite_now(upcoming_meeting())
    _other, other_token = invite_now(invitation.meeting)
    other_page = client.get(f"/i/{other_token}").text
    foreign = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', other_page).group(1)

    response = client.post(f"/i/{token}", data={"answer": "yes", "csrf_token": foreign})

    assert response.status_code == 400
    db.session.expire_all()
    assert invitation.answer is Answer.NONE


def test_the_language_switch_of_a_personal_page_keeps_the_choice(csrf_app):
    client = csrf_app.test_client()
    _invitation, token = invite_now(upcoming_meeting())
    page = client.get(f"/i/{token}").text
    assert f'action="/i/{token}/language"' in page
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    assert client.post(f"/i/{token}/language", data={"language": "en"}).status_code == 400
    response = client.post(
        f"/i/{token}/language", data={"language": "en", "csrf_token": form_token}
    )

    assert response.status_code == 302
    assert response.headers["Location"] == f"/i/{token}"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Your answer" in client.get(f"/i/{token}").text


def test_answering_over_https_works_without_a_referer(csrf_app):
    """The page sends no Referer (no-referrer): the answer must not need one."""
    client = csrf_app.test_client()
    invitation, token = invite_now(upcoming_meeting())
    page = client.get(f"/i/{token}", base_url="https://localhost").text
    csrf_token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    response = client.post(
        f"/i/{token}", data={"answer": "no", "csrf_token": csrf_token}, base_url="https://localhost"
    )

    assert response.status_code == 302
    db.session.expire_all()
    assert invitation.answer is Answer.NOT_COMING


def test_too_many_requests_from_one_address_are_refused(app, english):
    app.config["INVITEE_RATE_LIMIT"] = "3 per minute"
    _invitation, token = invite_now(upcoming_meeting())

    statuses = [english.get(f"/i/{token}").status_code for _number in range(3)]
    refused = english.get("/i/" + "A" * 43)

    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many attempts" in refused.text
    # Another address has its own budget.
    assert english.get(f"/i/{token}", environ_base={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200


@pytest.mark.parametrize("suffix", ["", "/calendar.ics"])
def test_personal_pages_send_no_referrer_and_are_not_stored(app, client, suffix):
    _invitation, token = invite_now(upcoming_meeting())

    response = client.get(f"/i/{token}{suffix}")

    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Robots-Tag"] == "noindex"
    assert "Content-Security-Policy" in response.headers


def test_external_links_carry_no_referrer(app, client):
    _invitation, token = invite_now(upcoming_meeting(online_url="https://visio.example.org/x"))

    html = client.get(f"/i/{token}").text

    for link in re.findall(r'<a href="https?://[^"]+"[^>]*>', html):
        assert 'rel="noopener noreferrer"' in link


def test_the_calendar_download(app, client):
    meeting = upcoming_meeting(title="Groupe de travail « écoles »")
    _invitation, token = invite_now(meeting)

    response = client.get(f"/i/{token}/calendar.ics")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=groupe-de-travail-ecoles.ics"
    )
    assert "METHOD:PUBLISH" in response.text
    assert f"UID:meeting-{meeting.id}@localhost" in response.text


def test_page_loads_its_data_in_one_query(app, client, count_queries):
    meeting = upcoming_meeting(capacity=2)
    for _number in range(3):
        set_answer(invite_now(meeting)[0], Answer.WAITING)
    invitation, token = invite_now(meeting)
    set_answer(invitation, Answer.WAITING)
    # The first request checks that an account exists, and renders the meeting's parts (its
    # programme is then read), once.
    client.get(f"/i/{token}")

    with count_queries() as counter:
        response = client.get(f"/i/{token}")

    assert response.status_code == 200
    assert "4" in response.text
    assert counter.count == 1, counter.statements


def test_werkzeug_request_logs_hide_the_token(app, caplog):
    caplog.set_level(logging.INFO, logger="werkzeug")
    token = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"

    logging.getLogger("werkzeug").info(
        '%s - - [%s] "%s" %s %s', "127.0.0.1", "now", f"GET /i/{token}?answer=yes HTTP/1.1", 200, 9
    )

    assert token not in caplog.text
    assert '"GET /i/[redacted]?answer=yes HTTP/1.1" 200' in caplog.text


def test_gunicorn_access_logs_and_error_logs_hide_the_token(app, caplog):
    caplog.set_level(logging.INFO)
    token = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"

    logging.getLogger("gunicorn.access").info('"%(r)s" %(s)s', {"r": f"POST /i/{token}", "s": 302})
    app.logger.error("Exception on /i/%s/calendar.ics [GET]", token)

    assert token not in caplog.text
    assert '"POST /i/[redacted]" 302' in caplog.text
    assert "Exception on /i/[redacted]/calendar.ics [GET]" in caplog.text


def test_a_malformed_log_call_is_left_to_the_handler(app):
    record = logging.LogRecord("werkzeug", logging.INFO, "x", 1, "%s %s", ("/i/abc",), None)

    assert RedactPersonalLinks().filter(record) is True
    assert record.args == ("/i/abc",)


def test_the_log_filter_is_installed_once(app):
    from app import create_app
    from config import TestingConfig

    create_app(TestingConfig)
    filters = logging.getLogger("werkzeug").filters
    assert sum(isinstance(item, RedactPersonalLinks) for item in filters) == 1
