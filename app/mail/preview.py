"""An e-mail's HTML part shown in a frame of an organiser's page (the previews of the
invitation, reminder and series e-mails)."""

from flask import Response

PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "frame-ancestors 'self'; form-action 'none'; base-uri 'none'"
)


def preview_frame(html: str) -> Response:
    """`html` with a policy of its own (its styles are inline), framed by our pages only."""
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = PREVIEW_POLICY
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
