"""The Content-Security-Policy and the cookies' flags; and page templates that need no
exception to the policy (no inline script, handler or style attribute)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD
from tests.pages import logged_in

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";") if " " in part.strip())


@pytest.mark.parametrize("path", ["/accounts/login/", "/p/linden/patients/", "/admin/login/"])
def test_pages_carry_a_policy_without_inline_scripts_or_styles(desk, path: str) -> None:
    response = logged_in(desk).get(path)

    policy = directives(response)
    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"


def test_swagger_ui_loads_its_script_as_a_file_and_may_use_inline_styles_only(db) -> None:
    page = Client().get("/api/docs/")
    script = Client().get("/api/docs/?script=")

    assert page.status_code == 200
    assert "<script>" not in page.text
    assert 'src="/api/docs/?script=' in page.text
    assert directives(page)["script-src"] == "'self'"
    assert directives(page)["style-src"] == "'self' 'unsafe-inline'"
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


def test_the_session_and_csrf_cookies_are_http_only_and_same_site(desk) -> None:
    client = Client()
    login_page = client.get(reverse("login"))
    signed_in = client.post(reverse("login"), {"username": desk.email, "password": PASSWORD})

    csrf = login_page.cookies["csrftoken"]
    session = signed_in.cookies["sessionid"]
    assert csrf["httponly"]
    assert csrf["samesite"] == "Lax"
    assert session["httponly"]
    assert session["samesite"] == "Lax"


# Emails are no pages: the CSP does not apply to them, and mail clients want inline styles.
EMAIL_TEMPLATES = "sessions/templates/sessions/reminders/"
_INLINE = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>|\son[a-z]+=|\sstyle=", re.I)


def test_no_page_template_has_inline_scripts_handlers_or_styles() -> None:
    root = Path(settings.BASE_DIR)
    offenders = [
        f"{path.relative_to(root)}: {match.group(0).strip()}"
        for path in root.glob("*/templates/**/*.html")
        if not path.relative_to(root).as_posix().startswith(EMAIL_TEMPLATES)
        for match in _INLINE.finditer(path.read_text())
    ]
    offenders += [
        f"{path.relative_to(root)}: {match.group(0).strip()}"
        for path in (root / "templates").glob("**/*.html")
        for match in _INLINE.finditer(path.read_text())
    ]

    assert not offenders
