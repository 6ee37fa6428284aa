"""Organisation pages: list and search, detail with its contacts, create, edit, delete."""

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.contacts.normalise import FieldError
from app.extensions import db
from app.models import Organisation
from app.organisations import bp, services
from app.organisations.forms import (
    DeleteOrganisationForm,
    OrganisationFilterForm,
    OrganisationForm,
)
from app.sqltypes import utcnow

# The detail page shows this many contacts, then links to the contact list for the rest.
CONTACTS_SHOWN = 20


@bp.get("/")
def list_organisations():
    form = OrganisationFilterForm(request.args)
    filters = form.filters()
    page = db.paginate(
        services.organisation_list_query(filters), per_page=current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "organisations/list.html",
        form=form,
        filters=filters,
        page=page,
        to_review=services.count_to_review(),
    )


@bp.get("/<int:organisation_id>")
def show_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    return render_template(
        "organisations/show.html",
        organisation=organisation,
        contacts=services.first_contacts(organisation, CONTACTS_SHOWN),
        contact_total=services.count_contacts(organisation),
    )


@bp.route("/new", methods=["GET", "POST"])
def new_organisation():
    form = OrganisationForm()
    if form.validate_on_submit():
        try:
            organisation = services.create_organisation(form.organisation_data(), utcnow())
        except FieldError as error:
            error.show_on(form)
        else:
            db.session.commit()
            flash(_("Organisation %(name)s created.", name=organisation.name), "success")
            return redirect(url_for(".show_organisation", organisation_id=organisation.id))
    return render_template("organisations/form.html", form=form, organisation=None)


@bp.route("/<int:organisation_id>/edit", methods=["GET", "POST"])
def edit_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        try:
            services.update_organisation(organisation, form.organisation_data(), utcnow())
        except FieldError as error:
            error.show_on(form)
        else:
            db.session.commit()
            flash(_("Organisation %(name)s saved.", name=organisation.name), "success")
            return redirect(url_for(".show_organisation", organisation_id=organisation.id))
    return render_template("organisations/form.html", form=form, organisation=organisation)


@bp.route("/<int:organisation_id>/delete", methods=["GET", "POST"])
def delete_organisation(organisation_id: int):
    organisation = db.get_or_404(Organisation, organisation_id)
    form = DeleteOrganisationForm()
    if form.validate_on_submit():
        name = organisation.name
        try:
            detached = services.delete_organisation(
                organisation, current_user, utcnow(), detach_contacts=form.detach_contacts.data
            )
        except FieldError as error:
            flash(error.message, "error")
        else:
            db.session.commit()
            flash(_("Organisation %(name)s deleted.", name=name), "success")
            if detached:
                flash(
                    ngettext(
                        "Its contact stays in the directory, without an organisation.",
                        "Its %(num)s contacts stay in the directory, without an organisation.",
                        detached,
                    ),
                    "info",
                )
            return redirect(url_for(".list_organisations"))
    return render_template(
        "organisations/delete.html",
        organisation=organisation,
        form=form,
        contact_total=services.count_contacts(organisation),
    )


@bp.post("/<int:organisation_id>/reviewed")
def mark_reviewed(organisation_id: int):
    """The organisation, added by a public registration, is checked: it loses its marker."""
    organisation = db.get_or_404(Organisation, organisation_id)
    services.mark_reviewed(organisation, utcnow())
    db.session.commit()
    flash(_("Organisation %(name)s is reviewed.", name=organisation.name), "success")
    return redirect(url_for(".show_organisation", organisation_id=organisation.id))
