"""The Alembic migrations build the same schema as the models, on SQLite and on PostgreSQL."""

import pytest
from sqlalchemy import inspect, text

from app import create_app
from app.extensions import db
from config import TestingConfig
from tests.conftest import USING_POSTGRES, reset_database


def drop_everything() -> None:
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture
def migrated_app(tmp_path):
    overrides = {} if USING_POSTGRES else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/m.db"}
    app = create_app(TestingConfig, **overrides)
    with app.app_context():
        drop_everything()
        yield app
        db.session.remove()
        drop_everything()
        if USING_POSTGRES:
            reset_database()
        db.engine.dispose()


def test_upgrade_from_empty_then_check_finds_nothing_to_generate(migrated_app):
    runner = migrated_app.test_cli_runner()
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    tables = set(inspect(db.engine).get_table_names())
    assert {table.name for table in db.metadata.sorted_tables} <= tables

    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_downgrade_to_base_removes_every_table(migrated_app):
    runner = migrated_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "downgrade", "base"])
    assert result.exit_code == 0, result.output
    remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
    assert remaining == set()


def test_each_upgrade_keeps_the_rows_already_there(migrated_app):
    """Upgrading a database that has data: new NOT NULL columns get their defaults."""
    runner = migrated_app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade", "fb5d5918fdf6"]).exit_code == 0
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO meeting (title, description, status, cancellation_reason, starts_at,"
                " ends_at, timezone, venue_name, venue_address, venue_postcode, venue_town,"
                " venue_access_notes, online_url, contact_name, contact_function,"
                " contact_organisation, contact_email, contact_phone, search_key, created_at,"
                " updated_at) VALUES ('Réunion', '', 'published', '', '2026-06-05 07:00:00',"
                " '2026-06-05 10:30:00', 'Europe/Paris', 'Salle', '', '', '', '', '', '', '', '',"
                " '', '', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with db.engine.connect() as connection:
        row = connection.execute(
            text("SELECT title, sequence, invitation_subject FROM meeting")
        ).one()
    assert tuple(row) == ("Réunion", 0, "")
