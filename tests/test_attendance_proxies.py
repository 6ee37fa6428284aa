"""Proxies and the quorum: who may give and hold a proxy, the maximum per holder, refusal and
withdrawal with their e-mails, void proxies, and the quorum with and without proxies."""

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from pypdf import PdfReader
from sqlalchemy import select

from app.attendance import proxies, services
from app.attendance.checkin import checkin_code
from app.attendance.proxies import ProxyRefused
from app.extensions import db
from app.invitations.answers import record_answer
from app.models import Answer, Attendance, OutboxMessage, ProxyStatus
from tests.factories import UserFactory
from tests.invitee_helpers import NOW, a_meeting, database_snapshot, invite, set_answer

DURING = NOW + timedelta(days=14, hours=1)


def council(**fields):
    """A council session taking proxies, one per holder unless said otherwise."""
    return a_meeting(proxies_allowed=True, **fields)


def member(meeting, answer: Answer = Answer.COMING, **contact_fields):
    invitation, _token = invite(meeting, **contact_fields)
    if answer is not Answer.NONE:
        set_answer(invitation, answer)
    return invitation


def emails(kind: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
    )


def refusal(action) -> str:
    with pytest.raises(ProxyRefused) as raised:
        action()
    db.session.rollback()
    with force_locale("en"):
        return str(raised.value.args[0])


def test_a_member_who_cannot_come_gives_a_proxy_and_the_holder_is_told(app):
    meeting = council()
    giver = member(meeting, Answer.NOT_COMING, first_name="Anne", last_name="Koenders")
    holder = member(meeting, first_name="Bruno", last_name="Martin")

    proxy = proxies.give_proxy(giver, holder, NOW)
    db.session.commit()

    assert proxies.active_proxy(giver) == proxy and proxy.holder == holder
    assert proxy.recorded_by_id is None
    [email] = emails("proxy_given")
    assert email.to_address == holder.contact.email
    assert "Anne Koenders" in email.subject and "Anne Koenders" in email.text_body
    assert "/i/" in email.text_body


def test_giving_again_moves_the_proxy_to_the_new_holder(app):
    meeting = council()
    giver = member(meeting, Answer.NOT_COMING)
    first, second = member(meeting), member(meeting)
    proxies.give_proxy(giver, first, NOW)
    proxies.give_proxy(giver, second, NOW)
    db.session.commit()

    assert proxies.active_proxy(giver).holder == second
    assert proxies.held_count(first) == 0


def test_the_rules_of_giving(app):
    meeting = council()
    giver = member(meeting, Answer.NOT_COMING)
    coming = member(meeting)
    declined = member(meeting, Answer.NOT_COMING)
    unanswered = member(meeting, Answer.NONE)

    assert "cannot come" in refusal(lambda: proxies.give_proxy(coming, giver, NOW))
    assert "cannot come" in refusal(lambda: proxies.give_proxy(unanswered, coming, NOW))
    assert "not expected" in refusal(lambda: proxies.give_proxy(giver, declined, NOW))
    assert "another person" in refusal(lambda: proxies.give_proxy(giver, giver, NOW))
    other_meeting_member = member(council())
    assert "another person" in refusal(lambda: proxies.give_proxy(giver, other_meeting_member, NOW))
    # No chains: someone who gave their proxy holds none.
    proxies.give_proxy(declined, coming, NOW)
    db.session.commit()
    assert "own proxy" in refusal(lambda: proxies.give_proxy(giver, declined, NOW))


def test_a_meeting_without_proxies_takes_none(app):
    meeting = a_meeting()
    giver, holder = member(meeting, Answer.NOT_COMING), member(meeting)
    assert "does not take proxies" in refusal(lambda: proxies.give_proxy(giver, holder, NOW))


