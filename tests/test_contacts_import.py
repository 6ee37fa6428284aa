"""CSV import of contacts: the files people really have, the preview, all or nothing."""

from datetime import UTC, datetime

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from app.contacts import importing
from app.contacts.importing import Action, ImportFileError, decode_upload, preview_import
from app.extensions import db
from app.models import Civility, Contact, Organisation, OrganisationKind
from tests.directory_helpers import csv_file
from tests.factories import ContactFactory, OrganisationFactory

NOW = datetime(2024, 3, 5, 9, 0, tzinfo=UTC)
HEADER = ["nom", "prénom", "courriel", "structure", "fonction", "téléphone", "commune"]


@pytest.fixture(autouse=True)
def english(app):
    """Reasons are lazy strings: read them in English, whatever the catalogue says."""
    with force_locale("en"):
        yield


def preview_of(data: bytes):
    return preview_import(decode_upload(data))


def contact_count() -> int:
    return db.session.scalar(select(func.count(Contact.id)))


def reasons(preview) -> dict[int, str]:
    return {line.number: line.reason for line in preview.rejected}


# Encodings, separators, headers


def test_utf8_with_bom_is_read_and_its_first_header_recognised(app):
    data = "\ufeffnom;prénom;courriel\nLefèvre;Zoé;zoe@example.org\n".encode()
    preview = preview_of(data)
    [line] = preview.created
    assert line.values["last_name"] == "Lefèvre"
    assert line.values["first_name"] == "Zoé"


def test_utf8_without_bom_is_read(app):
    preview = preview_of("courriel,nom\nzoe@example.org,Lefèvre\n".encode())
    assert preview.created[0].values["last_name"] == "Lefèvre"


def test_windows_1252_from_french_excel_keeps_its_accents(app):
    data = csv_file(
        [
            ["Nom", "Prénom", "Courriel", "Structure", "Commune"],
            ["Lefèvre", "Zoé", "zoe@example.org", "Centre social Léo-Lagrange", "Chenôve"],
            ["Œuvre", "François", "f@example.org", "Caisse des écoles", "Besançon"],
        ],
        encoding="cp1252",
    )
    preview = preview_of(data)
    assert [line.full_name for line in preview.created] == ["Zoé Lefèvre", "François Œuvre"]
    assert preview.created[0].organisation_name == "Centre social Léo-Lagrange"
    assert preview.created[1].town == "Besançon"


def test_excel_unicode_text_in_utf16_with_tabs_is_read(app):
    data = "\ufeffnom\tcourriel\nLefèvre\tzoe@example.org\n".encode("utf-16-le")
    assert preview_of(b"\xff\xfe" + data[2:]).created[0].values["last_name"] == "Lefèvre"


@pytest.mark.parametrize("separator", [";", ",", "\t"])
def test_the_separator_is_detected_from_the_header(app, separator):
    data = csv_file(
        [["nom", "courriel", "fonction"], ["Martin", "m@example.org", "Directeur, adjoint"]],
        separator=separator,
    )
    [line] = preview_of(data).created
    assert line.values["function"] == "Directeur, adjoint"


def test_english_headers_are_understood(app):
    data = csv_file(
        [
            ["Last name", "First Name", "E-mail", "Organization", "Role", "Phone", "City"],
            ["Martin", "Léo", "leo@example.org", "Mairie", "Élu", "0380000000", "Dijon"],
        ]
    )
    [line] = preview_of(data).created
    assert line.values == {
        "last_name": "Martin",
        "first_name": "Léo",
        "function": "Élu",
        "phone": "03 80 00 00 00",
    }
    assert line.email == "leo@example.org"
    assert (line.organisation_name, line.town) == ("Mairie", "Dijon")


@pytest.mark.parametrize(
    "header",
    [
        "courriel",
        "E-mail",
        "email",
        "Mail",
        "Adresse mail",
        "Adresse électronique",
        "ADRESSE E-MAIL",
    ],
)
def test_every_usual_name_of_the_email_column_is_understood(app, header):
    data = csv_file([["Nom", header], ["Martin", "m@example.org"]])
    assert preview_of(data).created[0].email == "m@example.org"


