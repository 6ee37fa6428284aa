"""What the attendance record says of an invitation, in Python and in SQL: the one rule
every page, document, export and statistic follows."""

from sqlalchemy import case, literal

from app.models import Answer, Attendance, Invitation, Meeting


def attendance_of(invitation: Invitation, meeting: Meeting) -> Attendance | None:
    """The invitation's attendance: as marked, else derived from the answer. Before the
    record is closed, "coming" is expected and "not coming" excused; once closed, whoever was
    expected or never answered and was not marked is absent. People left on the waiting list
    were never expected: None."""
    if invitation.attendance is not None:
        return invitation.attendance
    closed = meeting.attendance_closed_at is not None
    if invitation.answer is Answer.COMING:
        return Attendance.ABSENT if closed else Attendance.EXPECTED
    if invitation.answer is Answer.NOT_COMING:
        return Attendance.EXCUSED
    if invitation.answer is Answer.NONE and closed and invitation.invited_at is not None:
        return Attendance.ABSENT
    return None


def attendance_column(meeting: Meeting):
    """attendance_of() as a SQL expression over Invitation (an Attendance, or NULL), for
    counts and filters in one query."""
    closed = meeting.attendance_closed_at is not None

    def value(attendance: Attendance):
        return literal(attendance, Invitation.attendance.type)

    whens = [
        (Invitation.attendance.is_not(None), Invitation.attendance),
        (
            Invitation.answer == Answer.COMING,
            value(Attendance.ABSENT if closed else Attendance.EXPECTED),
        ),
        (Invitation.answer == Answer.NOT_COMING, value(Attendance.EXCUSED)),
    ]
    if closed:
        unanswered = (Invitation.answer == Answer.NONE) & Invitation.invited_at.is_not(None)
        whens.append((unanswered, value(Attendance.ABSENT)))
    return case(*whens, else_=None)