def test_a_holder_holds_at_most_the_maximum(app):
    meeting = council(max_proxies_per_holder=2)
    holder = member(meeting)
    givers = [member(meeting, Answer.NOT_COMING) for _number in range(3)]
    proxies.give_proxy(givers[0], holder, NOW)
    proxies.give_proxy(givers[1], holder, NOW)
    db.session.commit()

    assert "as many proxies as allowed" in refusal(
        lambda: proxies.give_proxy(givers[2], holder, NOW)
    )
    assert holder not in proxies.holder_candidates(givers[2])
    # The current holder stays a choice for those who gave to them.
    assert holder in proxies.holder_candidates(givers[0])


def test_invitees_give_proxies_until_the_start_and_organisers_until_closing(app):
    meeting = council()
    giver, holder = member(meeting, Answer.NOT_COMING), member(meeting)
    organiser = UserFactory()

    assert "no longer" in refusal(lambda: proxies.give_proxy(giver, holder, DURING))
    proxies.give_proxy(giver, holder, DURING, organiser)
    db.session.commit()
    assert proxies.active_proxy(giver).recorded_by_id == organiser.id


def test_the_holder_refuses_and_the_giver_is_told(app):
    meeting = council()
    giver = member(meeting, Answer.NOT_COMING, first_name="Anne")
    holder = member(meeting, first_name="Bruno", last_name="Martin")
    proxy = proxies.give_proxy(giver, holder, NOW)
    db.session.commit()

    proxies.refuse_proxy(holder, proxy.id, NOW)
    db.session.commit()

    assert proxy.status is ProxyStatus.REFUSED and proxy.ended_at == NOW
    [email] = emails("proxy_refused")
    assert email.to_address == giver.contact.email
    assert "Bruno Martin" in email.text_body
    assert "no longer yours" in refusal(lambda: proxies.refuse_proxy(holder, proxy.id, NOW))
    # The giver may give it again, to someone else or to the same person.
    proxies.give_proxy(giver, holder, NOW)
    db.session.commit()
    assert proxy.status is ProxyStatus.ACTIVE


def test_only_the_holder_refuses(app):
    meeting = council()
    giver, holder, other = member(meeting, Answer.NOT_COMING), member(meeting), member(meeting)
    proxy = proxies.give_proxy(giver, holder, NOW)
    db.session.commit()
    assert "no longer yours" in refusal(lambda: proxies.refuse_proxy(other, proxy.id, NOW))


def test_withdrawing_tells_the_holder(app):
    meeting = council()
    giver, holder = member(meeting, Answer.NOT_COMING), member(meeting)
    proxy = proxies.give_proxy(giver, holder, NOW)
    proxies.withdraw_proxy(giver, NOW)
    db.session.commit()

    assert proxy.status is ProxyStatus.WITHDRAWN
    assert [email.to_address for email in emails("proxy_withdrawn")] == [holder.contact.email]


def test_new_answers_end_proxies(app):
    meeting = council()
    giver, holder = member(meeting, Answer.NOT_COMING), member(meeting)
    other_giver = member(meeting, Answer.NOT_COMING)
    given = proxies.give_proxy(giver, holder, NOW)
    held = proxies.give_proxy(other_giver, member(meeting), NOW)
    db.session.commit()

    # The giver comes after all: their proxy ends.
    record_answer(giver, True, "", NOW)
    assert given.status is ProxyStatus.WITHDRAWN
    # A holder who no longer comes holds nothing; the giver is told.
    record_answer(held.holder, False, "", NOW)
    db.session.commit()
    assert held.status is ProxyStatus.REFUSED
    assert [email.to_address for email in emails("proxy_refused")] == [other_giver.contact.email]


def test_a_proxy_is_void_unless_its_holder_is_present(app):
    meeting = council(starts_at=NOW + timedelta(hours=1))
    giver, holder = member(meeting, Answer.NOT_COMING), member(meeting)
    proxy = proxies.give_proxy(giver, holder, NOW)
    db.session.commit()
    assert proxies.proxy_is_void(proxy)

    services.mark(holder, Attendance.PRESENT, None, NOW + timedelta(hours=2))
    db.session.commit()
    assert not proxies.proxy_is_void(proxy)


