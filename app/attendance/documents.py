"""Documents made from the attendance record: the sign-in sheet and the attendance
certificates (PDF, through WeasyPrint), the minutes block, and the CSV and XLSX exports."""

import contextlib
import csv
import io
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import current_app, render_template
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy import Select, and_, select
from sqlalchemy.orm import aliased, contains_eager

from app.attendance.status import attendance_of
from app.contacts.importing import protect_cell
from app.contacts.labels import civility_label
from app.extensions import db
from app.formatting import format_moment, spreadsheet_moment
from app.invitations.services import ANSWER_LABELS
from app.models import (
    Answer,
    Attendance,
    Contact,
    Invitation,
    Meeting,
    MeetingQuestion,
    MeetingStatus,
    Organisation,
    Proxy,
    ProxyStatus,
)
from app.questions import services as question_services
from app.text import slug

ATTENDANCE_LABELS = {
    Attendance.EXPECTED: _l("Expected"),
    Attendance.PRESENT: _l("Present"),
    Attendance.EXCUSED: _l("Excused"),
    Attendance.ABSENT: _l("Absent"),
}
SHEET_VERSIONS = ("expected", "actual")
# Empty rows at the end of the expected list, for people who come without an invitation.
WALK_IN_ROWS = 10
PRINT_STYLESHEET = "print.css"


class DocumentUnavailable(Exception):
    """The document cannot be made for this meeting or person; the message says why."""


@dataclass(frozen=True)
class AttendanceRow:
    """One invitation as the documents show it: its attendance by the rule of status.py and
    the contact holding the proxy it gave, if any."""

    invitation: Invitation
    attendance: Attendance | None
    proxy_holder: Contact | None

    @property
    def contact(self) -> Contact:
        return self.invitation.contact

    @property
    def organisation_name(self) -> str:
        organisation = self.contact.organisation
        return organisation.name if organisation else ""


def attendance_rows(meeting: Meeting) -> list[AttendanceRow]:
    """Every invitation of the meeting with its contact, organisation and active proxy, in
    one query, sorted by organisation (people without one last), then by name."""
    return [
        AttendanceRow(invitation, attendance_of(invitation, meeting), proxy_holder)
        for invitation, proxy_holder in db.session.execute(_attendance_query(meeting))
    ]


def _attendance_query(meeting: Meeting) -> Select:
    holder_invitation = aliased(Invitation)
    holder = aliased(Contact)
    active_proxy = and_(Proxy.giver_id == Invitation.id, Proxy.status == ProxyStatus.ACTIVE)
    query = (
        select(Invitation, holder)
        .join(Invitation.contact)
        .outerjoin(Contact.organisation)
        .outerjoin(Proxy, active_proxy)
        .outerjoin(holder_invitation, holder_invitation.id == Proxy.holder_id)
        .outerjoin(holder, holder.id == holder_invitation.contact_id)
        .where(Invitation.meeting_id == meeting.id)
        .options(contains_eager(Invitation.contact).contains_eager(Contact.organisation))
        .order_by(
            Organisation.id.is_(None),
            Organisation.name_key,
            Organisation.id,
            Contact.sort_key,
            Invitation.id,
        )
    )
    return query


# Names as documents print them


def formal_name(contact: Contact) -> str:
    """The minutes' form of a name: "Mme KOENDERS"; the first name only without a civility."""
    if contact.civility:
        return f"{civility_label(contact.civility)} {contact.last_name.upper()}"
    return f"{contact.first_name} {contact.last_name.upper()}".strip()


def sheet_name(contact: Contact) -> str:
    """A sign-in sheet's form of a name, last name first: "KOENDERS Anne"."""
    return f"{contact.last_name.upper()} {contact.first_name}".strip()


def full_name(contact: Contact) -> str:
    """ "Mme Anne Koenders", for certificates and exports."""
    return f"{civility_label(contact.civility)} {contact.full_name}".strip()


def venue_line(meeting: Meeting) -> str:
    """ "Maison des associations, 2 rue des Corroyeurs, 21000 Dijon"."""
    town = f"{meeting.venue_postcode} {meeting.venue_town}".strip()
    return ", ".join(part for part in (meeting.venue_name, meeting.venue_address, town) if part)


# PDF


def css_string(text: str) -> Markup:
    """`text` as a quoted CSS string, safe inside the <style> of a PDF template."""
    escaped = "".join(
        f"\\{ord(character):x} " if character in '\\"<>&\n' else character for character in text
    )
    return Markup(f'"{escaped}"')


