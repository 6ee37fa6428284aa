"""Working group pages: the list, the group page, the form, archiving, and the members."""

from datetime import UTC, date, datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.attendance.services import ATTENDANCE_LABELS
from app.contacts import importing
from app.contacts.forms import ContactFilterForm
from app.contacts.normalise import FieldError
from app.contacts.services import contact_list_query
from app.extensions import db
from app.formatting import default_zone, format_day
from app.groups import bp, services
from app.groups.forms import (
    AddAllMembersForm,
    AddMembersForm,
    ConfirmForm,
    ConfirmMembersImportForm,
    GroupFilterForm,
    GroupForm,
    ImportMembersForm,
    LeaveForm,
    PasteMembersForm,
    RoleForm,
)
from app.mail.delivery import request_delivery
from app.meetings.access import acting_user
from app.meetings.services import STATUS_LABELS
from app.models import Group, GroupMembership, GroupRole


@bp.context_processor
def group_labels() -> dict:
    return {
        "role_labels": services.ROLE_LABELS,
        "attendance_labels": ATTENDANCE_LABELS,
        "status_labels": STATUS_LABELS,
        "calendar_day": calendar_day,
    }


@bp.errorhandler(services.GroupStateError)
def refuse_in_this_state(error: services.GroupStateError):
    """An action the group's state forbids: say so, back to the group."""
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for("groups.show_group", group_id=request.view_args["group_id"]))


def now() -> datetime:
    return datetime.now(UTC)


def today() -> date:
    """Today where the network is (TIMEZONE), the default day of joining and leaving."""
    return datetime.now(default_zone()).date()


def calendar_day(day: date) -> str:
    """A date without a time, in the house style: "mardi 5 juin 2018"."""
    return format_day(datetime(day.year, day.month, day.day, 12, tzinfo=default_zone()))


def managed_group_or_abort(group_id: int) -> Group:
    """The group, if the current user may change it: 404 when missing, 403 when not theirs."""
    group = db.get_or_404(Group, group_id)
    if not services.can_manage(current_user, group):
        abort(403)
    return group


def membership_or_404(group: Group, membership_id: int) -> GroupMembership:
    """One membership of this group: another group's is as good as missing."""
    membership = db.get_or_404(GroupMembership, membership_id)
    if membership.group_id != group.id:
        abort(404)
    return membership


def to_group(group: Group):
    return redirect(url_for("groups.show_group", group_id=group.id))


def flash_added(added: int, already: int) -> None:
    message = ngettext(
        "%(num)s person added to the group.", "%(num)s people added to the group.", added
    )
    if already:
        message += " " + ngettext(
            "%(num)s was already a member.", "%(num)s were already members.", already
        )
    flash(message, "success" if added else "info")


def invite_newcomers(group: Group, form, contact_ids: list[int]) -> int:
    """When the organiser asked for it, invite the people who just joined to the group's
    upcoming published meetings; returns how many invitation e-mails were queued."""
    if not form.invite_upcoming.data:
        return 0
    return services.invite_to_upcoming_meetings(
        group, contact_ids, form.joined_on.data, acting_user(), now()
    )


def flash_queued(queued: int) -> None:
    if queued:
        request_delivery()
        flash(
            ngettext(
                "%(num)s invitation to the group's upcoming meetings is on its way.",
                "%(num)s invitations to the group's upcoming meetings are on their way.",
                queued,
            ),
            "success",
        )


# The group list and pages


@bp.get("/")
def list_groups():
    form = GroupFilterForm(formdata=request.args)
    filters = form.filters()
    page = db.paginate(services.group_list_query(filters), per_page=current_app.config["PAGE_SIZE"])
    counts = services.member_counts((group.id for group in page.items), today())
    return render_template(
        "groups/list.html", form=form, filters=filters, page=page, member_counts=counts
    )


@bp.get("/<int:group_id>")
def show_group(group_id: int):
    group = db.get_or_404(Group, group_id)
    moment = now()
    return render_template(
        "groups/show.html",
        group=group,
        overview=services.group_overview(group, moment),
        can_manage=services.can_manage(current_user, group),
        now=moment,
    )