def test_quorum_as_a_number_counts_present_members_and_valid_proxies(app):
    meeting = council(starts_at=NOW + timedelta(hours=1), quorum_numerator=3)
    during = NOW + timedelta(hours=2)
    present = [member(meeting) for _number in range(2)]
    absent_holder = member(meeting)
    givers = [member(meeting, Answer.NOT_COMING) for _number in range(2)]
    proxies.give_proxy(givers[0], present[0], NOW)
    proxies.give_proxy(givers[1], absent_holder, NOW)
    for invitation in present:
        services.mark(invitation, Attendance.PRESENT, None, during)
    db.session.commit()

    result = proxies.quorum(meeting)

    assert (result.required, result.present, result.proxies) == (3, 2, 1)
    assert result.votes == 3 and result.reached


def test_quorum_as_a_fraction_of_the_members_invited_without_proxies(app):
    # Half of 5 members: 3 (rounded up). Walk-ins are not members.
    meeting = a_meeting(
        starts_at=NOW + timedelta(hours=1), quorum_numerator=1, quorum_denominator=2
    )
    during = NOW + timedelta(hours=2)
    members = [member(meeting) for _number in range(5)]
    for invitation in members[:2]:
        services.mark(invitation, Attendance.PRESENT, None, during)
    walk_in = member(meeting)
    walk_in.walk_in = True
    services.mark(walk_in, Attendance.PRESENT, None, during)
    db.session.commit()

    result = proxies.quorum(meeting)
    assert (result.required, result.votes, result.reached) == (3, 2, False)

    services.mark(members[2], Attendance.PRESENT, None, during)
    db.session.commit()
    assert proxies.quorum(meeting).reached


def test_no_quorum_is_never_reached(app):
    assert proxies.quorum(a_meeting()).required is None
    assert not proxies.quorum(a_meeting()).reached


def test_the_holder_candidates_are_one_query(app, count_queries):
    meeting = council()
    giver = member(meeting, Answer.NOT_COMING)
    for _number in range(20):
        member(meeting)
    db.session.expire_all()
    giver = db.session.merge(giver)
    _ = giver.meeting

    with count_queries() as counter:
        candidates = proxies.holder_candidates(giver)
        names = [candidate.contact.organisation for candidate in candidates]

    assert len(candidates) == 20 and len(names) == 20
    # The giver's current proxy, then the candidates with their contacts.
    assert counter.count == 2


# The organiser's page


def proxies_url(meeting) -> str:
    return f"/meetings/{meeting.id}/attendance/proxies"


@pytest.fixture
def as_organiser_of(client, login):
    def log_in(meeting):
        login(meeting.organisers[0])
        client.set_cookie("lang", "en")
        return client

    return log_in


def test_the_page_is_for_the_meetings_organisers_and_administrators(client, login):
    meeting = council()
    url = proxies_url(meeting)
    response = client.get(url)
    assert response.status_code == 302 and "/login" in response.location
    login(UserFactory())
    assert client.get(url).status_code == 403
    assert client.post(f"{url}/rules", data={"max_proxies_per_holder": "3"}).status_code == 403
    assert client.post(url, data={"giver": "1", "holder": "2"}).status_code == 403
    login(UserFactory(is_admin=True))
    assert client.get(url).status_code == 200


