"""HTTP security headers sent with every response, and personal-link tokens kept out of logs."""

import logging
import re

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


# The path of every personal link: /i/<token>, /i/<token>/calendar.ics...
_PERSONAL_LINK = re.compile(r"/i/[^/\s?#\"']+")
# The request logs of the development server and gunicorn, and Flask's own error log, which
# names the path of a failed request.
REDACTED_LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error")


class RedactPersonalLinks(logging.Filter):
    """Rewrites /i/<token> into /i/[redacted]: a token in a log file opens someone's answer."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            # A malformed call: left for the handler to report, as logging does without us.
            return True
        redacted = _PERSONAL_LINK.sub("/i/[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install_log_redaction(app: Flask) -> None:
    """Add the filter to the request loggers and the app's logger, once per logger."""
    for logger in [*(logging.getLogger(name) for name in REDACTED_LOGGERS), app.logger]:
        if not any(isinstance(existing, RedactPersonalLinks) for existing in logger.filters):
            logger.addFilter(RedactPersonalLinks())
