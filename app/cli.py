"""Command-line commands (`flask ...`); each is a few lines around a service call."""

import sys
from datetime import UTC, datetime

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _

from app.auth.services import AccountError, create_user, user_by_email
from app.contacts import importing
from app.extensions import db
from app.formatting import default_zone, format_moment
from app.mail import delivery
from app.mail.labels import error_label, status_label
from app.mail.services import MessageFilters, message_list_query
from app.models import MessageStatus, OutboxMessage
from app.reminders import sending
from app.reminders.services import reminder_label
from app.sqltypes import utcnow

users = AppGroup("users", help="Organiser accounts.")


def read_password() -> str:
    """One line of standard input; asked twice, hidden, when a person types it."""
    if sys.stdin.isatty():
        return click.prompt(_("Password"), hide_input=True, confirmation_prompt=_("Again"))
    return sys.stdin.readline().rstrip("\r\n")


@users.command("create")
@click.option("--email", required=True, help="The address the organiser logs in with.")
@click.option("--name", required=True, help="The organiser's name.")
@click.option("--admin", "is_admin", is_flag=True, help="Let the account manage other accounts.")
def create_user_command(email: str, name: str, is_admin: bool) -> None:
    """Create an account; its password is read from standard input."""
    # No request, so no visitor's language: messages follow the installation's default.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            user = create_user(
                name=name, email=email, password=read_password(), is_admin=is_admin, now=utcnow()
            )
        except AccountError as error:
            raise click.ClickException("\n".join(error.messages)) from error
        db.session.commit()
        click.echo(_("Account created for %(name)s <%(email)s>.", name=user.name, email=user.email))


contacts = AppGroup("contacts", help="The contact directory.")


@contacts.command("import")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check the file and report; write nothing.")
@click.option("--user", "user_email", help="Record this organiser as the author of the changes.")
def import_contacts_command(file, dry_run: bool, user_email: str | None) -> None:
    """Import contacts from a CSV file, with the rules of the import page: all or nothing."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        user = None
        if user_email:
            user = user_by_email(user_email)
            if user is None:
                raise click.ClickException(
                    _("No account has the address %(email)s.", email=user_email)
                )
        try:
            preview = importing.import_file(file.read(), user, utcnow(), dry_run=dry_run)
            for line in importing.report(preview):
                click.echo(line)
            if preview.rejected:
                raise click.ClickException(
                    _("Nothing was written: fix the rejected lines and import the file again.")
                )
            db.session.commit()
        except importing.ImportFileError as error:
            raise click.ClickException(str(error.message)) from error
        except Exception:
            db.session.rollback()
            raise
        click.echo(_("Dry run: nothing was written.") if dry_run else _("Import done."))


outbox = AppGroup("outbox", help="Outgoing e-mails.")


@outbox.command("send")
def send_outbox_command() -> None:
    """Deliver the messages due now, without waiting for the worker."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        now = utcnow()
        recovered = delivery.recover_stale(now)
        db.session.commit()
        if recovered.requeued or recovered.failed:
            click.echo(
                _(
                    "Taken back from stopped workers: %(requeued)s queued again, %(failed)s "
                    "marked failed (outcome unknown).",
                    requeued=recovered.requeued,
                    failed=recovered.failed,
                )
            )
        report = delivery.deliver_due(now)
        db.session.commit()
        if report.no_mail_server:
            raise click.ClickException(
                _("No mail server is configured (MAIL_SERVER): the messages stay in the outbox.")
            )
        click.echo(
            _(
                "Sent: %(sent)s. To retry later: %(retried)s. Failed: %(failed)s.",
                sent=report.sent,
                retried=report.retried,
                failed=report.failed,
            )
        )
        if report.unfinished:
            click.echo(_("More messages are due: run the command again, or let the worker do it."))


