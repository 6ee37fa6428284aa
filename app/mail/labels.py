"""Words shown for the outbox's statuses and for the reasons delivery records, translated."""

from flask_babel import lazy_gettext as _l

from app.mail.delivery import OUTCOME_UNKNOWN, WORKER_STOPPED
from app.models import MessageStatus

STATUS_LABELS = {
    MessageStatus.QUEUED: _l("Queued"),
    MessageStatus.CLAIMED: _l("Being prepared"),
    MessageStatus.SENDING: _l("Sending"),
    MessageStatus.SENT: _l("Sent"),
    MessageStatus.FAILED: _l("Failed"),
}

# last_error holds the SMTP server's reply, or one of these reasons written by delivery.
ERROR_LABELS = {
    OUTCOME_UNKNOWN: _l(
        "Connection lost while handing the message over: outcome unknown, check and retry."
    ),
    WORKER_STOPPED: _l("Worker stopped while sending: outcome unknown, check and retry."),
}


def status_label(status: MessageStatus) -> str:
    return str(STATUS_LABELS[status])


def error_label(error: str) -> str:
    return str(ERROR_LABELS.get(error, error))