def test_unknown_columns_are_ignored_and_listed(app):
    data = csv_file([["nom", "courriel", "Date de naissance"], ["Martin", "m@example.org", "1980"]])
    preview = preview_of(data)
    assert preview.ignored_columns == ["Date de naissance"]
    assert len(preview.created) == 1


# Whole-file refusals


@pytest.mark.parametrize("data", [b"", b"   \r\n\r\n", "\ufeff".encode()])
def test_an_empty_file_is_refused(app, data):
    with pytest.raises(ImportFileError) as refused:
        preview_of(data)
    assert "empty" in str(refused.value.message)


def test_a_header_without_lines_is_refused(app):
    with pytest.raises(ImportFileError) as refused:
        preview_of(b"nom;courriel\r\n;\r\n")
    assert "no contacts" in str(refused.value.message)


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
        b"%PDF-1.4\n\x81\x8d\x8f\x90\x9d",
        b"nom;courriel\x07\n",
    ],
)
def test_a_file_that_is_not_csv_is_refused(app, data):
    with pytest.raises(ImportFileError) as refused:
        preview_of(data)
    assert "not a CSV file" in str(refused.value.message)


def test_a_text_without_an_email_column_is_refused_clearly(app):
    with pytest.raises(ImportFileError) as refused:
        preview_of("Chère collègue,\nvoici la liste.\n".encode())
    assert "no e-mail column" in str(refused.value.message)


def test_a_file_without_a_last_name_column_is_refused_clearly(app):
    with pytest.raises(ImportFileError) as refused:
        preview_of(b"prenom;courriel\nZoe;z@example.org\n")
    assert "no last name column" in str(refused.value.message)


# Line numbers and quoted fields


def test_quoted_fields_with_newlines_keep_line_numbers_right(app):
    data = (
        "nom;courriel;notes\r\n"
        'Martin;m@example.org;"Première ligne\r\nDeuxième ligne; avec un point-virgule"\r\n'
        '"Du\nbois";d@example.org;""\r\n'
        "Bad;not-an-address;\r\n"
    ).encode()
    preview = preview_of(data)
    assert [line.number for line in preview.lines] == [2, 4, 6]
    assert preview.lines[0].values["notes"] == (
        "Première ligne\nDeuxième ligne; avec un point-virgule"
    )
    assert preview.lines[1].values["last_name"] == "Du bois"
    assert reasons(preview) == {6: "invalid e-mail address “not-an-address”"}


def test_blank_lines_are_skipped_but_counted(app):
    data = b"nom;courriel\n\nMartin;m@example.org\n;;\nDurand;bad\n"
    preview = preview_of(data)
    assert [line.number for line in preview.lines] == [3, 5]
    assert list(reasons(preview)) == [5]


# Each line's rules


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (["Martin", "", "", ""], "missing e-mail address"),
        (["Martin", "martin@", "", ""], "invalid e-mail address “martin@”"),
        (["", "m@example.org", "", ""], "missing last name"),
        (["Martin", "m@example.org", "12 34", ""], "invalid phone number “12 34”"),
        (["Martin", "m@example.org", "", "Dr"], "unknown civility “Dr” (use Mme or M.)"),
        (["M" * 101, "m@example.org", "", ""], "Last name is longer than 100 characters"),
    ],
)
def test_each_rule_rejects_a_line_with_its_reason(app, row, reason):
    data = csv_file([["nom", "courriel", "téléphone", "civilité"], row])
    assert reasons(preview_of(data)) == {2: reason}


def test_an_unknown_organisation_type_is_rejected(app):
    data = csv_file(
        [["nom", "courriel", "structure", "type de structure"], ["A", "a@example.org", "X", "Club"]]
    )
    assert reasons(preview_of(data)) == {2: "unknown type of organisation “Club”"}


def test_a_line_with_more_cells_than_the_header_is_rejected(app):
    data = b"nom,courriel,fonction\nMartin,m@example.org,Directeur, adjoint\n"
    assert "has 4 cells but the header has 3" in reasons(preview_of(data))[2]


def test_several_problems_of_a_line_are_all_given(app):
    data = csv_file([["nom", "courriel", "téléphone"], ["", "bad", "12"]])
    assert reasons(preview_of(data)) == {
        2: "invalid e-mail address “bad”; missing last name; invalid phone number “12”"
    }


