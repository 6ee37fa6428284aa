"""The site-wide settings an administrator edits: read by the public pages, the registration
form and the embeddable agenda."""

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import SiteSettings

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
