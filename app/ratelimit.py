"""Rate limits per client address, for the invitees' link pages.

One counter per address and scope in RATELIMIT_STORAGE_URI: in memory by default (each process
counting its own), in Redis when REDIS_URL is set (all workers sharing it). The `limits`
library directly, rather than through Flask-Limiter: one counter update per request, where the
extension evaluated every route's limits twice, a tenth of the invitee's page's time.
"""

import functools
import time
from collections.abc import Callable

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

EXTENSION = "rencontres_rate_limits"


def init_app(app: Flask) -> None:
    storage = storage_from_string(app.config["RATELIMIT_STORAGE_URI"])
    app.extensions[EXTENSION] = FixedWindowRateLimiter(storage)


@functools.lru_cache(maxsize=16)
def limit_of(setting: str) -> RateLimitItem:
    return parse(setting)


def check(scope: str, setting: str) -> None:
    """Count a request of this address in `scope`; refuse it with 429 (and Retry-After) once
    there are more than the configuration `setting` allows, say "60 per minute"."""
    limiter: FixedWindowRateLimiter = current_app.extensions[EXTENSION]
    limit = limit_of(current_app.config[setting])
    address = request.remote_addr or "unknown"
    if not limiter.hit(limit, scope, address):
        window = limiter.get_window_stats(limit, scope, address)
        raise TooManyRequests(retry_after=max(1, int(window.reset_time - time.time())))


def limited(scope: str, setting: str) -> Callable[[Callable], Callable]:
    """Decorate views that share one budget per address: trying tokens on one of them does not
    get more attempts than on all of them."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def checked(*args, **kwargs):
            check(scope, setting)
            return view(*args, **kwargs)

        return checked

    return decorate
