"""Text helpers shared by every domain: accent- and case-insensitive keys for search and sorting."""

import re
import unicodedata

from sqlalchemy import ColumnElement, or_

_SPACES = re.compile(r"\s+")
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def fold(text: str | None) -> str:
    """Lower-case, accent-free, single-spaced form of `text`: "  Chenôve " -> "chenove"."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    without_accents = "".join(c for c in decomposed if not unicodedata.combining(c))
    without_accents = without_accents.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    return _SPACES.sub(" ", without_accents.casefold()).strip()


def slug(text: str | None, length: int = 60) -> str:
    """`text` as a file name part: "Réunion du 5 juin" -> "reunion-du-5-juin"."""
    return _NOT_SLUG.sub("-", fold(text)).strip("-")[:length].rstrip("-")


def like_pattern(query: str) -> str:
    """A LIKE pattern matching `query` anywhere in a folded key, with LIKE's wildcards escaped."""
    escaped = fold(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def matches_folded(query: str, *keys) -> ColumnElement[bool]:
    """SQL condition: the folded `query` appears in one of these folded key columns."""
    pattern = like_pattern(query)
    return or_(*(key.like(pattern, escape="\\") for key in keys))
