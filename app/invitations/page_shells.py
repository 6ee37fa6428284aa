"""Pages rendered once per state, then filled in for each person.

The invitee's page is the most opened page of the application, and rendering its template
(translated labels, formatted dates, URLs) was most of its cost. Most invitees of a meeting see
the same page but for a few values: their name, their link, their answer's time and comment,
the CSRF token. A shell is the page rendered once for a state, each such value written as a
slot; the next person in the same state gets the shell with their own values, escaped, in the
slots.

A slot is either a marker (a random word the page cannot otherwise contain, given to the
template in place of the value) or a random value the first rendering held (its link token, its
CSRF token), which no other text of the page can contain either.
"""

import re
import secrets
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass

from markupsafe import escape


def marker() -> str:
    """A word that survives escaping, translation and URL building unchanged, and that no text
    typed by anyone can hold: 128 random bits, drawn for each process."""
    return f"slot{secrets.token_hex(16)}"


@dataclass(frozen=True)
class Shell:
    # The page cut at its slots: text, slot name, text, slot name... text.
    pieces: tuple[str, ...]

    def fill(self, values: Mapping[str, str]) -> str:
        """The page with `values` (HTML, already escaped) in its slots."""
        pieces = list(self.pieces)
        pieces[1::2] = [values[name] for name in pieces[1::2]]
        return "".join(pieces)


def cut(html: str, slots: Mapping[str, str]) -> Shell:
    """`html` cut where it holds the text of `slots` (slot name → text as rendered)."""
    names = {text: name for name, text in slots.items() if text}
    if not names:
        return Shell((html,))
    pattern = re.compile("|".join(map(re.escape, names)))
    pieces = []
    start = 0
    for found in pattern.finditer(html):
        pieces += [html[start : found.start()], names[found.group()]]
        start = found.end()
    pieces.append(html[start:])
    return Shell(tuple(pieces))


class ShellCache:
    """Shells by state, at most `size` of them (all are dropped when it is full: the states
    of the meetings open at one time are few)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.shells: dict[Hashable, Shell] = {}

    def page(
        self,
        state: Hashable,
        render: Callable[[], tuple[str, dict[str, str]]],
        values: Mapping[str, str],
    ) -> str:
        """The page of `state` with `values` (plain text, escaped here) in its slots.
        `render()` renders the page and returns it with the text of each slot in it (slot
        name → marker or value, as rendered)."""
        shell = self.shells.get(state)
        if shell is None:
            html, slots = render()
            shell = cut(html, slots)
            if len(self.shells) >= self.size:
                self.shells.clear()
            self.shells[state] = shell
        return shell.fill({name: str(escape(value)) for name, value in values.items()})
