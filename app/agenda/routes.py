"""The public agenda's pages and feed: no login needed, and only the embeddable list may be
shown in another site's frame."""

from datetime import UTC, datetime

from flask import abort, current_app, make_response, render_template, request
from flask_babel import gettext as _

from app.agenda import bp, services
from app.agenda.forms import AgendaFilterForm
from app.auth.access import public
from app.extensions import db
from app.feeds.http import calendar_response
from app.models import SiteSettings
from app.security import content_security_policy
from app.settings.services import current_settings, embed_origins


def agenda_title(settings: SiteSettings) -> str:
    if settings.network_name:
        return _("Open meetings of %(network)s", network=settings.network_name)
    return _("Open meetings")


def render_agenda(template: str, settings: SiteSettings, embedded: bool = False) -> str:
    """The agenda's list with its filters, as the page or as the embeddable list."""
    now = datetime.now(UTC)
    form = AgendaFilterForm(formdata=request.args)
    filters = form.filters(
        services.filter_groups(now, form.requested_group_id()), services.agenda_towns(now)
    )
    page = db.paginate(
        services.agenda_query(filters, now), per_page=current_app.config["PAGE_SIZE"]
    )
    return render_template(
        template,
        title=agenda_title(settings),
        form=form,
        filters=filters,
        page=page,
        places=services.places_of(page.items, now),
        page_url_of=services.public_page_url,
        embedded=embedded,
    )


@bp.get("/agenda")
@public
def agenda():
    return render_agenda("agenda/list.html", current_settings())


@bp.get("/agenda/embed")
@public
def embedded_agenda():
    """The list alone, for the network's own site: the only page other sites may frame, and
    only those the administrator named."""
    settings = current_settings()
    response = make_response(render_agenda("agenda/embed.html", settings, embedded=True))
    response.headers["Content-Security-Policy"] = content_security_policy(embed_origins(settings))
    return response


@bp.get("/agenda.ics")
@public
def agenda_feed():
    now = datetime.now(UTC)
    form = AgendaFilterForm(formdata=request.args)
    filters = form.filters(services.filter_groups(now, form.requested_group_id()), [])
    if form.errors:
        # A calendar subscribed to a group that is gone says so, instead of showing the
        # whole agenda under the group's name.
        abort(404)
    feed = services.agenda_feed(filters, agenda_title(current_settings()), now)
    return calendar_response(feed, "agenda.ics")