def test_an_organiser_sets_the_rules(as_organiser_of):
    meeting = a_meeting()
    client = as_organiser_of(meeting)

    response = client.post(
        f"{proxies_url(meeting)}/rules",
        data={"proxies_allowed": "y", "max_proxies_per_holder": "2", "quorum": " 2 / 4 "},
        follow_redirects=True,
    )

    assert "The rules are saved." in response.text
    db.session.refresh(meeting)
    assert meeting.proxies_allowed and meeting.max_proxies_per_holder == 2
    assert (meeting.quorum_numerator, meeting.quorum_denominator) == (1, 2)
    assert 'value="1/2"' in response.text


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"max_proxies_per_holder": "0", "quorum": ""}, "between 1 and 20"),
        ({"max_proxies_per_holder": "1", "quorum": "la moitié"}, "fraction (1/2, 2/3)"),
        ({"max_proxies_per_holder": "1", "quorum": "3/2"}, "between 0 and 1"),
        ({"max_proxies_per_holder": "1", "quorum": "0"}, "from 1 to 10,000"),
    ],
)
def test_bad_rules_are_refused_next_to_their_field(as_organiser_of, values, message):
    meeting = a_meeting()
    client = as_organiser_of(meeting)

    response = client.post(f"{proxies_url(meeting)}/rules", data=values)

    assert response.status_code == 400
    assert message in response.text and 'class="error"' in response.text
    db.session.refresh(meeting)
    assert not meeting.proxies_allowed and meeting.quorum_numerator is None


def test_an_organiser_records_and_withdraws_a_proxy(as_organiser_of):
    meeting = council(quorum_numerator=2)
    giver = member(meeting, Answer.NOT_COMING, first_name="Anne", last_name="Koenders")
    holder = member(meeting, first_name="Bruno", last_name="Martin")
    client = as_organiser_of(meeting)

    page = client.get(proxies_url(meeting)).text
    assert "Koenders Anne" in page and "Martin Bruno" in page
    assert "Quorum not reached" in page

    response = client.post(
        proxies_url(meeting),
        data={"giver": str(giver.id), "holder": str(holder.id)},
        follow_redirects=True,
    )
    assert "The proxy is recorded" in response.text
    assert "Void: its holder is not present" in response.text
    assert proxies.active_proxy(giver).recorded_by_id == meeting.organisers[0].id
    assert len(emails("proxy_given")) == 1

    response = client.post(f"{proxies_url(meeting)}/{giver.id}/withdraw", follow_redirects=True)
    assert "The proxy is withdrawn" in response.text
    assert proxies.active_proxy(giver) is None


def test_a_refused_proxy_shows_why_next_to_the_holder(as_organiser_of):
    meeting = council()
    giver = member(meeting, Answer.NOT_COMING)
    declined = member(meeting, Answer.NOT_COMING, first_name="Chloé", last_name="Durand")
    client = as_organiser_of(meeting)

    response = client.post(
        proxies_url(meeting), data={"giver": str(giver.id), "holder": str(declined.id)}
    )
    missing = client.post(proxies_url(meeting), data={"giver": "", "holder": ""})

    assert response.status_code == 400
    assert "Chloé Durand is not expected at the meeting" in response.text
    assert missing.status_code == 400 and "Choose who gives the proxy." in missing.text
    assert proxies.active_proxy(giver) is None


def test_the_check_in_page_shows_the_quorum_live(client, login):
    meeting = council(
        starts_at=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30),
        quorum_numerator=1,
        quorum_denominator=2,
    )
    present = member(meeting)
    member(meeting)
    login(meeting.organisers[0])
    client.set_cookie("lang", "en")
    url = f"/meetings/{meeting.id}/check-in"

    assert "Quorum not reached" in client.get(url).text
    client.post(f"{url}/{present.id}/present")

    page = client.get(url).text
    assert "Quorum reached" in page
    assert "votes: 1 of 1 required (present: 1, valid proxies: 0)" in page


def test_gets_change_nothing(as_organiser_of):
    meeting = council()
    member(meeting, Answer.NOT_COMING)
    client = as_organiser_of(meeting)
    before = database_snapshot()
    assert client.get(proxies_url(meeting)).status_code == 200
    assert database_snapshot() == before


# The invitee's personal page


def personal(meeting, answer: Answer, **contact_fields):
    invitation, token = invite(meeting, datetime.now(UTC), **contact_fields)
    set_answer(invitation, answer)
    return invitation, token


