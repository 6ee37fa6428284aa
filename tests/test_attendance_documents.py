"""The attendance documents: sign-in sheets and certificates (PDF, read back with pypdf), the
minutes block in the seed council's form, the CSV and XLSX exports, and who may get them."""

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import load_workbook
from pypdf import PdfReader

from app.attendance import documents
from app.extensions import db
from app.models import (
    Answer,
    Attendance,
    Civility,
    Invitation,
    MeetingStatus,
    Proxy,
    ProxyStatus,
)
from app.text import slug
from tests.factories import ContactFactory, OrganisationFactory, UserFactory
from tests.invitee_helpers import a_meeting, invite, set_answer

# 9:00 to 12:00 in Paris; the documents are made the day after.
STARTS_AT = datetime(2025, 6, 5, 7, 0, tzinfo=UTC)
NOW = STARTS_AT + timedelta(days=1)
# The layout of static/print.css: A4 less 33 mm of margins is 264 mm; rows are 10 mm plus a
# 0.3 mm border. Page 1: (264 - 44 mm header - header row) // 10.3 = 20; next pages: 24.
ROWS_ON_FIRST_PAGE = 20
ROWS_ON_NEXT_PAGES = 24


def held_meeting(**fields):
    values = {
        "title": "Groupe de réflexion Écoles et centres sociaux",
        "starts_at": STARTS_AT,
        "contact_organisation": "Fédération des centres sociaux du Val d'Oise",
        "contact_name": "Judicaëlle Feron",
        "contact_function": "Chargée de missions",
        "venue_name": "Maison Pour Tous",
        "venue_address": "8, place de la Commune-de-Paris",
        "venue_postcode": "95100",
        "venue_town": "Argenteuil",
    }
    values.update(fields)
    return a_meeting(**values)


def mark(invitation: Invitation, attendance: Attendance, **fields) -> None:
    invitation.attendance = attendance
    for name, value in fields.items():
        setattr(invitation, name, value)
    db.session.commit()


def give_proxy(giver: Invitation, holder: Invitation, status=ProxyStatus.ACTIVE) -> None:
    db.session.add(
        Proxy(meeting_id=giver.meeting_id, giver_id=giver.id, holder_id=holder.id, status=status)
    )
    db.session.commit()


def pdf_pages(content: bytes) -> list[str]:
    assert content.startswith(b"%PDF-")
    return [page.extract_text() for page in PdfReader(io.BytesIO(content)).pages]


def coming(meeting, count: int, organisation=None) -> list[Invitation]:
    invitations = []
    for _number in range(count):
        fields = {"organisation": organisation} if organisation else {}
        invitation, _token = invite(meeting, **fields)
        set_answer(invitation, Answer.COMING)
        invitations.append(invitation)
    return invitations


# The rows every document reads


def test_rows_are_sorted_by_organisation_then_name_with_the_active_proxy_holder(app):
    meeting = held_meeting()
    zebra = OrganisationFactory(name="Zèbre association")
    ecole = OrganisationFactory(name="École et Famille")
    late, _token = invite(meeting, last_name="Bernard", organisation=zebra)
    first, _token = invite(meeting, last_name="Weber", organisation=ecole)
    second, _token = invite(meeting, last_name="Zola", organisation=ecole)
    alone, _token = invite(meeting, last_name="Adam", organisation=None)
    withdrawn, _token = invite(meeting, last_name="Morel", organisation=zebra)
    set_answer(first, Answer.NOT_COMING)
    set_answer(second, Answer.COMING)
    give_proxy(first, second)
    give_proxy(withdrawn, second, status=ProxyStatus.WITHDRAWN)

    rows = documents.attendance_rows(meeting)

    assert [row.contact.last_name for row in rows] == ["Weber", "Zola", "Bernard", "Morel", "Adam"]
    assert rows[0].attendance is Attendance.EXCUSED
    assert rows[0].proxy_holder.last_name == "Zola"
    assert rows[1].attendance is Attendance.EXPECTED
    assert rows[3].proxy_holder is None


