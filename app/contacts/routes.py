"""Contact pages: list and search, detail, create, edit, delete, CSV import and export."""

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.contacts import bp, importing, services
from app.contacts.forms import (
    ConfirmImportForm,
    ContactFilterForm,
    ContactForm,
    DeleteContactForm,
    ImportForm,
)
from app.contacts.labels import civility_label, kind_label
from app.contacts.normalise import FieldError
from app.extensions import db
from app.models import Contact, Organisation
from app.sqltypes import utcnow

# Both blueprints' templates show these labels; the contacts blueprint registers them app-wide.
bp.add_app_template_filter(kind_label, "organisation_kind")
bp.add_app_template_filter(civility_label, "civility")


@bp.get("/")
def list_contacts():
    form = ContactFilterForm(request.args)
    filters = form.filters()
    page = db.paginate(
        services.contact_list_query(filters), per_page=current_app.config["PAGE_SIZE"]
    )
    organisation = (
        db.session.get(Organisation, filters.organisation_id) if filters.organisation_id else None
    )
    export_arguments = {key: value for key, value in request.args.items() if key != "page"}
    return render_template(
        "contacts/list.html",
        form=form,
        filters=filters,
        page=page,
        organisation=organisation,
        export_arguments=export_arguments,
    )


@bp.get("/export.csv")
def export_contacts():
    filters = ContactFilterForm(request.args).filters()
    content = services.export_csv(filters)
    filename = f"contacts-{utcnow():%Y-%m-%d}.csv"
    return Response(
        content.encode("utf-8"),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.get("/<int:contact_id>")
def show_contact(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    return render_template("contacts/show.html", contact=contact)


@bp.route("/new", methods=["GET", "POST"])
def new_contact():
    form = ContactForm(organisation_id=request.args.get("organisation", ""))
    if form.validate_on_submit():
        try:
            contact = services.create_contact(form.contact_data(), current_user, utcnow())
        except FieldError as error:
            error.show_on(form)
        else:
            db.session.commit()
            flash(_("Contact %(name)s created.", name=contact.full_name), "success")
            return redirect(url_for(".show_contact", contact_id=contact.id))
    return render_template("contacts/form.html", form=form, contact=None)


@bp.route("/<int:contact_id>/edit", methods=["GET", "POST"])
def edit_contact(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    form = ContactForm(obj=contact)
    if form.validate_on_submit():
        try:
            services.update_contact(contact, form.contact_data(), current_user, utcnow())
        except FieldError as error:
            error.show_on(form)
        else:
            db.session.commit()
            flash(_("Contact %(name)s saved.", name=contact.full_name), "success")
            return redirect(url_for(".show_contact", contact_id=contact.id))
    return render_template("contacts/form.html", form=form, contact=contact)


@bp.route("/<int:contact_id>/delete", methods=["GET", "POST"])
def delete_contact(contact_id: int):
    contact = db.get_or_404(Contact, contact_id)
    form = DeleteContactForm()
    if form.validate_on_submit():
        name = contact.full_name
        services.delete_contact(contact)
        db.session.commit()
        flash(_("Contact %(name)s deleted.", name=name), "success")
        return redirect(url_for(".list_contacts"))
    return render_template("contacts/delete.html", contact=contact, form=form)


@bp.route("/import", methods=["GET", "POST"])
def import_contacts():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        try:
            preview, pending = importing.start_import(
                upload.read(), upload.filename or "", current_user, utcnow()
            )
        except importing.ImportFileError as error:
            form.file.errors.append(error.message)
        else:
            db.session.commit()
            if pending:
                flash(_("Nothing is imported yet: check the preview, then confirm."), "info")
            return render_template(
                "contacts/import_preview.html",
                preview=preview,
                pending=pending,
                filename=upload.filename or "",
                form=ConfirmImportForm(),
            )
    return render_template("contacts/import.html", form=form)


@bp.post("/import/<int:import_id>")
def confirm_import(import_id: int):
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400)
    now = utcnow()
    pending = importing.pending_import(import_id, current_user, now)
    if pending is None:
        flash(
            _("This import is no longer waiting: it was already done, or it has expired."),
            "error",
        )
        return redirect(url_for(".import_contacts"))
    filename = pending.filename
    preview = importing.confirm_import(pending, current_user, now)
    db.session.commit()
    if not preview.applied:
        flash(_("Nothing was imported: the directory has changed since the preview."), "error")
        return render_template(
            "contacts/import_preview.html", preview=preview, pending=None, filename=filename
        )
    flash(preview.summary, "success")
    return redirect(url_for(".list_contacts", sort="-updated"))
