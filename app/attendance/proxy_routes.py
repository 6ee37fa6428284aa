"""The organiser's page of proxies and quorum: the meeting's rules, the proxies given (void
ones shown as such), and proxies recorded or withdrawn for members."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.attendance import bp, proxies
from app.attendance.forms import ConfirmForm, ProxyForm, RulesForm
from app.attendance.routes import RECORD, now
from app.extensions import db
from app.meetings.access import acting_user, invitation_or_404, managed_meeting_or_abort
from app.models import Meeting

PROXIES = f"{RECORD}/proxies"


def proxy_form(meeting: Meeting, **kwargs) -> ProxyForm:
    return ProxyForm(
        givers=proxies.possible_givers(meeting),
        holders=proxies.possible_holders(meeting),
        **kwargs,
    )


def render_page(meeting: Meeting, rules_form=None, form=None, status: int = 200):
    rules_form = rules_form or RulesForm(
        formdata=None,
        proxies_allowed=meeting.proxies_allowed,
        max_proxies_per_holder=meeting.max_proxies_per_holder,
        quorum=proxies.quorum_text(meeting),
    )
    page = render_template(
        "attendance/proxies.html",
        meeting=meeting,
        rules_form=rules_form,
        form=form or proxy_form(meeting, formdata=None),
        proxy_list=proxies.proxy_list(meeting),
        quorum=proxies.quorum(meeting),
        can_record=proxies.proxies_open(meeting, now(), acting_user()),
        withdraw_form=ConfirmForm(),
    )
    return page, status


def to_page(meeting: Meeting):
    return redirect(url_for("attendance.proxies_page", meeting_id=meeting.id))


@bp.get(PROXIES)
def proxies_page(meeting_id: int):
    return render_page(managed_meeting_or_abort(meeting_id))


@bp.post(f"{PROXIES}/rules")
def save_rules(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = RulesForm()
    if not form.validate():
        return render_page(meeting, rules_form=form, status=400)
    proxies.set_rules(
        meeting, form.proxies_allowed.data, form.max_proxies_per_holder.data, form.quorum_rule
    )
    db.session.commit()
    flash(_("The rules are saved."), "success")
    return to_page(meeting)


@bp.post(PROXIES)
def record_proxy(meeting_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    form = proxy_form(meeting)
    if not form.validate():
        return render_page(meeting, form=form, status=400)
    giver = invitation_or_404(meeting, int(form.giver.data))
    holder = invitation_or_404(meeting, int(form.holder.data))
    try:
        proxies.give_proxy(giver, holder, now(), acting_user())
    except proxies.ProxyRefused as refusal:
        db.session.rollback()
        form.holder.errors.append(str(refusal))
        return render_page(meeting, form=form, status=400)
    db.session.commit()
    flash(_("The proxy is recorded; its holder is told by e-mail."), "success")
    return to_page(meeting)


@bp.post(f"{PROXIES}/<int:invitation_id>/withdraw")
def withdraw_proxy(meeting_id: int, invitation_id: int):
    meeting = managed_meeting_or_abort(meeting_id)
    giver = invitation_or_404(meeting, invitation_id)
    if not ConfirmForm().validate():
        return render_page(meeting, status=400)
    try:
        proxies.withdraw_proxy(giver, now(), acting_user())
    except proxies.ProxyRefused as refusal:
        db.session.rollback()
        flash(str(refusal), "error")
        return to_page(meeting)
    db.session.commit()
    flash(_("The proxy is withdrawn; its holder is told by e-mail."), "success")
    return to_page(meeting)