# Sign-in sheets


def test_expected_sheet_has_the_header_the_coming_people_and_blank_rows(app):
    meeting = held_meeting()
    centre = OrganisationFactory(name="Centre social Les Linandes")
    anne, _token = invite(meeting, first_name="Anne", last_name="Koenders", organisation=centre)
    paul, _token = invite(
        meeting, first_name="Paul", last_name="Maglica", function="Principal", organisation=centre
    )
    excused, _token = invite(meeting, first_name="Rose", last_name="Popard")
    silent, _token = invite(meeting, first_name="Léo", last_name="Silence")
    set_answer(anne, Answer.COMING)
    set_answer(paul, Answer.COMING)
    set_answer(excused, Answer.NOT_COMING)

    with force_locale("en"):
        content = documents.sign_in_sheet_pdf(meeting, "expected", NOW)

    (text,) = pdf_pages(content)
    assert "Groupe de réflexion Écoles et centres sociaux" in text
    assert "Thursday 5 June 2025, from 9:00 to 12:00" in text
    assert "Maison Pour Tous, 8, place de la Commune-de-Paris, 95100 Argenteuil" in text
    assert "Lead organisation: Fédération des centres sociaux du Val d'Oise" in text
    assert "Contact person: Judicaëlle Feron, Chargée de missions" in text
    assert "KOENDERS Anne" in text
    assert "MAGLICA Paul" in text and "Principal" in text
    assert "Centre social Les Linandes" in text
    assert "POPARD" not in text and "SILENCE" not in text
    # Two people, then ten numbered blank rows.
    assert "12" in text.split()
    assert "page 1 / 1" in text


def test_actual_sheet_lists_the_people_present_and_the_walk_ins(app):
    meeting = held_meeting()
    came, absent, walk_in = coming(meeting, 3)
    mark(came, Attendance.PRESENT)
    mark(absent, Attendance.ABSENT)
    mark(walk_in, Attendance.PRESENT, walk_in=True)

    (text,) = pdf_pages(documents.sign_in_sheet_pdf(meeting, "actual", NOW))

    assert came.contact.last_name.upper() in text
    assert walk_in.contact.last_name.upper() in text
    assert absent.contact.last_name.upper() not in text
    # No blank rows after the meeting: the last number is the last person's.
    assert "2" in text.split() and "3" not in text.split()


