"""URL helpers shared by the blueprints."""

from urllib.parse import urlsplit


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
