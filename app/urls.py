"""URL helpers shared by the blueprints."""

from urllib.parse import urlsplit

from flask import current_app


def safe_next_url(target: str | None) -> str | None:
    """`target` when it is a path on this site, else None (no open redirect to other hosts)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target


def absolute_url(endpoint: str, **values) -> str:
    """An absolute URL on BASE_URL, usable in e-mails, commands and jobs (no request needed)."""
    base = urlsplit(current_app.config["BASE_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme or "https"
    )
    return adapter.build(endpoint, values, force_external=True)
