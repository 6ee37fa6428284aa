"""End to end in a real browser: first-run setup, login, create and publish a meeting.

Playwright drives Debian's Chromium (/usr/bin/chromium); the test skips where it is absent,
unless REQUIRE_BROWSER is set (as .ci/run does), where its absence is a failure.
"""

import os
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app import create_app
from app.extensions import db
from app.models import Contact, Meeting, MeetingStatus, Organisation, User
from config import TestingConfig
from tests.conftest import USING_POSTGRES, reset_database
from tests.live_server import serving

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture
def browser():
    if not CHROMIUM.exists():
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=BROWSER_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def live_app(tmp_path):
    """The app with CSRF on, on a database file the server's threads share."""
    database = {} if USING_POSTGRES else {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/e2e.db"}
    app = create_app(TestingConfig, WTF_CSRF_ENABLED=True, **database)
    with app.app_context():
        reset_database()
    with serving(app) as base_url:
        yield app, base_url
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


FRENCH_EXCEL_CSV = (
    "Civilité;Prénom;Nom;Courriel;Structure;Fonction;Téléphone;Commune\r\n"
    "Mme;Hélène;Dupont;helene.dupont@cs-chenove.example;Centre social du Mail;Directrice;"
    "03 80 51 22 33;Chenôve\r\n"
    'M.;Éric;Martin;eric.martin@college.example;Collège Jean Rostand;"Principal\r\nadjoint";'
    "0380112233;Dijon\r\n"
).encode("cp1252")


def test_setup_login_create_and_publish_a_meeting(browser, live_app, tmp_path):
    app, base_url = live_app
    page = browser.new_page(locale="fr-FR", viewport={"width": 360, "height": 800})

    # First run: any page leads to the setup of the administrator account.
    page.goto(f"{base_url}/meetings/")
    assert page.url.endswith("/setup")
    assert page.locator("html").get_attribute("lang") == "fr"
    page.fill("#name", "Nadia Chargée")
    page.fill("#email", "nadia@federation.example")
    page.fill("#password", "une phrase de passe solide")
    page.fill("#password_again", "une phrase de passe solide")
    page.locator("main form button[type=submit]").click()

    # Log out, then back in.
    page.locator("form[action$='/logout'] button").click()
    page.goto(f"{base_url}/login")
    page.fill("#email", "nadia@federation.example")
    page.fill("#password", "une phrase de passe solide")
    page.locator("main form button[type=submit]").click()
    assert "/login" not in page.url

    # Import a CSV saved by French Excel, after its preview.
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_bytes(FRENCH_EXCEL_CSV)
    page.goto(f"{base_url}/contacts/import")
    page.set_input_files("input[type=file]", str(csv_file))
    page.locator("main form [type=submit]").first.click()
    assert page.locator(".preview-created").first.is_visible()
    page.locator("form[action*='/contacts/import/'] button").click()
    page.goto(f"{base_url}/contacts/?q=chenove")
    assert "helene.dupont@cs-chenove.example" in page.locator("main").inner_text()

    # Create an organisation by hand.
    page.goto(f"{base_url}/organisations/new")
    page.fill("#name", "Fédération des centres sociaux du Val d'Oise")
    page.select_option("#kind", "federation")
    page.fill("#town", "Cergy")
    page.locator("main form [type=submit]").last.click()
    assert page.locator("h1").inner_text() == "Fédération des centres sociaux du Val d'Oise"

    # Create a meeting as a draft.
    page.goto(f"{base_url}/meetings/new")
    day = date.today() + timedelta(days=30)
    page.fill("#title", "Groupe de travail des centres sociaux")
    page.fill("#start_date", day.isoformat())
    page.fill("#start_time", "09:00")
    page.fill("#end_time", "12:30")
    page.fill("#venue_name", "Maison de quartier")
    page.fill("#venue_address", "2 rue des Écoles")
    page.fill("#venue_postcode", "95000")
    page.fill("#venue_town", "Cergy")
    page.fill("#programme", "9:00 Accueil\n9:30 Présentation du projet\n11:00 Ateliers")
    page.locator("main form button[type=submit]").last.click()
    assert page.locator("h1").inner_text() == "Groupe de travail des centres sociaux"
    assert "de 9 h 00 à 12 h 30" in page.locator("main").inner_text()

    # Publish it.
    page.locator("form[action$='/publish'] button").click()
    assert page.locator(".status-published").count() >= 1

    with app.app_context():
        meeting = db.session.scalars(select(Meeting)).one()
        assert meeting.status is MeetingStatus.PUBLISHED
        assert [item.text for item in meeting.programme_items] == [
            "Accueil",
            "Présentation du projet",
            "Ateliers",
        ]
        assert db.session.scalars(select(Contact.last_name).order_by(Contact.id)).all() == [
            "Dupont",
            "Martin",
        ]
        # The line break inside the quoted cell stays inside the field, folded to a space.
        function = db.session.scalar(select(Contact.function).where(Contact.last_name == "Martin"))
        assert function == "Principal adjoint"
        assert len(db.session.scalars(select(Organisation)).all()) == 3
        organiser = db.session.scalars(select(User)).one()
        assert meeting.organisers == [organiser]
        assert organiser.is_admin