def test_a_sheet_of_150_attendees_has_the_pages_its_layout_gives(app):
    meeting = held_meeting()
    coming(meeting, 150, organisation=OrganisationFactory(name="Centre social"))
    rows = 150 + documents.WALK_IN_ROWS
    expected_pages = 1 + -(-(rows - ROWS_ON_FIRST_PAGE) // ROWS_ON_NEXT_PAGES)
    assert expected_pages == 7

    with force_locale("en"):
        pages = pdf_pages(documents.sign_in_sheet_pdf(meeting, "expected", NOW))

    assert len(pages) == expected_pages
    for number, text in enumerate(pages, start=1):
        assert f"page {number} / {expected_pages}" in text
        # The table's header row is repeated on every page.
        assert "Signature" in text
    assert "NOM" in pages[-1]
    assert str(rows) in pages[-1].split()


def test_the_first_page_holds_exactly_its_share_of_rows(app):
    meeting = held_meeting()
    centre = OrganisationFactory(name="Centre social")
    coming(meeting, ROWS_ON_FIRST_PAGE - documents.WALK_IN_ROWS, organisation=centre)
    assert len(pdf_pages(documents.sign_in_sheet_pdf(meeting, "expected", NOW))) == 1
    coming(meeting, 1, organisation=centre)
    assert len(pdf_pages(documents.sign_in_sheet_pdf(meeting, "expected", NOW))) == 2


def test_sheets_are_only_made_for_published_meetings(app):
    for status in (MeetingStatus.DRAFT, MeetingStatus.CANCELLED):
        meeting = held_meeting(status=status)
        with pytest.raises(documents.DocumentUnavailable):
            documents.sign_in_sheet_pdf(meeting, "expected", NOW)


# Certificates


def test_certificate_names_the_person_the_meeting_and_the_signatory(app):
    meeting = held_meeting()
    centre = OrganisationFactory(name="Collège Jean-Moulin")
    (invitation,) = coming(meeting, 1, organisation=centre)
    invitation.contact.civility = Civility.MS
    invitation.contact.first_name, invitation.contact.last_name = "Anne", "Koenders"
    mark(invitation, Attendance.PRESENT, arrived_at=STARTS_AT + timedelta(minutes=5))

    with force_locale("en"):
        (text,) = pdf_pages(documents.certificate_pdf(meeting, invitation, NOW))

    assert "Attendance certificate" in text
    assert "Ms Anne Koenders" in text
    assert "Coordinatrice, Collège Jean-Moulin" in text
    assert "Groupe de réflexion Écoles et centres sociaux" in text
    assert "Arrived at 9:05." in text
    assert "Issued on Friday 6 June 2025." in text
    assert "Judicaëlle Feron" in text and "Chargée de missions" in text


def test_certificates_are_only_for_people_present_once_the_meeting_has_started(app):
    meeting = held_meeting()
    present, expected, excused = coming(meeting, 3)
    mark(present, Attendance.PRESENT)
    mark(excused, Attendance.EXCUSED)

    for invitation in (expected, excused):
        with pytest.raises(documents.DocumentUnavailable):
            documents.certificate_pdf(meeting, invitation, NOW)
    with pytest.raises(documents.DocumentUnavailable):
        documents.certificate_pdf(meeting, present, STARTS_AT - timedelta(hours=1))
    other_meeting = held_meeting()
    with pytest.raises(documents.DocumentUnavailable):
        documents.certificate_pdf(other_meeting, present, NOW)


def test_the_zip_holds_one_certificate_per_person_present(app):
    meeting = held_meeting()
    first, second, absent = coming(meeting, 3)
    first.contact.last_name, first.contact.first_name = "Château", "Zoé"
    mark(first, Attendance.PRESENT)
    mark(second, Attendance.PRESENT, walk_in=True)
    mark(absent, Attendance.ABSENT)

    with force_locale("en"):
        archive = zipfile.ZipFile(io.BytesIO(documents.certificates_zip(meeting, NOW)))

    names = sorted(archive.namelist())
    second_name = slug(f"{second.contact.last_name} {second.contact.first_name}")
    assert names == sorted(["certificate-chateau-zoe.pdf", f"certificate-{second_name}.pdf"])
    (text,) = pdf_pages(archive.read("certificate-chateau-zoe.pdf"))
    assert "Zoé Château" in text
    assert second.contact.last_name not in text


def test_no_zip_when_nobody_is_present(app):
    meeting = held_meeting()
    coming(meeting, 2)
    with pytest.raises(documents.DocumentUnavailable):
        documents.certificates_zip(meeting, NOW)


# The minutes block: the council session of 27 June 2016 (seeds/001)

SEED_PRESENT = [
    (Civility.MS, "KOENDERS"),
    (Civility.MR, "MAGLICA"),
    (Civility.MR, "PRIBETICH"),
    (Civility.MS, "MODDE"),
    (Civility.MR, "GERVAIS"),
    (Civility.MS, "AKPINAR-ISTIQUAM"),
    (Civility.MR, "CHÂTEAU"),
    (Civility.MS, "MARTIN"),
    (Civility.MR, "PIAN"),
    (Civility.MS, "PFANDER-MENY"),
    (Civility.MS, "HERVIEU"),
]
# Excused members and the member holding their proxy.
SEED_EXCUSED = [
    (Civility.MS, "POPARD", "PRIBETICH"),
    (Civility.MR, "MARTIN", "PFANDER-MENY"),
    (Civility.MR, "JULIEN", "GERVAIS"),
    (Civility.MS, "HILY", "MODDE"),
    (Civility.MR, "FAVERJON", "HERVIEU"),
    (Civility.MS, "TOMASELLI", "MARTIN"),
    (Civility.MR, "GRANDGUILLAUME", "PIAN"),
    (Civility.MS, "CHARRET-GODARD", "AKPINAR-ISTIQUAM"),
]


def seed_council_session():
    """The seed's members (council members belong to no organisation), the record closed."""
    meeting = held_meeting(title="Conseil municipal", contact_organisation="Ville de Dijon")
    present = {}
    for civility, name in SEED_PRESENT:
        invitation, _token = invite(meeting, civility=civility, last_name=name, organisation=None)
        set_answer(invitation, Answer.COMING)
        mark(invitation, Attendance.PRESENT)
        present[name] = invitation
    for number, (civility, name, holder) in enumerate(SEED_EXCUSED):
        invitation, _token = invite(meeting, civility=civility, last_name=name, organisation=None)
        # Excused by their answer, or marked so on the day.
        if number % 2:
            set_answer(invitation, Answer.NOT_COMING)
        else:
            mark(invitation, Attendance.EXCUSED)
        give_proxy(invitation, present[holder])
    # Answered coming, never came: absent once the record is closed.
    houpert, _token = invite(meeting, civility=Civility.MR, last_name="HOUPERT", organisation=None)
    set_answer(houpert, Answer.COMING)
    meeting.attendance_closed_at = NOW
    db.session.commit()
    return meeting


def test_minutes_block_of_the_seed_council_session(app):
    meeting = seed_council_session()

    with force_locale("en"):
        text, html = documents.minutes_block(meeting)

    assert text == (
        "Members present: Ms AKPINAR-ISTIQUAM - Mr CHÂTEAU - Mr GERVAIS - Ms HERVIEU"
        " - Ms KOENDERS - Mr MAGLICA - Ms MARTIN - Ms MODDE - Ms PFANDER-MENY - Mr PIAN"
        " - Mr PRIBETICH\n"
        "Members excused: Ms CHARRET-GODARD (proxy to Ms AKPINAR-ISTIQUAM)"
        " - Mr FAVERJON (proxy to Ms HERVIEU) - Mr GRANDGUILLAUME (proxy to Mr PIAN)"
        " - Ms HILY (proxy to Ms MODDE) - Mr JULIEN (proxy to Mr GERVAIS)"
        " - Mr MARTIN (proxy to Ms PFANDER-MENY) - Ms POPARD (proxy to Mr PRIBETICH)"
        " - Ms TOMASELLI (proxy to Ms MARTIN)\n"
        "Members absent: Mr HOUPERT"
    )
    assert html.startswith("<p><strong>Members present:</strong> Ms AKPINAR-ISTIQUAM - ")
    assert html.endswith("<p><strong>Members absent:</strong> Mr HOUPERT</p>")
    assert html.count("<p>") == 3


def test_minutes_block_in_french_reads_as_the_seed(app):
    with force_locale("fr"):
        if _("Members present:") == "Members present:":
            pytest.skip("the French catalogue does not have the minutes' labels yet")
        meeting = seed_council_session()
        text, _html = documents.minutes_block(meeting)
    assert text == (
        "Membres présents : Mme AKPINAR-ISTIQUAM - M. CHÂTEAU - M. GERVAIS - Mme HERVIEU"
        " - Mme KOENDERS - M. MAGLICA - Mme MARTIN - Mme MODDE - Mme PFANDER-MENY - M. PIAN"
        " - M. PRIBETICH\n"
        "Membres excusés : Mme CHARRET-GODARD (pouvoir Mme AKPINAR-ISTIQUAM)"
        " - M. FAVERJON (pouvoir Mme HERVIEU) - M. GRANDGUILLAUME (pouvoir M. PIAN)"
        " - Mme HILY (pouvoir Mme MODDE) - M. JULIEN (pouvoir M. GERVAIS)"
        " - M. MARTIN (pouvoir Mme PFANDER-MENY) - Mme POPARD (pouvoir M. PRIBETICH)"
        " - Mme TOMASELLI (pouvoir Mme MARTIN)\n"
        "Membres absents : M. HOUPERT"
    )


def test_minutes_block_names_organisations_escapes_html_and_skips_the_expected(app):
    meeting = held_meeting()
    centre = OrganisationFactory(name="Centre <Léo> & Co")
    present, excused, expected = coming(meeting, 3, organisation=centre)
    for invitation, name in zip((present, excused, expected), ("A", "C", "E"), strict=True):
        invitation.contact.civility, invitation.contact.last_name = Civility.MS, name
    mark(present, Attendance.PRESENT)
    mark(excused, Attendance.EXCUSED)
    give_proxy(excused, present)

    with force_locale("en"):
        text, html = documents.minutes_block(meeting)

    assert text == (
        "Members present: Ms A (Centre <Léo> & Co)\n"
        "Members excused: Ms C (Centre <Léo> & Co, proxy to Ms A)"
    )
    assert "Centre &lt;Léo&gt; &amp; Co" in html


def test_minutes_page_shows_the_block_and_its_text(as_organiser, organiser):
    meeting = seed_council_session()
    meeting.organisers.append(organiser)
    db.session.commit()
    as_organiser.set_cookie("lang", "en")

    page = as_organiser.get(f"/meetings/{meeting.id}/attendance/minutes")

    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<strong>Members absent:</strong> Mr HOUPERT</p>" in body
    assert "Members absent: Mr HOUPERT</textarea>" in body


# Exports


def export_meeting():
    """Three invitees: one present with times, one excused with a proxy, one walk-in whose
    function looks like a formula."""
    meeting = held_meeting()
    centre = OrganisationFactory(name="Centre social Les Linandes")
    anne, _token = invite(
        meeting,
        civility=Civility.MS,
        first_name="Anne",
        last_name="Koenders",
        email="anne@linandes.example.org",
        organisation=centre,
    )
    rose, _token = invite(meeting, first_name="Rose", last_name="Popard", organisation=centre)
    walk_in, _token = invite(
        meeting, first_name="Léo", last_name="Venu", function="=HYPERLINK(1)", organisation=centre
    )
    set_answer(anne, Answer.COMING)
    set_answer(rose, Answer.NOT_COMING)
    mark(
        anne,
        Attendance.PRESENT,
        arrived_at=STARTS_AT + timedelta(minutes=5),
        left_at=STARTS_AT + timedelta(hours=2, minutes=30),
    )
    mark(walk_in, Attendance.PRESENT, walk_in=True)
    give_proxy(rose, anne)
    return meeting


def test_csv_export_has_a_bom_semicolons_local_times_proxies_and_safe_cells(app):
    meeting = export_meeting()

    with force_locale("en"):
        content = documents.attendance_csv(meeting)

    assert content.startswith("\ufeff")
    assert "\r\n" in content
    rows = list(csv.reader(io.StringIO(content.removeprefix("\ufeff")), delimiter=";"))
    assert rows[0] == [
        "Civility",
        "First name",
        "Last name",
        "E-mail",
        "Organisation",
        "Function",
        "Answer",
        "Attendance",
        "Proxy given to",
        "Arrival",
        "Departure",
        "Walk-in",
    ]
    anne, rose, walk_in = rows[1:]
    assert anne == [
        "Ms",
        "Anne",
        "Koenders",
        "anne@linandes.example.org",
        "Centre social Les Linandes",
        "Coordinatrice",
        "Coming",
        "Present",
        "",
        "2025-06-05 09:05",
        "2025-06-05 11:30",
        "No",
    ]
    assert rose[6:9] == ["Not coming", "Excused", "Ms Anne Koenders"]
    assert walk_in[5] == "'=HYPERLINK(1)"
    assert walk_in[7:] == ["Present", "", "", "", "Yes"]


def test_csv_export_is_french_by_default(app):
    meeting = export_meeting()
    content = documents.attendance_csv(meeting)
    header = content.removeprefix("\ufeff").split("\r\n")[0].split(";")
    assert header[:3] == ["Civilité", "Prénom", "Nom"]


def test_xlsx_export_reads_back_with_real_local_times(app):
    meeting = export_meeting()

    with force_locale("en"):
        workbook = load_workbook(io.BytesIO(documents.attendance_xlsx(meeting)))

    sheet = workbook.active
    assert sheet.title == "Attendance"
    assert sheet.freeze_panes == "A2"
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.column_dimensions["D"].width == 30
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:3] == ["Civility", "First name", "Last name"]
    anne, rose, walk_in = values[1:]
    assert anne[:8] == [
        "Ms",
        "Anne",
        "Koenders",
        "anne@linandes.example.org",
        "Centre social Les Linandes",
        "Coordinatrice",
        "Coming",
        "Present",
    ]
    assert anne[9:11] == [datetime(2025, 6, 5, 9, 5), datetime(2025, 6, 5, 11, 30)]
    assert sheet.cell(row=2, column=10).number_format == "yyyy-mm-dd hh:mm"
    assert rose[8] == "Ms Anne Koenders"
    # Stored as text, never as a formula.
    assert walk_in[5] == "=HYPERLINK(1)"
    assert sheet.cell(row=4, column=6).data_type == "s"
    assert walk_in[11] == "Yes"


