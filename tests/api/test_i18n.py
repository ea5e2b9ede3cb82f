"""Page languages: complete, compiled catalogs; ?lang= then cookie then Accept-Language."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from microfab.l10n import catalogs
from microfab.l10n import languages as i18n


def test_every_catalog_translates_every_template_message_and_is_compiled() -> None:
    assert catalogs.check() == []


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("de", "ja", "vi", "de"),
        (None, "ja", "vi", "ja"),
        (None, None, "vi-VN,vi;q=0.9,en;q=0.5", "vi"),
        (None, None, "fr-FR,es-MX;q=0.8", "es"),
        (None, None, "fr-FR", "en"),
        ("xx-!!", "not a tag", None, "en"),
        (None, None, None, "en"),
    ],
)
def test_negotiation(query: str | None, cookie: str | None, accept: str | None, expected: str) -> None:
    assert i18n.negotiate(query, cookie, accept) == expected


@pytest.mark.parametrize(
    ("language", "sign_in"),
    [("en", "Sign in"), ("de", "Anmelden"), ("es", "Iniciar sesión"), ("ja", "サインイン"), ("vi", "Đăng nhập")],
)
def test_login_page_in_every_language(client: TestClient, language: str, sign_in: str) -> None:
    page = client.get(f"/login?lang={language}")
    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    assert f"<h1>{sign_in}</h1>" in page.text


def test_the_choice_is_remembered_and_the_browser_is_the_fallback(client: TestClient) -> None:
    first = client.get("/login?lang=de")
    assert first.cookies.get(i18n.COOKIE) == "de"
    assert "<h1>Anmelden</h1>" in client.get("/login").text
    client.cookies.clear()
    assert "<h1>サインイン</h1>" in client.get("/login", headers={"Accept-Language": "ja-JP,ja;q=0.9"}).text
