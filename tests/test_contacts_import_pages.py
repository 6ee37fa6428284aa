"""The import as organisers use it: upload, preview, confirm; the CLI; the export round trip."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.contacts import importing
from app.extensions import db
from app.models import Civility, Contact, ContactImport, Organisation, OrganisationKind
from tests.directory_helpers import csv_file, upload
from tests.factories import ContactFactory, OrganisationFactory

GOOD_FILE = csv_file(
    [
        ["Civilité", "Nom", "Prénom", "Courriel", "Structure", "Commune", "Téléphone"],
        [
            "Mme",
            "Lefèvre",
            "Zoé",
            "zoe@example.org",
            "Centre social Chenôve",
            "Chenôve",
            "0380000000",
        ],
        ["M.", "Durand", "Léo", "leo@example.org", "Centre social Chenôve", "Chenôve", ""],
    ],
    encoding="cp1252",
)
BAD_FILE = csv_file(
    [["nom", "courriel"], ["Lefèvre", "zoe@example.org"], ["Durand", "pas une adresse"]]
)


def contact_count() -> int:
    return db.session.scalar(select(func.count(Contact.id)))


def pending_count() -> int:
    return db.session.scalar(select(func.count(ContactImport.id)))


@pytest.fixture
def english_organiser(client, login, admin, organiser):
    client.set_cookie("lang", "en")
    login(organiser)
    return client


# Upload and preview


def test_import_page_explains_the_format(as_organiser):
    page = as_organiser.get("/contacts/import").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert "courriel" in page


def test_upload_shows_a_preview_and_writes_nothing(english_organiser):
    response = upload(english_organiser, GOOD_FILE, "export excel.csv")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Import preview: export excel.csv" in page
    assert "2 contacts to create" in page
    assert "1 organisation to create" in page
    assert "Zoé Lefèvre" in page
    pending = db.session.scalar(select(ContactImport))
    assert f'action="/contacts/import/{pending.id}"' in page
    assert pending.filename == "export excel.csv"
    assert "Chenôve" in pending.content
    assert contact_count() == 0


def test_preview_lists_rejected_lines_and_offers_no_confirmation(english_organiser):
    page = upload(english_organiser, BAD_FILE).get_data(as_text=True)
    assert '<td class="numeric">3</td><td>invalid e-mail address “pas une adresse”</td>' in page
    assert "Nothing will be imported until these lines are fixed." in page
    assert "/contacts/import/" not in page
    assert pending_count() == 0
    assert contact_count() == 0


def test_preview_shows_the_changes_of_updated_contacts(english_organiser):
    ContactFactory(email="zoe@example.org", last_name="Lefèvre", function="Animatrice")
    data = csv_file([["nom", "courriel", "fonction"], ["Lefèvre", "ZOE@example.org", "Directrice"]])
    page = upload(english_organiser, data).get_data(as_text=True)
    assert "1 contact to update" in page
    assert "<td>Function</td>" in page


def test_a_file_with_nothing_new_needs_no_confirmation(english_organiser):
    ContactFactory(email="zoe@example.org", last_name="Lefèvre", organisation=None)
    data = csv_file([["nom", "courriel"], ["Lefèvre", "zoe@example.org"]])
    page = upload(english_organiser, data).get_data(as_text=True)
    assert "There is nothing to import" in page
    assert pending_count() == 0


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"nom;courriel\r\n", "The file has a header line but no contacts."),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "This file is not a CSV file."),
        (b"name;phone\nMartin;0102030405\n", "not a contact CSV file: no e-mail column"),
    ],
)
def test_unusable_files_are_refused_next_to_the_file_field(english_organiser, data, message):
    response = upload(english_organiser, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page
    assert 'aria-invalid="true"' in page
    assert pending_count() == 0


def test_upload_without_a_file_is_an_error_on_the_field(as_organiser):
    response = as_organiser.post("/contacts/import", data={}, content_type="multipart/form-data")
    assert 'aria-invalid="true"' in response.get_data(as_text=True)


def test_a_file_over_the_size_limit_is_refused(app, as_organiser):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = upload(as_organiser, GOOD_FILE + b"x" * 2000)
    assert response.status_code == 413
    assert pending_count() == 0


# Confirmation


def test_confirm_imports_everything_and_forgets_the_upload(english_organiser, organiser):
    upload(english_organiser, GOOD_FILE)
    pending = db.session.scalar(select(ContactImport))
    response = english_organiser.post(f"/contacts/import/{pending.id}")
    assert response.status_code == 302
    assert "/contacts/" in response.location
    page = english_organiser.get(response.location).get_data(as_text=True)
    assert "Import done: 2 contacts created, 0 contacts updated." in page
    contacts = db.session.scalars(select(Contact).order_by(Contact.sort_key)).all()
    assert [(c.civility, c.full_name, c.phone) for c in contacts] == [
        (Civility.MR, "Léo Durand", ""),
        (Civility.MS, "Zoé Lefèvre", "03 80 00 00 00"),
    ]
    assert {c.created_by_id for c in contacts} == {organiser.id}
    [organisation] = db.session.scalars(select(Organisation)).all()
    assert (organisation.name, organisation.town) == ("Centre social Chenôve", "Chenôve")
    assert organisation.kind is OrganisationKind.OTHER
    assert pending_count() == 0


def test_confirming_twice_imports_once(english_organiser):
    upload(english_organiser, GOOD_FILE)
    pending_id = db.session.scalar(select(ContactImport.id))
    english_organiser.post(f"/contacts/import/{pending_id}")
    response = english_organiser.post(f"/contacts/import/{pending_id}", follow_redirects=True)
    assert "no longer waiting" in response.get_data(as_text=True)
    assert contact_count() == 2


def test_only_the_organiser_who_uploaded_may_confirm(app, as_organiser, admin):
    with force_locale("en"):
        _, pending = importing.start_import(GOOD_FILE, "a.csv", admin, datetime.now(UTC))
    db.session.commit()
    response = as_organiser.post(f"/contacts/import/{pending.id}")
    assert response.status_code == 302
    assert contact_count() == 0
    assert pending_count() == 1


def test_an_upload_older_than_a_day_cannot_be_confirmed(as_organiser, organiser):
    _, pending = importing.start_import(
        GOOD_FILE, "a.csv", organiser, datetime.now(UTC) - timedelta(days=1, minutes=1)
    )
    db.session.commit()
    response = as_organiser.post(f"/contacts/import/{pending.id}")
    assert response.location.endswith("/contacts/import")
    assert contact_count() == 0


def test_old_uploads_are_removed_by_the_next_one(as_organiser, organiser):
    importing.start_import(GOOD_FILE, "old.csv", organiser, datetime.now(UTC) - timedelta(days=2))
    db.session.commit()
    upload(as_organiser, GOOD_FILE, "new.csv")
    assert db.session.scalars(select(ContactImport.filename)).all() == ["new.csv"]


def test_confirmation_is_refused_when_the_directory_changed_since(english_organiser):
    OrganisationFactory(name="Mairie", town="Dijon")
    data = csv_file([["nom", "courriel", "structure"], ["Martin", "m@example.org", "Mairie"]])
    upload(english_organiser, data)
    pending_id = db.session.scalar(select(ContactImport.id))
    # Meanwhile another "Mairie" appears: the file no longer says which one.
    OrganisationFactory(name="Mairie", town="Talant")
    response = english_organiser.post(f"/contacts/import/{pending_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Nothing was imported" in page
    assert "several organisations are named “Mairie”" in page
    assert contact_count() == 0


# Export, then import


def test_exporting_then_importing_changes_nothing(app, as_organiser, organiser):
    home = OrganisationFactory(
        name="École Jean-Macé", kind=OrganisationKind.SCHOOL, town="Chenôve", postcode="21300"
    )
    other = OrganisationFactory(name="Mairie", kind=OrganisationKind.LOCAL_AUTHORITY, town="")
    ContactFactory(
        civility=Civility.MS,
        first_name="Zoé",
        last_name="Lefèvre",
        phone="01 23 45 67 89",
        notes='Notes sur "deux"\nlignes; avec séparateur',
        organisation=home,
    )
    ContactFactory(civility=Civility.MR, phone="+44 20 7946 0958", organisation=other)
    ContactFactory(last_name="-Tiret", function="=SOMME(A1)", organisation=None)
    exported = as_organiser.get("/contacts/export.csv").get_data()
    with force_locale("en"):
        preview = importing.preview_import(importing.decode_upload(exported))
        assert preview.rejected == []
    assert len(preview.unchanged) == 3
    assert preview.created == preview.updated == []


# The command line


@pytest.fixture
def cli_in_english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


def write(tmp_path, data: bytes):
    path = tmp_path / "contacts.csv"
    path.write_bytes(data)
    return str(path)


def test_cli_imports_a_file_and_reports(runner, tmp_path, cli_in_english):
    result = runner.invoke(args=["contacts", "import", write(tmp_path, GOOD_FILE)])
    assert result.exit_code == 0, result.output
    assert "To create: 2" in result.output
    assert "New organisations: 1" in result.output
    assert "Import done." in result.output
    assert contact_count() == 2


def test_cli_dry_run_writes_nothing(runner, tmp_path, cli_in_english):
    result = runner.invoke(args=["contacts", "import", "--dry-run", write(tmp_path, GOOD_FILE)])
    assert result.exit_code == 0, result.output
    assert "To create: 2" in result.output
    assert "Dry run: nothing was written." in result.output
    assert contact_count() == 0


def test_cli_lists_rejected_lines_and_fails_without_writing(runner, tmp_path, cli_in_english):
    result = runner.invoke(args=["contacts", "import", write(tmp_path, BAD_FILE)])
    assert result.exit_code == 1
    assert "Rejected: 1" in result.output
    assert "Line 3: invalid e-mail address “pas une adresse”" in result.output
    assert "Nothing was written" in result.output
    assert contact_count() == 0


def test_cli_refuses_a_file_that_is_not_csv(runner, tmp_path, cli_in_english):
    result = runner.invoke(args=["contacts", "import", write(tmp_path, b"\x00\x01binary")])
    assert result.exit_code == 1
    assert "not a CSV file" in result.output


def test_cli_refuses_a_missing_file(runner, tmp_path):
    result = runner.invoke(args=["contacts", "import", str(tmp_path / "nowhere.csv")])
    assert result.exit_code == 2


def test_cli_records_the_organiser_given(runner, tmp_path, cli_in_english, organiser):
    path = write(tmp_path, GOOD_FILE)
    result = runner.invoke(args=["contacts", "import", "--user", "OLIVIER@example.org", path])
    assert result.exit_code == 0, result.output
    assert {c.created_by_id for c in db.session.scalars(select(Contact))} == {organiser.id}


def test_cli_refuses_an_unknown_organiser(runner, tmp_path, cli_in_english):
    path = write(tmp_path, GOOD_FILE)
    result = runner.invoke(args=["contacts", "import", "--user", "nobody@example.org", path])
    assert result.exit_code == 1
    assert "No account has the address nobody@example.org." in result.output
    assert contact_count() == 0


def test_cli_reads_standard_input(runner, cli_in_english):
    result = runner.invoke(args=["contacts", "import", "-"], input=io.BytesIO(GOOD_FILE))
    assert result.exit_code == 0, result.output
    assert contact_count() == 2