@bp.route("/new", methods=["GET", "POST"])
def new_group():
    form = GroupForm.for_new_group(current_user)
    if form.validate_on_submit():
        try:
            group = services.create_group(acting_user(), form.to_data(), now())
        except FieldError as error:
            error.show_on(form)
        else:
            db.session.commit()
            flash(_("Group %(name)s created.", name=group.name), "success")
            return to_group(group)
    return render_template("groups/form.html", form=form, group=None)


@bp.route("/<int:group_id>/edit", methods=["GET", "POST"])
def edit_group(group_id: int):
    group = managed_group_or_abort(group_id)
    form = GroupForm.for_group(group)
    if form.validate_on_submit():
        try:
            services.update_group(group, form.to_data(), now())
        except FieldError as error:
            db.session.rollback()
            error.show_on(form)
        else:
            db.session.commit()
            flash(_("Group %(name)s saved.", name=group.name), "success")
            return to_group(group)
    return render_template("groups/form.html", form=form, group=group)


@bp.route("/<int:group_id>/archive", methods=["GET", "POST"])
def archive_group(group_id: int):
    group = managed_group_or_abort(group_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.archive_group(group, now())
        db.session.commit()
        flash(_("Group %(name)s archived.", name=group.name), "success")
        return to_group(group)
    return render_template("groups/archive.html", form=form, group=group, archiving=True)


@bp.route("/<int:group_id>/unarchive", methods=["GET", "POST"])
def unarchive_group(group_id: int):
    group = managed_group_or_abort(group_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        services.unarchive_group(group, now())
        db.session.commit()
        flash(_("Group %(name)s is active again.", name=group.name), "success")
        return to_group(group)
    return render_template("groups/archive.html", form=form, group=group, archiving=False)


# Members


@bp.route("/<int:group_id>/members/add", methods=["GET", "POST"])
def add_members(group_id: int):
    group = managed_group_or_abort(group_id)
    services.check_open(group)
    filter_form = ContactFilterForm(formdata=request.args)
    filters = filter_form.filters()
    form = AddMembersForm()
    if not form.is_submitted():
        form.joined_on.data = today()
    if form.validate_on_submit():
        added_ids, already = services.join_group(
            group, form.contacts.data, form.chosen_role(), form.joined_on.data
        )
        queued = invite_newcomers(group, form, added_ids)
        db.session.commit()
        flash_added(len(added_ids), already)
        flash_queued(queued)
        return to_group(group)
    page = db.paginate(contact_list_query(filters), per_page=current_app.config["PAGE_SIZE"])
    return render_template(
        "groups/add_members.html",
        group=group,
        filter_form=filter_form,
        filters=filters,
        form=form,
        page=page,
        members=services.open_member_ids(group, (contact.id for contact in page.items)),
        search_arguments=search_arguments(),
    )


def search_arguments() -> dict[str, str]:
    """The directory search of the query string, without its page number."""
    return {key: value for key, value in request.args.items() if key != "page"}


@bp.route("/<int:group_id>/members/add-all", methods=["GET", "POST"])
def add_all_members(group_id: int):
    group = managed_group_or_abort(group_id)
    services.check_open(group)
    filters = ContactFilterForm(formdata=request.args).filters()
    contact_ids = services.matching_contact_ids(filters)
    form = AddAllMembersForm()
    if not form.is_submitted():
        form.joined_on.data = today()
    if form.validate_on_submit():
        if form.expected_count() == len(contact_ids):
            added_ids, already = services.join_group(
                group, contact_ids, form.chosen_role(), form.joined_on.data
            )
            queued = invite_newcomers(group, form, added_ids)
            db.session.commit()
            flash_added(len(added_ids), already)
            flash_queued(queued)
            return to_group(group)
        flash(
            _("The directory has changed since: check the number of people, then confirm."),
            "error",
        )
    form.expected.data = str(len(contact_ids))
    return render_template(
        "groups/add_all_members.html",
        group=group,
        form=form,
        total=len(contact_ids),
        already=len(services.open_member_ids(group, contact_ids)),
        search_arguments=search_arguments(),
    )


@bp.route("/<int:group_id>/members/paste", methods=["GET", "POST"])
def paste_members(group_id: int):
    group = managed_group_or_abort(group_id)
    services.check_open(group)
    form = PasteMembersForm()
    if not form.is_submitted():
        form.joined_on.data = today()
    result = None
    if form.validate_on_submit():
        result = services.add_members_by_email(
            group, form.addresses.data, form.chosen_role(), form.joined_on.data
        )
        queued = invite_newcomers(group, form, result.added_ids)
        db.session.commit()
        if result.added or result.already:
            flash_added(result.added, result.already)
            flash_queued(queued)
        if not result.unknown and not result.invalid:
            if result.added or result.already:
                return to_group(group)
            form.addresses.errors = [_("Paste at least one e-mail address.")]
        # What could not be added stays in the box, to correct, or to add to the directory.
        form.addresses.data = "\n".join([*result.unknown, *result.invalid])
    return render_template("groups/paste_members.html", group=group, form=form, result=result)


@bp.route("/<int:group_id>/members/import", methods=["GET", "POST"])
def import_members(group_id: int):
    group = managed_group_or_abort(group_id)
    services.check_open(group)
    form = ImportMembersForm()
    if form.validate_on_submit():
        upload = form.file.data
        filename = upload.filename or ""
        try:
            result = services.start_members_import(
                group, upload.read(), filename, acting_user(), now()
            )
        except importing.ImportFileError as error:
            form.file.errors.append(error.message)
        else:
            db.session.commit()
            if result.pending:
                flash(_("Nothing is imported yet: check the preview, then confirm."), "info")
            confirm_form = ConfirmMembersImportForm(formdata=None)
            confirm_form.joined_on.data = today()
            return render_members_import(group, result, filename, confirm_form)
    return render_template("groups/import_members.html", group=group, form=form)


def render_members_import(group: Group, result, filename: str, form):
    return render_template(
        "groups/import_members_preview.html",
        group=group,
        result=result,
        preview=result.preview,
        filename=filename,
        form=form,
    )


@bp.post("/<int:group_id>/members/import/<int:import_id>")
def confirm_members_import(group_id: int, import_id: int):
    group = managed_group_or_abort(group_id)
    services.check_open(group)
    moment = now()
    pending = importing.pending_import(import_id, acting_user(), moment)
    if pending is None:
        flash(
            _("This import is no longer waiting: it was already done, or it has expired."),
            "error",
        )
        return redirect(url_for("groups.import_members", group_id=group.id))
    filename = pending.filename
    form = ConfirmMembersImportForm()
    if not form.validate_on_submit():
        result = services.preview_members_import(group, pending.content)
        result.pending = pending
        return render_members_import(group, result, filename, form)
    result = services.confirm_members_import(
        group, pending, acting_user(), form.chosen_role(), form.joined_on.data, moment
    )
    if not result.preview.applied:
        db.session.commit()
        flash(_("Nothing was imported: the directory has changed since the preview."), "error")
        return render_members_import(group, result, filename, form)
    queued = invite_newcomers(group, form, result.added_ids)
    db.session.commit()
    flash_imported(result.preview)
    flash_added(len(result.added_ids), result.already)
    flash_queued(queued)
    return to_group(group)


def flash_imported(preview: importing.ImportPreview) -> None:
    if preview.created or preview.updated:
        flash(preview.summary, "success")


@bp.route("/<int:group_id>/members/<int:membership_id>/role", methods=["GET", "POST"])
def change_role(group_id: int, membership_id: int):
    group = managed_group_or_abort(group_id)
    membership = membership_or_404(group, membership_id)
    form = RoleForm(data={"role": membership.role.value})
    if form.validate_on_submit():
        services.change_role(membership, GroupRole(form.role.data))
        db.session.commit()
        flash(_("The role of %(name)s is changed.", name=membership.contact.full_name), "success")
        return to_group(group)
    return render_template("groups/role.html", group=group, membership=membership, form=form)


@bp.route("/<int:group_id>/members/<int:membership_id>/leave", methods=["GET", "POST"])
def leave_group(group_id: int, membership_id: int):
    group = managed_group_or_abort(group_id)
    membership = membership_or_404(group, membership_id)
    form = LeaveForm()
    if not form.is_submitted():
        form.left_on.data = today()
    if form.validate_on_submit():
        try:
            services.leave_group(membership, form.left_on.data)
        except FieldError as error:
            error.show_on(form)
        else:
            db.session.commit()
            flash(_("%(name)s has left the group.", name=membership.contact.full_name), "success")
            return to_group(group)
    return render_template("groups/leave.html", group=group, membership=membership, form=form)