def _local_url_fetcher(url: str, *args, **kwargs):
    """WeasyPrint's fetcher, limited to the application's static files: a document never
    loads anything from the network."""
    from weasyprint.urls import default_url_fetcher

    static_folder = Path(current_app.static_folder).resolve()
    if url.startswith("file://"):
        path = Path(url.removeprefix("file://")).resolve()
        if path.is_relative_to(static_folder):
            return default_url_fetcher(url, *args, **kwargs)
    if url.startswith("data:"):
        return default_url_fetcher(url, *args, **kwargs)
    raise ValueError(f"not a local resource: {url[:80]}")


@contextlib.contextmanager
def _known_weasyprint_warnings_ignored() -> Iterator[None]:
    """WeasyPrint warns, when it loads Pango, that it will need HarfBuzz's subsetting library
    (Debian's libharfbuzz-subset0) in a future version; this version works without it."""
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="HarfBuzz-Subset will be required", category=DeprecationWarning
        )
        yield


def _document(html: str):
    """The laid-out document of `html`, styled by the print stylesheet."""
    with _known_weasyprint_warnings_ignored():
        # Imported here: WeasyPrint loads Pango at import, which only the PDF views need.
        from weasyprint import CSS, HTML

        static_folder = Path(current_app.static_folder)
        stylesheet = CSS(
            filename=str(static_folder / PRINT_STYLESHEET), url_fetcher=_local_url_fetcher
        )
        return HTML(
            string=html, base_url=str(static_folder) + "/", url_fetcher=_local_url_fetcher
        ).render(stylesheets=[stylesheet])


def _pdf(document) -> bytes:
    with _known_weasyprint_warnings_ignored():
        return document.write_pdf()


def sheet_rows(rows: Iterable[AttendanceRow], version: str) -> list[AttendanceRow]:
    """Who a sign-in sheet lists. Expected: everyone who said they were coming and has not
    since been excused, and anyone already marked present. Actual: those present, walk-ins
    included."""
    if version == "actual":
        return [row for row in rows if row.attendance is Attendance.PRESENT]
    return [
        row
        for row in rows
        if row.attendance is Attendance.PRESENT
        or (row.invitation.answer is Answer.COMING and row.attendance is not Attendance.EXCUSED)
    ]


def sign_in_sheet_pdf(meeting: Meeting, version: str, now: datetime) -> bytes:
    """The sign-in sheet ("feuille d'émargement") as an A4 PDF: the expected list to print
    before the meeting, with blank rows for walk-ins, or the actual attendance after it."""
    if version not in SHEET_VERSIONS:
        raise ValueError(f"unknown sign-in sheet version: {version}")
    if meeting.status is not MeetingStatus.PUBLISHED:
        raise DocumentUnavailable(_("Sign-in sheets are only made for published meetings."))
    if version == "expected":
        document_kind = _("Sign-in sheet: expected attendees")
    else:
        document_kind = _("Sign-in sheet: attendance")
    html = render_template(
        "attendance/sheet.html",
        meeting=meeting,
        rows=sheet_rows(attendance_rows(meeting), version),
        blank_rows=WALK_IN_ROWS if version == "expected" else 0,
        document_kind=document_kind,
        venue=venue_line(meeting),
        sheet_name=sheet_name,
        page_word=css_string(_("page")),
        printed_on=css_string(_("Printed on %(moment)s", moment=format_moment(now, meeting.zone))),
    )
    return _pdf(_document(html))


def sign_in_sheet_filename(meeting: Meeting, version: str) -> str:
    prefix = _("sign-in-sheet") if version == "expected" else _("attendance-sheet")
    day = meeting.local_starts_at.date().isoformat()
    return f"{prefix}-{day}-{slug(meeting.title, 40) or meeting.id}.pdf"


# Certificates


def _check_certificates_allowed(meeting: Meeting, now: datetime) -> None:
    if meeting.status is not MeetingStatus.PUBLISHED or meeting.starts_at > now:
        raise DocumentUnavailable(
            _("Attendance certificates are made once a published meeting has started.")
        )


