"""The organiser's attendance documents: sign-in sheet, certificates, minutes block, exports."""

from datetime import UTC, datetime

from flask import Response, abort, flash, redirect, render_template, request, url_for

from app.attendance import bp, documents
from app.extensions import db
from app.meetings.access import managed_meeting_or_abort
from app.models import Invitation, Meeting

DOCUMENTS = "/<int:meeting_id>/attendance"
EXPORT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@bp.errorhandler(documents.DocumentUnavailable)
def refuse_document(error: documents.DocumentUnavailable):
    """A document this meeting cannot have yet (a draft's sign-in sheet...): say so, go back."""
    flash(str(error), "error")
    return redirect(url_for("meetings.show_meeting", meeting_id=request.view_args["meeting_id"]))


def download(content: bytes | str, mimetype: str, filename: str) -> Response:
    response = Response(content, mimetype=mimetype)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


@bp.get(f"{DOCUMENTS}/sign-in-sheet.pdf")
def sign_in_sheet(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    version = request.args.get("version", "expected")
    if version not in documents.SHEET_VERSIONS:
        abort(404)
    content = documents.sign_in_sheet_pdf(meeting, version, datetime.now(UTC))
    return download(content, "application/pdf", documents.sign_in_sheet_filename(meeting, version))


@bp.get(f"{DOCUMENTS}/certificates/<int:invitation_id>.pdf")
def certificate(meeting_id: int, invitation_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    invitation = meeting_invitation_or_404(meeting, invitation_id)
    try:
        content = documents.certificate_pdf(meeting, invitation, datetime.now(UTC))
    except documents.DocumentUnavailable:
        # Only people marked present have a certificate: there is nothing at this address.
        abort(404)
    return download(content, "application/pdf", documents.certificate_filename(invitation))


@bp.get(f"{DOCUMENTS}/certificates.zip")
def certificates(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    content = documents.certificates_zip(meeting, datetime.now(UTC))
    return download(content, "application/zip", documents.certificates_zip_filename(meeting))


@bp.get(f"{DOCUMENTS}/export.<any(csv, xlsx):file_type>")
def export(meeting_id: int, file_type: str):
    meeting = managed_meeting_or_abort(meeting_id)
    if file_type == "csv":
        content = documents.attendance_csv(meeting).encode("utf-8")
    else:
        content = documents.attendance_xlsx(meeting)
    filename = documents.export_filename(meeting, file_type)
    return download(content, EXPORT_TYPES[file_type], filename)


@bp.get(f"{DOCUMENTS}/minutes")
def minutes(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    text, html = documents.minutes_block(meeting)
    return render_template(
        "attendance/minutes.html",
        meeting=meeting,
        text=text,
        html=html,
        closed=meeting.attendance_closed_at is not None,
    )


def meeting_invitation_or_404(meeting: Meeting, invitation_id: int) -> Invitation:
    invitation = db.get_or_404(Invitation, invitation_id)
    if invitation.meeting_id != meeting.id:
        abort(404)
    return invitation
