"""Command-line commands (`flask ...`); each is a few lines around a service call."""

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _

from app.auth.services import AccountError, create_user, user_by_email
from app.contacts import importing
from app.extensions import db
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


def register(app: Flask) -> None:
    app.cli.add_command(users)
    app.cli.add_command(contacts)
