"""The site-wide settings an administrator edits: read by the public pages, the registration
form and the embeddable agenda."""

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import SiteSettings
from app.security import FRAME_ANCESTOR

SETTINGS_ID = 1


def current_settings() -> SiteSettings:
    """The settings row, or unsaved defaults when none was saved yet: reading never writes."""
    settings = db.session.scalar(select(SiteSettings).where(SiteSettings.id == SETTINGS_ID))
    if settings is None:
        settings = SiteSettings(
            id=SETTINGS_ID, network_name="", registration_consent="", embed_origins=""
        )
    return settings


def default_consent() -> str:
    return _(
        "The details you give are used only to organise this meeting and the network's "
        "meetings: the organisers see them and send you e-mails about your registration. "
        "They are kept as long as you take part in the network's meetings, and at most three "
        "years after your last meeting. You may ask the organisers to correct or delete them "
        "at any time."
    )


def consent_sentence(settings: SiteSettings | None = None) -> str:
    """The sentence under the public registration form: the administrator's, or the default."""
    settings = settings or current_settings()
    return settings.registration_consent.strip() or default_consent()


def embed_origins(settings: SiteSettings | None = None) -> list[str]:
    """The origins allowed to frame the embeddable agenda, one per line in the settings."""
    settings = settings or current_settings()
    return [line.strip() for line in settings.embed_origins.splitlines() if line.strip()]


# Saving


# At most this many sites may frame the agenda: each is written into every embed response's
# header.
MAX_EMBED_ORIGINS = 20
DEFAULT_PORTS = {"http": 80, "https": 443}


class InvalidOrigin(ValueError):
    """A line of the allowed sites that is not a site's address; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def normalised_origin(text: str) -> str:
    """The origin a line names, as a Content-Security-Policy source: "HTTPS://Www.Example.org/"
    gives "https://www.example.org"; "https://*.example.org" stands for its subdomains.
    Raises InvalidOrigin."""
    scheme, separator, rest = text.strip().partition("://")
    scheme = scheme.lower()
    if not separator or scheme not in DEFAULT_PORTS:
        raise InvalidOrigin(_("write the address with https:// (or http://) before the name"))
    # One final "/" is what browsers show after a site's name; anything more is a page.
    rest = rest.removesuffix("/")
    if any(character in rest for character in "/?#"):
        raise InvalidOrigin(_("give the site's address only, without a page after the name"))
    host, colon, port = rest.partition(":")
    host = _ascii_host(host.lower())
    if colon:
        if not port.isascii() or not port.isdigit() or not 0 < int(port) <= 65535:
            raise InvalidOrigin(_("the port after the name must be a number from 1 to 65535"))
        port = "" if int(port) == DEFAULT_PORTS[scheme] else f":{int(port)}"
    origin = f"{scheme}://{host}{port}"
    if not FRAME_ANCESTOR.fullmatch(origin):
        raise InvalidOrigin(_("this is not the name of a site"))
    return origin


def _ascii_host(host: str) -> str:
    """The host in ASCII as the policy needs it (IDNA for accented names); "*." only first,
    before at least two labels, so that a wildcard never stands for a whole domain extension."""
    wildcard = host.startswith("*.")
    labels = host.removeprefix("*.").split(".")
    if "*" in "".join(labels) or (wildcard and len(labels) < 2):
        raise InvalidOrigin(
            _("a * may only replace the first part of a name, as in https://*.example.org")
        )
    try:
        ascii_labels = [label.encode("idna").decode("ascii") for label in labels]
    except UnicodeError as error:
        raise InvalidOrigin(_("this is not the name of a site")) from error
    return ("*." if wildcard else "") + ".".join(ascii_labels)


def save_settings(network_name: str, registration_consent: str, origins: list[str]) -> SiteSettings:
    """Save the settings, creating their row the first time; `origins` already normalised."""
    settings = db.session.get(SiteSettings, SETTINGS_ID)
    if settings is None:
        settings = SiteSettings(id=SETTINGS_ID)
        db.session.add(settings)
    settings.network_name = network_name.strip()
    settings.registration_consent = registration_consent.strip()
    settings.embed_origins = "\n".join(dict.fromkeys(origins))
    db.session.flush()
    return settings