def upcoming_council(**fields):
    return council(now=datetime.now(UTC), **fields)


def test_a_member_gives_takes_back_and_the_holder_refuses_on_their_pages(client):
    client.set_cookie("lang", "en")
    meeting = upcoming_council()
    giver, giver_token = personal(meeting, Answer.NOT_COMING, first_name="Anne")
    holder, holder_token = personal(meeting, Answer.COMING, first_name="Bruno", last_name="Mo")

    page = client.get(f"/i/{giver_token}").text
    assert "Give my proxy to" in page and "Bruno Mo" in page
    response = client.post(
        f"/i/{giver_token}/proxy", data={"holder": str(holder.id)}, follow_redirects=True
    )
    assert "Your proxy is given" in response.text
    assert "You have given your proxy to Bruno Mo." in response.text
    assert proxies.active_proxy(giver).holder_id == holder.id

    holder_page = client.get(f"/i/{holder_token}").text
    assert "has given you their proxy" in holder_page
    proxy = proxies.active_proxy(giver)
    response = client.post(f"/i/{holder_token}/proxies/{proxy.id}/refuse", follow_redirects=True)
    assert "You have refused the proxy" in response.text
    db.session.expire_all()
    assert proxy.status is ProxyStatus.REFUSED

    client.post(f"/i/{giver_token}/proxy", data={"holder": str(holder.id)})
    response = client.post(f"/i/{giver_token}/proxy/withdraw", follow_redirects=True)
    assert "You have taken back your proxy" in response.text
    assert proxies.active_proxy(giver) is None


def test_personal_proxy_forms_check_the_link_and_its_token(csrf_app):
    client = csrf_app.test_client()
    meeting = upcoming_council()
    giver, giver_token = personal(meeting, Answer.NOT_COMING)
    holder, _holder_token = personal(meeting, Answer.COMING)
    other_meeting_member, _token = personal(upcoming_council(), Answer.COMING)

    assert (
        client.post(f"/i/{giver_token}/proxy", data={"holder": str(holder.id)}).status_code == 400
    )
    assert client.post("/i/" + "A" * 43 + "/proxy", data={"holder": "1"}).status_code == 404
    page = client.get(f"/i/{giver_token}").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.set_cookie("lang", "en")
    response = client.post(
        f"/i/{giver_token}/proxy",
        data={"holder": str(other_meeting_member.id), "csrf_token": token},
        follow_redirects=True,
    )
    assert "Choose the member who will hold your proxy." in response.text
    assert proxies.active_proxy(giver) is None


def test_coming_invitees_see_their_own_check_in_code(client):
    meeting = a_meeting(now=datetime.now(UTC))
    first, first_token = personal(meeting, Answer.COMING)
    second, second_token = personal(meeting, Answer.COMING)
    _declined, declined_token = personal(meeting, Answer.NOT_COMING)

    first_page, second_page = (
        client.get(f"/i/{first_token}").text,
        client.get(f"/i/{second_token}").text,
    )

    assert checkin_code(first) in first_page and checkin_code(second) not in first_page
    assert checkin_code(second) in second_page and '<svg role="img"' in second_page
    assert "checkin-badge" not in client.get(f"/i/{declined_token}").text


def test_the_certificate_is_downloaded_from_the_personal_page_once_present(client):
    now = datetime.now(UTC).replace(microsecond=0)
    meeting = a_meeting(now=now, starts_at=now - timedelta(hours=1))
    invitation, token = personal(meeting, Answer.COMING)
    url = f"/i/{token}/certificate.pdf"
    assert client.get(url).status_code == 404
    assert "certificate.pdf" not in client.get(f"/i/{token}").text

    services.mark(invitation, Attendance.PRESENT, None, now)
    db.session.commit()

    assert f'href="{url}"' in client.get(f"/i/{token}").text
    response = client.get(url)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert invitation.contact.last_name in text
