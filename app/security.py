"""HTTP security headers sent with every response, and personal-link tokens kept out of logs."""

import logging
import re
from collections.abc import Iterable

from flask import Flask, Response

_POLICY_WITHOUT_FRAMING = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
]

# One site allowed to frame a page: scheme, host (whose first label may be "*"), optional port.
# Nothing else can match: no path, quote, space, comma or ";" that would change the policy.
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
FRAME_ANCESTOR = re.compile(rf"https?://(?:\*\.)?{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?")


def content_security_policy(frame_ancestors: Iterable[str] = ()) -> str:
    """Our pages' policy, which only the sites of `frame_ancestors` may frame ('none' when
    empty). A source that is not a plain origin is left out: settings are checked when saved,
    and this keeps a bad value already stored from reaching the header."""
    allowed = [source for source in frame_ancestors if FRAME_ANCESTOR.fullmatch(source)]
    sources = " ".join(allowed) or "'none'"
    return "; ".join([*_POLICY_WITHOUT_FRAMING, f"frame-ancestors {sources}"])


CONTENT_SECURITY_POLICY = content_security_policy()


def allows_framing(policy: str) -> bool:
    """Whether the policy names sites that may frame the page."""
    for directive in policy.split(";"):
        name, _space, sources = directive.strip().partition(" ")
        if name.lower() == "frame-ancestors":
            return sources.strip() != "'none'"
    return False


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # X-Frame-Options can only say "nobody" or "this site": a page whose policy lets other
    # sites frame it (the embeddable agenda) leaves it out, as browsers then follow the policy.
    if not allows_framing(response.headers["Content-Security-Policy"]):
        response.headers.setdefault("X-Frame-Options", "DENY")
    return response


# The path of every personal link: /i/<token>, /i/<token>/calendar.ics..., and the
# confirmation link of a registration, /r/<token>.
_PERSONAL_LINK = re.compile(r"/(?P<kind>[ir])/[^/\s?#\"']+")
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
        redacted = _PERSONAL_LINK.sub(r"/\g<kind>/[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def install_log_redaction(app: Flask) -> None:
    """Add the filter to the request loggers and the app's logger, once per logger."""
    for logger in [*(logging.getLogger(name) for name in REDACTED_LOGGERS), app.logger]:
        if not any(isinstance(existing, RedactPersonalLinks) for existing in logger.filters):
            logger.addFilter(RedactPersonalLinks())
