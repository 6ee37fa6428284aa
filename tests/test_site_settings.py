"""The administrator's site settings: who may edit them, saving, and the check of the sites
allowed to frame the agenda."""

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import SiteSettings
from app.settings.services import (
    InvalidOrigin,
    consent_sentence,
    current_settings,
    embed_origins,
    normalised_origin,
    save_settings,
)


def settings_form(**changes) -> dict[str, str]:
    data = {
        "network_name": "Réseau des centres sociaux du Val d'Oise",
        "registration_consent": "Vos données servent à organiser les rencontres du réseau.",
        "embed_origins": "https://www.centres-sociaux-95.org\nhttps://*.val-doise.fr",
    }
    data.update(changes)
    return data


# Who may see the page


def test_administrator_sees_the_settings_with_the_default_consent_as_help(as_admin):
    as_admin.set_cookie("lang", "en")
    response = as_admin.get("/admin/settings")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1>Settings</h1>" in page
    assert "Left empty, this sentence is used:" in page
    assert "at most three years after your last meeting" in page
    assert "with none, no site can" in page
    assert "http://localhost/agenda/embed" in page
    # Reading the page saved nothing.
    assert db.session.scalar(select(func.count(SiteSettings.id))) == 0


def test_settings_link_is_in_the_administrators_menu_only(client, login, admin, organiser):
    login(admin)
    assert 'href="/admin/settings"' in client.get("/account").get_data(as_text=True)
    login(organiser)
    assert 'href="/admin/settings"' not in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize("method", ["get", "post"])
def test_organisers_may_not_change_the_settings(as_organiser, method):
    response = getattr(as_organiser, method)("/admin/settings", data=settings_form())
    assert response.status_code == 403
    assert db.session.get(SiteSettings, 1) is None


@pytest.mark.parametrize("method", ["get", "post"])
def test_visitors_are_sent_to_the_login_page(client, admin, method):
    response = getattr(client, method)("/admin/settings", data=settings_form())
    assert response.status_code == 302
    assert "/login" in response.location
    assert db.session.get(SiteSettings, 1) is None


# Saving


def test_administrator_saves_the_settings_and_finds_them_again(as_admin):
    as_admin.set_cookie("lang", "en")
    response = as_admin.post(
        "/admin/settings",
        data=settings_form(
            embed_origins="  HTTPS://www.Centres-Sociaux-95.org/ \n\nhttps://*.val-doise.fr\n"
            "https://www.centres-sociaux-95.org:443"
        ),
    )
    assert response.status_code == 302
    assert response.location.endswith("/admin/settings")
    settings = db.session.get(SiteSettings, 1)
    assert settings.network_name == "Réseau des centres sociaux du Val d'Oise"
    assert consent_sentence(settings).startswith("Vos données servent")
    # Written as the policy needs them, each once.
    assert settings.embed_origins == "https://www.centres-sociaux-95.org\nhttps://*.val-doise.fr"
    page = as_admin.get("/admin/settings").get_data(as_text=True)
    assert "The settings are saved." in page
    assert 'value="Réseau des centres sociaux du Val d&#39;Oise"' in page

    as_admin.post("/admin/settings", data=settings_form(embed_origins="", network_name=""))
    db.session.expire_all()
    assert db.session.scalar(select(func.count(SiteSettings.id))) == 1
    assert embed_origins() == []
    assert current_settings().network_name == ""


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("www.example.org", "write the address with https://"),
        ("ftp://www.example.org", "write the address with https://"),
        ("https://www.example.org/agenda", "without a page after the name"),
        ("https://www.example.org?x=1", "without a page after the name"),
        ("https://www.example.org:99999", "a number from 1 to 65535"),
        ("https://*.org", "may only replace the first part of a name"),
        ("https://www.*.example.org", "may only replace the first part of a name"),
        ("https://*", "may only replace the first part of a name"),
        ("https://exa mple.org", "this is not the name of a site"),
        ("https://example.org;script-src", "this is not the name of a site"),
        ("https://'unsafe-inline'", "this is not the name of a site"),
        ("https://example.org,https://evil.example", "without a page after the name"),
    ],
)
def test_a_wrong_site_is_refused_naming_its_line_and_keeping_what_was_typed(as_admin, line, reason):
    as_admin.set_cookie("lang", "en")
    typed = f"https://www.example.org\n{line}"
    response = as_admin.post(
        "/admin/settings", data=settings_form(embed_origins=typed, network_name="Mon réseau")
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Please correct the errors below." in page
    assert 'id="embed_origins-error"' in page
    assert "Line 2 (" in page
    assert reason in page
    assert 'aria-invalid="true"' in page
    # What was typed is kept, in every field.
    assert 'value="Mon réseau"' in page
    assert "https://www.example.org\n" in page
    assert db.session.get(SiteSettings, 1) is None


def test_too_long_a_name_is_refused_next_to_its_field(as_admin):
    as_admin.set_cookie("lang", "en")
    response = as_admin.post("/admin/settings", data=settings_form(network_name="x" * 201))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="network_name-error"' in page
    assert db.session.get(SiteSettings, 1) is None


def test_too_many_sites_are_refused(as_admin):
    as_admin.set_cookie("lang", "en")
    many = "\n".join(f"https://site{number}.example.org" for number in range(21))
    response = as_admin.post("/admin/settings", data=settings_form(embed_origins=many))
    assert "Give at most 20 sites." in response.get_data(as_text=True)


def test_settings_are_saved_by_the_service_which_creates_the_row_once(app):
    save_settings(" Réseau ", " ", ["https://a.example.org", "https://a.example.org"])
    save_settings("Réseau 2", "Phrase.", ["https://b.example.org"])
    db.session.commit()
    settings = db.session.scalars(select(SiteSettings)).one()
    assert (settings.id, settings.network_name, settings.embed_origins) == (
        1,
        "Réseau 2",
        "https://b.example.org",
    )
    assert consent_sentence() == "Phrase."


@pytest.mark.parametrize(
    ("line", "origin"),
    [
        ("https://www.example.org", "https://www.example.org"),
        ("HTTPS://WWW.Example.org/", "https://www.example.org"),
        ("http://localhost:8080", "http://localhost:8080"),
        ("https://example.org:443", "https://example.org"),
        ("http://example.org:80", "http://example.org"),
        ("https://*.example.org", "https://*.example.org"),
        ("https://mairie-évry.fr", "https://xn--mairie-vry-h7a.fr"),
    ],
)
def test_origins_are_normalised_as_the_policy_needs_them(app, line, origin):
    assert normalised_origin(line) == origin


@pytest.mark.parametrize("line", ["https://a.org\nb", "https://a.org;b", "https://a.org b", ""])
def test_no_separator_of_the_header_passes_the_check(app, line):
    with pytest.raises(InvalidOrigin):
        normalised_origin(line)