def test_duplicate_emails_inside_the_file_are_rejected_with_the_first_line(app):
    data = csv_file(
        [
            ["nom", "courriel"],
            ["Martin", "martin@example.org"],
            ["Durand", "durand@example.org"],
            ["Martin bis", "MARTIN@Example.org"],
        ]
    )
    preview = preview_of(data)
    assert reasons(preview) == {4: "e-mail address already on line 2 of the file"}
    assert not preview.can_apply


def test_civility_phone_and_kind_are_read_in_their_usual_spellings(app):
    data = csv_file(
        [
            ["civilité", "nom", "courriel", "tel", "structure", "type de structure"],
            ["Madame", "A", "a@example.org", "+33 6 12 34 56 78", "CCAS de Dijon", "CCAS"],
            ["M.", "B", "b@example.org", "01.23.45.67.89", "Préfecture", "Service de l'État"],
        ]
    )
    first, second = preview_of(data).created
    assert (first.values["civility"], second.values["civility"]) == (Civility.MS, Civility.MR)
    assert (first.values["phone"], second.values["phone"]) == ("06 12 34 56 78", "01 23 45 67 89")
    assert (first.kind, second.kind) == (OrganisationKind.CCAS, OrganisationKind.STATE_SERVICE)


def test_cells_defused_against_formulas_by_the_export_are_read_back(app):
    data = csv_file(
        [["nom", "courriel", "téléphone"], ["'-Dash", "a@example.org", "'+44 20 7946 0958"]]
    )
    [line] = preview_of(data).created
    assert line.values["last_name"] == "-Dash"
    assert line.values["phone"] == "+44 20 7946 0958"


# Comparing with the directory


def test_existing_contacts_are_updated_only_where_the_file_has_a_value(app):
    ContactFactory(
        email="zoe@example.org",
        first_name="Zoé",
        last_name="Martin",
        function="Coordinatrice",
        phone="01 23 45 67 89",
    )
    data = csv_file(
        [
            ["nom", "prénom", "courriel", "fonction", "téléphone"],
            ["Martin-Durand", "", "ZOE@example.org", "Directrice", ""],
        ]
    )
    [line] = preview_of(data).updated
    assert line.changed_fields == ["last_name", "function"]
    assert line.changes == "Last name, Function"


def test_a_contact_identical_to_the_directory_is_unchanged(app):
    home = OrganisationFactory(name="Centre social Chenôve", town="Chenôve")
    ContactFactory(email="zoe@example.org", last_name="Martin", organisation=home)
    data = csv_file(
        [
            ["nom", "courriel", "structure", "ville"],
            ["Martin", "zoe@example.org", "CENTRE SOCIAL CHENOVE", "chenove"],
        ]
    )
    preview = preview_of(data)
    assert [line.action for line in preview.lines] == [Action.UNCHANGED]
    assert not preview.can_apply


def test_organisations_are_matched_ignoring_case_and_accents(app):
    home = OrganisationFactory(name="Centre social Chenôve", town="Chenôve")
    data = csv_file(
        [["nom", "courriel", "organisme"], ["Martin", "m@example.org", "centre SOCIAL chenove"]]
    )
    preview = preview_of(data)
    assert preview.created[0].organisation is home
    assert preview.new_organisations == []


def test_the_town_tells_apart_organisations_with_the_same_name(app):
    OrganisationFactory(name="Mairie", town="Dijon")
    talant = OrganisationFactory(name="Mairie", town="Talant")
    data = csv_file(
        [
            ["nom", "courriel", "structure", "commune"],
            ["A", "a@example.org", "MAIRIE", "TALANT"],
            ["B", "b@example.org", "Mairie", ""],
            ["C", "c@example.org", "Mairie", "Longvic"],
        ]
    )
    preview = preview_of(data)
    assert preview.lines[0].organisation is talant
    assert reasons(preview) == {
        3: "several organisations are named “Mairie”: add a town column to say which"
    }
    assert preview.lines[2].creates_organisation