@outbox.command("retry")
@click.argument("message_id", type=int)
def retry_outbox_command(message_id: int) -> None:
    """Put a failed message back in the queue."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        message = db.session.get(OutboxMessage, message_id)
        if message is None:
            raise click.ClickException(_("No message has the number %(id)s.", id=message_id))
        try:
            delivery.retry_message(message, utcnow())
        except delivery.NotRetryable as error:
            raise click.ClickException(
                _(
                    "Message %(id)s is not failed (%(status)s): only a failed message can be "
                    "sent again.",
                    id=message_id,
                    status=status_label(message.status),
                )
            ) from error
        db.session.commit()
        delivery.request_delivery()
        click.echo(_("Message %(id)s is back in the queue.", id=message_id))


@outbox.command("list")
@click.option(
    "--status", type=click.Choice([status.value for status in MessageStatus]), help="Only these."
)
@click.option("--limit", default=50, show_default=True, help="How many, newest first.")
def list_outbox_command(status: str | None, limit: int) -> None:
    """The latest messages: number, status, creation time (UTC), recipient, subject."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        filters = MessageFilters(status=MessageStatus(status) if status else None)
        messages = db.session.scalars(message_list_query(filters).limit(limit)).all()
        if not messages:
            click.echo(_("No message."))
        for message in messages:
            click.echo(
                f"{message.id:>7}  {status_label(message.status):<16}  "
                f"{message.created_at:%Y-%m-%d %H:%M}  {message.to_address}  {message.subject}"
            )
            if message.last_error:
                click.echo(f"{'':>9}{error_label(message.last_error)}")


reminders = AppGroup("reminders", help="Reminders and follow-ups to invitees.")


def parse_moment(value: str) -> datetime:
    """An ISO date and time; without an offset, it is read in the TIMEZONE setting."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise click.BadParameter(
            _(
                "“%(value)s” is not a date and time: write it as 2026-03-29T09:00 (in "
                "%(zone)s), or with its offset, as 2026-03-29T07:00+00:00.",
                value=value,
                zone=current_app.config["TIMEZONE"],
            ),
            param_hint="--at",
        ) from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=default_zone())
    return moment.astimezone(UTC)


@reminders.command("due")
@click.option(
    "--at",
    "at",
    metavar="ISO-DATETIME",
    help="The moment to look at (default: now); without an offset, in the TIMEZONE setting.",
)
def due_reminders_command(at: str | None) -> None:
    """List the reminders that would be sent at that moment, and their recipients."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        moment = parse_moment(at) if at else utcnow()
        when = format_moment(moment, default_zone())
        due = sending.due_reminders(moment)
        if not due:
            click.echo(_("No reminder is due on %(moment)s.", moment=when))
            return
        click.echo(_("Reminders due on %(moment)s:", moment=when))
        for item in due:
            meeting = item.meeting
            click.echo(
                _(
                    "- %(meeting)s (%(start)s): %(reminder)s, due on %(send_at)s, %(recipients)s",
                    meeting=meeting.title,
                    start=format_moment(meeting.starts_at, meeting.zone),
                    reminder=reminder_label(item.reminder),
                    send_at=format_moment(item.send_at, meeting.zone),
                    recipients=ngettext("%(num)s recipient", "%(num)s recipients", item.recipients),
                )
            )
            if item.late:
                click.echo(
                    "  "
                    + _(
                        "late by more than %(hours)s hours: will be recorded as skipped, not sent",
                        hours=current_app.config["REMINDER_GRACE_HOURS"],
                    )
                )


@reminders.command("send-due")
def send_due_reminders_command() -> None:
    """Queue the reminders due now (for installations that run it from cron rather than
    relying on the worker's periodic task), then wake the delivery."""
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        # A commit after each reminder: another worker or run never waits for the whole run.
        report = sending.queue_due_reminders(utcnow(), after_each=db.session.commit)
        db.session.commit()
        if report.queued:
            delivery.request_delivery()
        click.echo(
            _(
                "Reminders done: %(reminders)s. E-mails queued: %(queued)s. Recorded as "
                "skipped (too late): %(skipped)s.",
                reminders=report.reminders,
                queued=report.queued,
                skipped=report.skipped,
            )
        )
        if report.failed:
            raise click.ClickException(
                ngettext(
                    "%(num)s reminder could not be queued (see the log): it will be tried "
                    "again at the next run.",
                    "%(num)s reminders could not be queued (see the log): they will be tried "
                    "again at the next run.",
                    report.failed,
                )
            )


def register(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(contacts)
    app.cli.add_command(outbox)
    app.cli.add_command(reminders)