@pytest.mark.parametrize(
    "build",
    [
        documents.attendance_rows,
        documents.attendance_csv,
        documents.attendance_xlsx,
        documents.minutes_block,
    ],
)
def test_documents_load_the_rows_in_one_query_whatever_the_number_of_invitees(
    app, count_queries, build
):
    counts = []
    for size in (20, 150):
        meeting = held_meeting()
        invitations = coming(meeting, size, organisation=OrganisationFactory())
        for number, invitation in enumerate(invitations):
            if number % 3 == 0:
                mark(invitation, Attendance.PRESENT)
            elif number % 3 == 1:
                mark(invitation, Attendance.EXCUSED)
                give_proxy(invitation, invitations[number - 1])
        db.session.expire_all()
        meeting = db.session.get(type(meeting), meeting.id)
        with count_queries() as counter:
            build(meeting)
        counts.append(counter.count)
    assert counts[0] == counts[1] == 1


# The views: downloads and permissions

DOCUMENT_URLS = [
    "/meetings/{meeting}/attendance/sign-in-sheet.pdf?version=expected",
    "/meetings/{meeting}/attendance/sign-in-sheet.pdf?version=actual",
    "/meetings/{meeting}/attendance/certificates/{invitation}.pdf",
    "/meetings/{meeting}/attendance/certificates.zip",
    "/meetings/{meeting}/attendance/export.csv",
    "/meetings/{meeting}/attendance/export.xlsx",
    "/meetings/{meeting}/attendance/minutes",
]