def test_a_new_organisation_named_on_several_lines_is_created_once(app, organiser):
    data = csv_file(
        [
            ["nom", "courriel", "structure", "commune", "code postal", "type de structure"],
            ["A", "a@example.org", "Maison des Familles", "Chenôve", "21300", "Association"],
            ["B", "b@example.org", "MAISON DES FAMILLES", "CHENOVE", "", ""],
            ["C", "c@example.org", "Collège Rameau", "", "", ""],
        ]
    )
    preview = preview_of(data)
    assert len(preview.new_organisations) == 2
    importing.apply_import(preview, organiser, NOW)
    db.session.commit()
    organisations = db.session.scalars(select(Organisation).order_by(Organisation.name)).all()
    assert [(o.name, o.town, o.postcode, o.kind) for o in organisations] == [
        ("Collège Rameau", "", "", OrganisationKind.OTHER),
        ("Maison des Familles", "Chenôve", "21300", OrganisationKind.ASSOCIATION),
    ]
    assert len(organisations[1].contacts) == 2


# Writing


def test_apply_creates_and_updates_in_one_go_and_records_who(app, organiser):
    existing = ContactFactory(email="zoe@example.org", last_name="Martin", organisation=None)
    data = csv_file(
        [
            ["civilité", "nom", "prénom", "courriel", "structure"],
            ["Mme", "Martin", "Zoé", "zoe@example.org", "Mairie"],
            ["M.", "Durand", "Léo", "LEO@example.org", "Mairie"],
        ]
    )
    preview = preview_of(data)
    importing.apply_import(preview, organiser, NOW)
    db.session.commit()
    leo = db.session.scalar(select(Contact).where(Contact.email == "leo@example.org"))
    assert (leo.civility, leo.first_name, leo.organisation.name) == (Civility.MR, "Léo", "Mairie")
    assert (leo.created_by_id, leo.updated_by_id, leo.created_at) == (
        organiser.id,
        organiser.id,
        NOW,
    )
    db.session.refresh(existing)
    assert existing.first_name == "Zoé"
    assert existing.organisation is leo.organisation
    assert existing.updated_by_id == organiser.id


def test_apply_refuses_a_preview_with_a_rejected_line(app, organiser):
    data = csv_file([["nom", "courriel"], ["A", "a@example.org"], ["B", "bad"]])
    with pytest.raises(ValueError):
        importing.apply_import(preview_of(data), organiser, NOW)
    assert contact_count() == 0


def test_one_bad_line_means_nothing_is_written(app, organiser):
    data = csv_file(
        [["nom", "courriel"], ["A", "a@example.org"], ["B", "bad"], ["C", "c@example.org"]]
    )
    preview = importing.import_file(data, organiser, NOW, dry_run=False)
    db.session.commit()
    assert len(preview.rejected) == 1
    assert not preview.applied
    assert contact_count() == 0


def test_import_reads_the_directory_without_a_query_per_line(app, organiser, count_queries):
    def run(start: int, count: int) -> tuple[int, int, int]:
        rows = [["nom", "courriel", "structure", "commune"]]
        for number in range(start, start + count):
            email = f"c{number}@example.org" if number % 2 else ContactFactory().email
            rows.append([f"Nom {number}", email, f"Structure {number % 5}", "Dijon"])
        with count_queries() as counter:
            preview = importing.import_file(csv_file(rows), organiser, NOW, dry_run=False)
            db.session.commit()
        assert preview.applied
        reads = [sql for sql in counter.statements if sql.lstrip().upper().startswith("SELECT")]
        written = len(preview.created) + len(preview.updated) + len(preview.new_organisations)
        return len(reads), counter.count - len(reads), written

    small_reads, small_writes, small_written = run(0, 10)
    large_reads, large_writes, large_written = run(1000, 300)
    assert small_reads == large_reads
    # SQLite cannot batch INSERT ... RETURNING, so each new row may be its own INSERT;
    # updates go in one executemany, and PostgreSQL batches the inserts too.
    assert small_writes <= small_written + 2
    assert large_writes <= large_written + 2


def test_report_gives_counts_and_rejected_lines(app):
    data = csv_file(
        [["nom", "courriel", "Âge"], ["A", "a@example.org", "3"], ["", "b@example.org", ""]]
    )
    assert importing.report(preview_of(data)) == [
        "To create: 1",
        "To update: 0",
        "Unchanged: 0",
        "Rejected: 1",
        "Ignored columns: Âge",
        "Line 3: missing last name",
    ]
