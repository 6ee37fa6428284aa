"""The administrator's page of the site-wide settings."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.auth.access import admin_required
from app.extensions import db
from app.settings import bp, services
from app.settings.forms import SiteSettingsForm
from app.urls import absolute_url


@bp.route("/settings", methods=["GET", "POST"])
@admin_required
def edit_settings():
    settings = services.current_settings()
    form = SiteSettingsForm.for_settings(settings)
    if form.validate_on_submit():
        services.save_settings(
            form.network_name.data or "", form.registration_consent.data or "", form.origins
        )
        db.session.commit()
        flash(_("The settings are saved."), "success")
        return redirect(url_for("settings.edit_settings"))
    return render_template(
        "settings/edit.html",
        form=form,
        default_consent=services.default_consent(),
        agenda_url=absolute_url("agenda.agenda"),
        embed_url=absolute_url("agenda.embedded_agenda"),
    )
