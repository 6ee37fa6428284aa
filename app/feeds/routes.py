"""Group feed pages: the feed itself (public, by its secret address), and its organisers
making, replacing and revoking that address."""

from datetime import UTC, datetime

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.access import public
from app.extensions import db
from app.feeds import bp, services
from app.feeds.forms import FeedTokenForm
from app.feeds.http import calendar_response
from app.groups.services import can_manage
from app.models import Group
from app.ratelimit import limited
from app.text import slug
from app.urls import absolute_url

# The same budget as the personal links: guessing secret addresses gets no more tries here.
secret_address_limit = limited("invitee-links", "INVITEE_RATE_LIMIT")


def managed_group_or_abort(group_id: int) -> Group:
    group = db.get_or_404(Group, group_id)
    if not can_manage(current_user, group):
        abort(403)
    return group


@bp.get("/feed/<token>.ics")
@public
@secret_address_limit
def group_feed(token: str):
    group = services.group_for_feed_token(token)
    if group is None:
        abort(404)
    feed = services.group_feed(group, datetime.now(UTC))
    return calendar_response(feed, f"{slug(group.name) or 'group'}.ics")


@bp.route("/<int:group_id>/feed", methods=["GET", "POST"])
def make_group_feed(group_id: int):
    """Make the feed's address, or a new one replacing it; shown once, on the page answering
    the POST (a flashed message would keep it in the session cookie)."""
    group = managed_group_or_abort(group_id)
    form = FeedTokenForm()
    if form.validate_on_submit():
        token = services.issue_feed_token(group)
        db.session.commit()
        feed_url = absolute_url("feeds.group_feed", token=token)
        response = render_template("feeds/feed_made.html", group=group, feed_url=feed_url)
        return response, 200, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
    return render_template("feeds/confirm.html", form=form, group=group, revoking=False)


@bp.route("/<int:group_id>/feed/revoke", methods=["GET", "POST"])
def revoke_group_feed(group_id: int):
    group = managed_group_or_abort(group_id)
    form = FeedTokenForm()
    if form.validate_on_submit():
        services.revoke_feed_token(group)
        db.session.commit()
        flash(_("The calendar feed's address no longer works."), "success")
        return redirect(url_for("groups.show_group", group_id=group.id))
    return render_template("feeds/confirm.html", form=form, group=group, revoking=True)