def certificate_pdf(meeting: Meeting, invitation: Invitation, now: datetime) -> bytes:
    """The attendance certificate ("attestation de présence") of one person marked present."""
    _check_certificates_allowed(meeting, now)
    present = attendance_of(invitation, meeting) is Attendance.PRESENT
    if invitation.meeting_id != meeting.id or not present:
        raise DocumentUnavailable(_("Certificates are only made for people marked present."))
    html = _certificates_html(meeting, [invitation], now)
    return _pdf(_document(html))


def _certificates_html(meeting: Meeting, invitations: list[Invitation], now: datetime) -> str:
    return render_template(
        "attendance/certificate.html",
        meeting=meeting,
        invitations=invitations,
        issued_at=now,
        venue=venue_line(meeting),
        full_name=full_name,
    )


def certificate_filename(invitation: Invitation) -> str:
    contact = invitation.contact
    name = slug(f"{contact.last_name} {contact.first_name}", 50) or str(invitation.id)
    return f"{_('certificate')}-{name}.pdf"


def certificates_zip(meeting: Meeting, now: datetime) -> bytes:
    """A ZIP of one certificate per person present. The certificates are laid out once, as
    one document of one page each, then written out page by page."""
    _check_certificates_allowed(meeting, now)
    present = [
        row.invitation for row in attendance_rows(meeting) if row.attendance is Attendance.PRESENT
    ]
    if not present:
        raise DocumentUnavailable(_("Nobody is marked present yet."))
    html = _certificates_html(meeting, present, now)
    document = _document(html)
    if len(document.pages) != len(present):
        raise RuntimeError("each certificate must fit on one page")
    output = io.BytesIO()
    used: set[str] = set()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        for invitation, page in zip(present, document.pages, strict=True):
            name = certificate_filename(invitation)
            if name in used:
                name = name.removesuffix(".pdf") + f"-{invitation.id}.pdf"
            used.add(name)
            archive.writestr(name, _pdf(document.copy([page])))
    return output.getvalue()


def certificates_zip_filename(meeting: Meeting) -> str:
    day = meeting.local_starts_at.date().isoformat()
    return f"{_('certificates')}-{day}-{slug(meeting.title, 40) or meeting.id}.zip"


# Minutes


def _minutes_entry(row: AttendanceRow) -> str:
    """ "Mme POPARD (Ville de Dijon, pouvoir M. PRIBETICH)", as the council minutes write it."""
    details = [row.organisation_name] if row.organisation_name else []
    if row.proxy_holder is not None and row.attendance is not Attendance.PRESENT:
        details.append(_("proxy to %(holder)s", holder=formal_name(row.proxy_holder)))
    name = formal_name(row.contact)
    return f"{name} ({', '.join(details)})" if details else name


def minutes_sections(meeting: Meeting) -> list[tuple[str, list[str]]]:
    """(label, entries) for present, excused and absent members; empty sections left out.
    People still expected (the record is not closed) belong to none of them."""
    rows = attendance_rows(meeting)
    labels = [
        (Attendance.PRESENT, _("Members present:")),
        (Attendance.EXCUSED, _("Members excused:")),
        (Attendance.ABSENT, _("Members absent:")),
    ]
    sections = []
    for attendance, label in labels:
        entries = [_minutes_entry(row) for row in rows if row.attendance is attendance]
        if entries:
            sections.append((label, entries))
    return sections


def minutes_block(meeting: Meeting) -> tuple[str, Markup]:
    """The attendance paragraph of the minutes, as plain text and as HTML, in the seed's form:
    "Membres présents : Mme A (Structure) - M. B", then the excused, then the absent."""
    sections = minutes_sections(meeting)
    text = "\n".join(f"{label} {' - '.join(entries)}" for label, entries in sections)
    html = Markup("\n").join(
        Markup("<p><strong>{}</strong> {}</p>").format(label, " - ".join(entries))
        for label, entries in sections
    )
    return text, html


# Exports


def _export_headers() -> list[str]:
    return [
        _("Civility"),
        _("First name"),
        _("Last name"),
        _("E-mail"),
        _("Organisation"),
        _("Function"),
        _("Answer"),
        _("Attendance"),
        _("Proxy given to"),
        _("Arrival"),
        _("Departure"),
        _("Walk-in"),
    ]


