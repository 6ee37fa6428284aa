"""The E-mails pages: administrators only, the outbox listed and searched, each message read
as its recipient would, the HTML part isolated, failed messages sent again."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from app.extensions import db
from app.mail.delivery import OUTCOME_UNKNOWN
from app.mail.outbox import RenderedEmail, queue_email
from app.mail.routes import HTML_PART_POLICY, linkify
from app.models import MessageStatus, OutboxMessage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
TEXT = (
    "Bonjour Zoé,\n"
    "Répondez ici : https://rencontres.example.org/r/AbC_12-x?a=1&b=2.\n"
    "<script>alert(1)</script> (voir https://example.org/programme)\n"
)


def queue(
    to: str = "zoe@example.org",
    subject: str = "Invitation : réunion du 5 juin",
    to_name: str = "Zoé Lefèvre",
    **options,
):
    email = RenderedEmail(subject=subject, text=TEXT, html="<p>Bonjour <b>Zoé</b></p>")
    message = queue_email("invitation", to, email, NOW, to_name=to_name, **options)
    db.session.commit()
    return message


def set_status(message: OutboxMessage, status: MessageStatus, **values) -> None:
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == message.id).values(status=status, **values)
    )
    db.session.commit()


def add_messages(count: int, start: int = 0) -> None:
    db.session.add_all(
        OutboxMessage(
            kind="invitation",
            to_address=f"invitee{number}@example.org",
            to_name=f"Invitee {number}",
            subject=f"Invitation {number}",
            text_body="text " * 200,
            html_body="<p>html</p>" * 100,
            message_id=f"<{number}@localhost>",
            created_at=NOW + timedelta(seconds=number),
            next_attempt_at=NOW,
            status=list(MessageStatus)[number % len(MessageStatus)],
        )
        for number in range(start, start + count)
    )
    db.session.commit()


# Who may see the pages


@pytest.mark.parametrize("path", ["/emails/", "/emails/1", "/emails/1/html"])
def test_anonymous_visitors_are_sent_to_the_login_page(client, admin, path):
    queue()
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/emails/", "/emails/1", "/emails/1/html"])
def test_organisers_may_not_read_the_outbox(as_organiser, path):
    queue()
    assert as_organiser.get(path).status_code == 403


def test_organisers_may_not_retry_a_message(as_organiser):
    message = queue()
    set_status(message, MessageStatus.FAILED)
    assert as_organiser.post(f"/emails/{message.id}/retry").status_code == 403
    assert message.status == MessageStatus.FAILED


@pytest.mark.parametrize("path", ["/emails/", "/emails/1", "/emails/1/html"])
def test_administrators_read_the_outbox(as_admin, path):
    queue()
    assert as_admin.get(path).status_code == 200


def test_unknown_message_is_not_found(as_admin):
    assert as_admin.get("/emails/999").status_code == 404
    assert as_admin.get("/emails/999/html").status_code == 404
    assert as_admin.post("/emails/999/retry").status_code == 404


def test_menu_shows_emails_to_administrators_only(client, login, admin, organiser):
    login(organiser)
    assert 'href="/emails/"' not in client.get("/meetings/").get_data(as_text=True)
    login(admin)
    assert 'href="/emails/"' in client.get("/meetings/").get_data(as_text=True)


# The list


def test_without_mail_server_the_list_says_messages_stay_here(app, as_admin):
    as_admin.set_cookie("lang", "en")
    queue()
    page = as_admin.get("/emails/").get_data(as_text=True)
    assert "messages are not sent, they stay here" in page

    app.config["MAIL_SERVER"] = "smtp.example.org"
    assert "they stay here" not in as_admin.get("/emails/").get_data(as_text=True)


def test_list_shows_newest_first_with_counts_per_status(as_admin):
    as_admin.set_cookie("lang", "en")
    older = queue(subject="Older")
    newer = queue(subject="Newer")
    set_status(older, MessageStatus.FAILED)
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == newer.id)
        .values(created_at=NOW + timedelta(hours=1))
    )
    db.session.commit()

    page = as_admin.get("/emails/").get_data(as_text=True)

    assert page.index("Newer") < page.index("Older")
    assert "All (2)" in page
    assert "Queued (1)" in page
    assert "Failed (1)" in page
    assert "Sent (0)" in page


def test_list_filters_by_status(as_admin):
    queued = queue(subject="Still waiting")
    failed = queue(subject="Went wrong")
    set_status(failed, MessageStatus.FAILED)

    page = as_admin.get("/emails/?status=failed").get_data(as_text=True)

    assert f"/emails/{failed.id}" in page
    assert f"/emails/{queued.id}" not in page
    assert as_admin.get("/emails/?status=nonsense").status_code == 200


@pytest.mark.parametrize("search", ["ZOE@EXAMPLE", "réunion du 5", "RÉUNION", "Lefèvre"])
def test_list_searches_recipient_and_subject_ignoring_case(as_admin, search):
    found = queue()
    other = queue(to="someone@example.org", subject="Rappel", to_name="Marc")

    page = as_admin.get("/emails/", query_string={"q": search}).get_data(as_text=True)

    assert f"/emails/{found.id}" in page
    assert f"/emails/{other.id}" not in page


def test_search_treats_like_wildcards_as_text(as_admin):
    queue(subject="100% présents")
    other = queue(subject="Rappel")
    page = as_admin.get("/emails/", query_string={"q": "%"}).get_data(as_text=True)
    assert f"/emails/{other.id}" not in page


def test_list_costs_the_same_queries_for_10_or_1000_messages(as_admin, count_queries):
    add_messages(10)
    as_admin.get("/emails/")
    with count_queries() as few:
        assert as_admin.get("/emails/").status_code == 200
    add_messages(990, start=10)
    # Committing expired the logged-in user: reload it, as the first request did.
    as_admin.get("/emails/")
    with count_queries() as many:
        assert as_admin.get("/emails/?page=2").status_code == 200
    with count_queries() as searched:
        assert as_admin.get("/emails/?q=invitee&status=queued").status_code == 200
    assert few.count == many.count == searched.count
    assert few.count <= 5


# One message


def test_message_page_shows_headers_state_and_linkified_text(app, as_admin):
    as_admin.set_cookie("lang", "en")
    message = queue(reply_to=("claire@federation.example.org", "Claire Martin"))
    set_status(message, MessageStatus.FAILED, attempts=3, last_error="550 5.1.1 No such user")

    page = as_admin.get(f"/emails/{message.id}").get_data(as_text=True)

    assert "rencontres@localhost" in page
    assert "Zoé Lefèvre" in page and "zoe@example.org" in page
    assert "Claire Martin" in page and "claire@federation.example.org" in page
    assert message.message_id.replace("<", "&lt;").replace(">", "&gt;") in page
    assert "550 5.1.1 No such user" in page
    assert (
        '<a href="https://rencontres.example.org/r/AbC_12-x?a=1&amp;b=2" rel="noreferrer">' in page
    )
    assert '<a href="https://example.org/programme" rel="noreferrer">' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>" not in page
    assert f'href="/emails/{message.id}/html"' in page
    assert f'action="/emails/{message.id}/retry"' in page


def test_message_page_shows_the_calendar_and_no_retry_unless_failed(as_admin):
    message = queue(calendar="BEGIN:VCALENDAR\r\nSUMMARY:Réunion\r\nEND:VCALENDAR\r\n")
    message.calendar_method = "REQUEST"
    db.session.commit()

    page = as_admin.get(f"/emails/{message.id}").get_data(as_text=True)

    assert "SUMMARY:Réunion" in page
    assert "REQUEST" in page
    assert "/retry" not in page


def test_reasons_written_by_delivery_are_shown_through_the_catalogue(as_admin):
    as_admin.set_cookie("lang", "en")
    message = queue()
    set_status(message, MessageStatus.FAILED, last_error=OUTCOME_UNKNOWN)
    page = as_admin.get(f"/emails/{message.id}").get_data(as_text=True)
    assert "outcome unknown, check and retry" in page


def test_html_part_is_served_alone_under_a_strict_policy(as_admin):
    message = queue()

    response = as_admin.get(f"/emails/{message.id}/html")

    assert response.mimetype == "text/html"
    assert response.get_data(as_text=True) == "<p>Bonjour <b>Zoé</b></p>"
    assert response.headers["Content-Security-Policy"] == HTML_PART_POLICY
    assert HTML_PART_POLICY == (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "sandbox allow-popups allow-popups-to-escape-sandbox"
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# Retrying


def test_retrying_a_failed_message_puts_it_back_in_the_queue(as_admin):
    as_admin.set_cookie("lang", "en")
    message = queue()
    set_status(message, MessageStatus.FAILED, attempts=8, last_error="451 4.3.0 Try later")

    response = as_admin.post(f"/emails/{message.id}/retry")

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/emails/{message.id}")
    assert (message.status, message.attempts) == (MessageStatus.QUEUED, 0)
    page = as_admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "back in the queue" in page


def test_retrying_a_message_that_has_not_failed_changes_nothing(as_admin):
    as_admin.set_cookie("lang", "en")
    message = queue()
    set_status(message, MessageStatus.SENT, attempts=1)

    response = as_admin.post(f"/emails/{message.id}/retry", follow_redirects=True)

    assert "Only a failed message can be sent again." in response.get_data(as_text=True)
    assert (message.status, message.attempts) == (MessageStatus.SENT, 1)


def test_retry_needs_the_form_token(csrf_app):
    from tests.factories import UserFactory

    admin = UserFactory(is_admin=True)
    message = queue()
    set_status(message, MessageStatus.FAILED)
    client = csrf_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(admin.id)
        session["_fresh"] = True

    assert client.post(f"/emails/{message.id}/retry").status_code == 400
    assert message.status == MessageStatus.FAILED


# Links in the text part


def test_linkify_escapes_first_and_links_only_web_addresses():
    html = str(linkify('<b>x</b> "https://a.example/?q=<b>" javascript:alert(1) http://b.example.'))
    assert html == (
        "&lt;b&gt;x&lt;/b&gt; &#34;"
        '<a href="https://a.example/?q=" rel="noreferrer">https://a.example/?q=</a>'
        "&lt;b&gt;&#34; javascript:alert(1) "
        '<a href="http://b.example" rel="noreferrer">http://b.example</a>.'
    )


def test_linkify_keeps_ampersands_and_drops_closing_punctuation():
    html = str(linkify("(https://x.example/a?b=1&c=2), « https://y.example/ » https://z.example/&"))
    assert '<a href="https://x.example/a?b=1&amp;c=2" rel="noreferrer">' in html
    assert html.startswith("(<a ") and "</a>)," in html
    assert '<a href="https://y.example/" rel="noreferrer">' in html
    assert '<a href="https://z.example/&amp;" rel="noreferrer">' in html
