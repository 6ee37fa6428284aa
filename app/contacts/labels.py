"""Labels of the directory's choices (organisation kinds, civilities), in one place for forms,
lists and CSV files, and the reading of those labels back from what people type in a file."""

import enum
import re
from collections.abc import Iterable, Mapping

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from app.models import Civility, Contact, OrganisationKind
from app.text import fold

ORGANISATION_KIND_LABELS = {
    OrganisationKind.SOCIAL_CENTRE: _l("Social centre"),
    OrganisationKind.SCHOOL: _l("School"),
    OrganisationKind.CCAS: _l("Municipal social action centre (CCAS)"),
    OrganisationKind.SCHOOL_FUND: _l("School fund (caisse des écoles)"),
    OrganisationKind.ASSOCIATION: _l("Association"),
    OrganisationKind.FEDERATION: _l("Federation"),
    OrganisationKind.LOCAL_AUTHORITY: _l("Local authority"),
    OrganisationKind.STATE_SERVICE: _l("State service"),
    OrganisationKind.OTHER: _l("Other"),
}

CIVILITY_LABELS = {
    Civility.MS: _l("Ms"),
    Civility.MR: _l("Mr"),
}

# The French names from the issue and the usual spellings in French spreadsheets: a file must
# be read the same way whether or not the French catalogue has been compiled.
FRENCH_SPELLINGS: dict[enum.Enum, tuple[str, ...]] = {
    OrganisationKind.SOCIAL_CENTRE: ("centre social", "centres sociaux"),
    OrganisationKind.SCHOOL: ("établissement scolaire", "école", "collège", "lycée"),
    OrganisationKind.CCAS: ("CCAS", "centre communal d'action sociale"),
    OrganisationKind.SCHOOL_FUND: ("caisse des écoles",),
    OrganisationKind.ASSOCIATION: ("association",),
    OrganisationKind.FEDERATION: ("fédération",),
    OrganisationKind.LOCAL_AUTHORITY: ("collectivité", "collectivité territoriale", "mairie"),
    OrganisationKind.STATE_SERVICE: ("service de l'État", "État"),
    OrganisationKind.OTHER: ("autre",),
    Civility.MS: ("Mme", "Madame", "Mrs", "Miss"),
    Civility.MR: ("M.", "Monsieur", "Mr."),
}

_NOT_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")


def squash(text: str) -> str:
    """Folded `text` without spaces or punctuation: "Adresse e-mail" -> "adresseemail"."""
    return _NOT_ALPHANUMERIC.sub("", fold(text))


def select_choices(pairs: Iterable[tuple[str, object]]) -> list[SelectChoice]:
    """(value, label) pairs as the options of a form's <select>."""
    return [SelectChoice(value=value, label=label) for value, label in pairs]


def kind_choices() -> list[SelectChoice]:
    return select_choices((kind.value, label) for kind, label in ORGANISATION_KIND_LABELS.items())


def civility_choices() -> list[SelectChoice]:
    return select_choices((civility.value, label) for civility, label in CIVILITY_LABELS.items())


def kind_label(kind: OrganisationKind | None) -> str:
    return str(ORGANISATION_KIND_LABELS[kind]) if kind else ""


def civility_label(civility: Civility | None) -> str:
    return str(CIVILITY_LABELS[civility]) if civility else ""


class ChoiceReader:
    """Reads a kind or a civility from a file cell: a stored value, a label in any of the
    application's languages, or a usual French spelling, ignoring case, accents and punctuation.
    """

    def __init__(self) -> None:
        self.kinds = self._spellings(ORGANISATION_KIND_LABELS)
        self.civilities = self._spellings(CIVILITY_LABELS)

    def kind(self, text: str) -> OrganisationKind | None:
        return self.kinds.get(squash(text))

    def civility(self, text: str) -> Civility | None:
        return self.civilities.get(squash(text))

    @staticmethod
    def _spellings(labels: Mapping[enum.Enum, object]) -> dict[str, enum.Enum]:
        spellings: dict[str, enum.Enum] = {}
        for member, label in labels.items():
            for spelling in _all_spellings(member, label):
                spellings.setdefault(squash(spelling), member)
        return spellings


def _all_spellings(member: enum.Enum, label: object) -> Iterable[str]:
    yield member.value
    yield from FRENCH_SPELLINGS.get(member, ())
    for language in current_app.config["LANGUAGES"]:
        with force_locale(language):
            yield str(label)


def greeting(contact: Contact) -> str:
    """The opening of an e-mail: "Bonjour Mme Dupont," with a civility, else the full name."""
    if contact.civility is Civility.MS and contact.last_name:
        return _("Hello Ms %(name)s,", name=contact.last_name)
    if contact.civility is Civility.MR and contact.last_name:
        return _("Hello Mr %(name)s,", name=contact.last_name)
    if contact.full_name:
        return _("Hello %(name)s,", name=contact.full_name)
    return _("Hello,")
