"""The administrator's form of the site-wide settings."""

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from app.models import SiteSettings
from app.settings.services import MAX_EMBED_ORIGINS, InvalidOrigin, normalised_origin


def strip(value):
    return value.strip() if isinstance(value, str) else value


class SiteSettingsForm(FlaskForm):
    network_name = StringField(
        _l("Name of the network"), filters=[strip], validators=[Length(max=200)]
    )
    registration_consent = TextAreaField(
        _l("Consent sentence of the registration form"),
        filters=[strip],
        validators=[Length(max=2000)],
        render_kw={"rows": 5},
    )
    embed_origins = TextAreaField(
        _l("Sites allowed to show the agenda in a frame"),
        filters=[strip],
        validators=[Length(max=5000)],
        render_kw={"rows": 4, "spellcheck": "false", "autocapitalize": "off"},
    )

    @classmethod
    def for_settings(cls, settings: SiteSettings) -> "SiteSettingsForm":
        return cls(
            network_name=settings.network_name,
            registration_consent=settings.registration_consent,
            embed_origins=settings.embed_origins,
        )

    def validate_embed_origins(self, field) -> None:
        """Each line a site's address; the first wrong line named, so it can be found."""
        origins = []
        for number, line in enumerate((field.data or "").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                origins.append(normalised_origin(line))
            except InvalidOrigin as error:
                raise ValidationError(
                    _(
                        "Line %(number)s (“%(line)s”): %(reason)s.",
                        number=number,
                        line=line.strip(),
                        reason=error.reason,
                    )
                ) from error
        if len(set(origins)) > MAX_EMBED_ORIGINS:
            raise ValidationError(_("Give at most %(count)s sites.", count=MAX_EMBED_ORIGINS))
        self.origins = origins
