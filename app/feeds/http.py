"""The HTTP side of feeds: a calendar answered with its validators, or 304 when unchanged."""

import hashlib

from flask import Response, request

from app.feeds.services import Feed

# Private: the address is a secret, no shared cache may keep it. no-cache: calendar apps ask
# again each time, and get 304 while nothing changed.
CACHE_CONTROL = "private, no-cache"


def calendar_response(feed: Feed, filename: str) -> Response:
    """The feed with an ETag (the SHA-256 of its text: language, answers and meetings all in
    it) and a Last-Modified; 304 without a body when the request's validators still match."""
    response = Response(feed.content, mimetype="text/calendar")
    response.headers.set("Content-Disposition", "inline", filename=filename)
    response.headers["Cache-Control"] = CACHE_CONTROL
    response.set_etag(hashlib.sha256(feed.content.encode()).hexdigest())
    if feed.last_modified is not None:
        response.last_modified = feed.last_modified
    return response.make_conditional(request)