@pytest.fixture
def documented_meeting(app):
    meeting = held_meeting()
    (invitation,) = coming(meeting, 1)
    mark(invitation, Attendance.PRESENT)
    return meeting, invitation


def document_url(template: str, meeting, invitation) -> str:
    return template.format(meeting=meeting.id, invitation=invitation.id)


@pytest.mark.parametrize("template", DOCUMENT_URLS)
def test_anonymous_visitors_are_sent_to_login(client, documented_meeting, template):
    response = client.get(document_url(template, *documented_meeting))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("template", DOCUMENT_URLS)
def test_other_organisers_are_refused(client, login, documented_meeting, template):
    login(UserFactory())
    assert client.get(document_url(template, *documented_meeting)).status_code == 403


@pytest.mark.parametrize(
    ("template", "mimetype", "filename"),
    [
        (DOCUMENT_URLS[0], "application/pdf", "sign-in-sheet-2025-06-05-groupe-de-reflexion"),
        (DOCUMENT_URLS[1], "application/pdf", "attendance-sheet-2025-06-05-groupe-de-reflexion"),
        (DOCUMENT_URLS[2], "application/pdf", "certificate-nom"),
        (DOCUMENT_URLS[3], "application/zip", "certificates-2025-06-05-groupe-de-reflexion"),
        (DOCUMENT_URLS[4], "text/csv", "attendance-2025-06-05-groupe-de-reflexion"),
        (DOCUMENT_URLS[5], "application/vnd.openxml", "attendance-2025-06-05-groupe-de-reflexion"),
    ],
)
def test_admins_download_every_document(
    client, login, admin, documented_meeting, template, mimetype, filename
):
    login(admin)
    client.set_cookie("lang", "en")
    response = client.get(document_url(template, *documented_meeting))
    assert response.status_code == 200
    assert response.mimetype.startswith(mimetype)
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith(f"attachment; filename={filename}")