def _export_values(row: AttendanceRow) -> list[str | datetime | None]:
    """One row of the exports; times stay datetimes in UTC, each format writes them its way."""
    contact, invitation = row.contact, row.invitation
    return [
        civility_label(contact.civility),
        contact.first_name,
        contact.last_name,
        contact.email,
        row.organisation_name,
        contact.function,
        str(ANSWER_LABELS[invitation.answer]),
        str(ATTENDANCE_LABELS[row.attendance]) if row.attendance else "",
        full_name(row.proxy_holder) if row.proxy_holder else "",
        invitation.arrived_at,
        invitation.left_at,
        _("Yes") if invitation.walk_in else _("No"),
    ]


@dataclass(frozen=True)
class QuestionColumns:
    """The meeting's questions as the last columns of the exports, with the saved answers of
    the rows: two queries whatever the number of rows and questions."""

    questions: list[MeetingQuestion]
    saved: dict[int, dict[int, list[str]]]

    @classmethod
    def of(cls, meeting: Meeting, rows: list[AttendanceRow]) -> "QuestionColumns":
        asked = question_services.answered_questions(meeting)
        ids = [row.invitation.id for row in rows] if asked else []
        return cls(asked, question_services.saved_answers(ids))

    def headers(self) -> list[str]:
        return [question_services.question_heading(question) for question in self.questions]

    def values(self, row: AttendanceRow) -> list[str]:
        answers = self.saved.get(row.invitation.id, {})
        return [question_services.format_answer(q, answers.get(q.id, [])) for q in self.questions]


def export_rows(meeting: Meeting) -> tuple[list[AttendanceRow], QuestionColumns]:
    """The rows of the exports, and the columns of the meeting's questions: one query for a
    meeting without questions, three with."""
    query = _attendance_query(meeting).add_columns(
        question_services.asks_exported_questions(meeting)
    )
    result = db.session.execute(query).all()
    rows = [
        AttendanceRow(invitation, attendance_of(invitation, meeting), proxy_holder)
        for invitation, proxy_holder, _asks in result
    ]
    if result and not result[0].asks_questions:
        return rows, QuestionColumns([], {})
    return rows, QuestionColumns.of(meeting, rows)


def attendance_csv(meeting: Meeting) -> str:
    """The attendance list as French Excel opens it: a BOM, `;`, CRLF, headers in the current
    language, times local to the meeting ("2018-06-05 09:05"), the answers to the meeting's
    questions last."""
    rows, columns = export_rows(meeting)
    output = io.StringIO()
    writer = csv.writer(output, delimiter=";", lineterminator="\r\n")
    writer.writerow(_export_headers() + columns.headers())
    for row in rows:
        cells = [
            spreadsheet_moment(value, meeting.zone) if isinstance(value, datetime) else value or ""
            for value in _export_values(row)
        ] + columns.values(row)
        writer.writerow([protect_cell(cell) for cell in cells])
    return "\ufeff" + output.getvalue()


# Characters per column of the XLSX export, for the column widths.
XLSX_WIDTHS = [10, 16, 18, 30, 32, 24, 14, 12, 24, 17, 17, 9]
XLSX_QUESTION_WIDTH = 30
XLSX_TIME_FORMAT = "yyyy-mm-dd hh:mm"


def attendance_xlsx(meeting: Meeting) -> bytes:
    """The attendance list as an Excel workbook: a bold, frozen header row, and arrival and
    departure as real date-times, naive in the meeting's zone (Excel has no time zones); the
    answers to the meeting's questions last."""
    rows, columns = export_rows(meeting)
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = _("Attendance")[:31]
    sheet.append(_export_headers() + columns.headers())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    widths = XLSX_WIDTHS + [XLSX_QUESTION_WIDTH] * len(columns.questions)
    for index, width in enumerate(widths):
        sheet.column_dimensions[sheet.cell(row=1, column=index + 1).column_letter].width = width
    for row in rows:
        values = [_xlsx_value(value, meeting) for value in _export_values(row)]
        sheet.append(values + columns.values(row))
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, datetime):
                cell.number_format = XLSX_TIME_FORMAT
            elif isinstance(cell.value, str):
                # Text a person typed is never read as a formula.
                cell.data_type = "s"
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _xlsx_value(value: str | datetime | None, meeting: Meeting) -> str | datetime | None:
    if isinstance(value, datetime):
        return value.astimezone(meeting.zone).replace(tzinfo=None)
    return value


def export_filename(meeting: Meeting, extension: str) -> str:
    day = meeting.local_starts_at.date().isoformat()
    return f"{_('attendance')}-{day}-{slug(meeting.title, 40) or meeting.id}.{extension}"
