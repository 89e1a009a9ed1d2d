from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

pytestmark = pytest.mark.django_db


def test_every_page_links_the_favicon(client) -> None:
    page = client.get("/accounts/login/").content.decode()

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert '<link rel="icon" href="/static/favicon.ico"' in page
    svg = Path(finders.find("favicon.svg"))
    assert svg.read_text().startswith("<svg")


def test_favicon_ico_at_the_root_leads_to_the_static_icon(client) -> None:
    # Browsers (and the admin's pages, which link none) ask for /favicon.ico on their own.
    response = client.get("/favicon.ico")

    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.ico"
    icon = Path(finders.find("favicon.ico")).read_bytes()
    assert icon[:4] == b"\x00\x00\x01\x00"  # an icon resource, not a renamed image