def test_the_meeting_organiser_gets_the_minutes_page(client, login, documented_meeting):
    meeting, invitation = documented_meeting
    login(meeting.organisers[0])
    assert client.get(document_url(DOCUMENT_URLS[6], meeting, invitation)).status_code == 200


def test_no_certificate_for_someone_not_present_or_of_another_meeting(
    client, login, admin, documented_meeting
):
    meeting, present = documented_meeting
    (expected,) = coming(meeting, 1)
    other = held_meeting()
    (stranger,) = coming(other, 1)
    mark(stranger, Attendance.PRESENT)
    login(admin)
    for invitation in (expected, stranger):
        url = f"/meetings/{meeting.id}/attendance/certificates/{invitation.id}.pdf"
        assert client.get(url).status_code == 404


def test_a_draft_has_no_sign_in_sheet_and_the_organiser_is_told(client, login, admin):
    meeting = held_meeting(status=MeetingStatus.DRAFT)
    login(admin)
    client.set_cookie("lang", "en")
    response = client.get(
        f"/meetings/{meeting.id}/attendance/sign-in-sheet.pdf", follow_redirects=True
    )
    assert response.request.path == f"/meetings/{meeting.id}"
    assert "only made for published meetings" in response.get_data(as_text=True)


def test_an_unknown_sheet_version_is_not_found(client, login, admin, documented_meeting):
    meeting, _invitation = documented_meeting
    login(admin)
    url = f"/meetings/{meeting.id}/attendance/sign-in-sheet.pdf?version=draft"
    assert client.get(url).status_code == 404


def test_the_documents_partial_links_every_download(app, documented_meeting):
    meeting, _invitation = documented_meeting
    with app.test_request_context(), force_locale("en"):
        html = app.jinja_env.get_template("attendance/_documents.html").render(meeting=meeting)
    for endpoint in ("sign-in-sheet.pdf", "certificates.zip", "export.csv", "export.xlsx"):
        assert f"/meetings/{meeting.id}/attendance/{endpoint}" in html
    assert f"/meetings/{meeting.id}/attendance/minutes" in html


def test_contacts_without_organisation_come_last_on_the_sheet(app):
    meeting = held_meeting()
    centre = OrganisationFactory(name="Zèbre")
    nobody = ContactFactory(last_name="Aaron", organisation=None)
    db.session.add(Invitation(meeting=meeting, contact=nobody, answer=Answer.COMING))
    (member,) = coming(meeting, 1, organisation=centre)
    db.session.commit()
    text = pdf_pages(documents.sign_in_sheet_pdf(meeting, "expected", NOW))[0]
    assert text.index(member.contact.last_name.upper()) < text.index("AARON")
