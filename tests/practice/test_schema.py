from __future__ import annotations

import pytest
from django.core.management import call_command


def test_openapi_schema_generates_without_warnings(tmp_path) -> None:
    target = tmp_path / "schema.yaml"
    # --fail-on-warn turns every drf-spectacular warning or error into a failure.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/me/" in target.read_text()


@pytest.mark.django_db
def test_swagger_ui_and_schema_are_served(client) -> None:
    assert client.get("/api/schema/").status_code == 200
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI is served from our static files, so the docs work without the internet.
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in docs.content.decode()
    assert "cdn" not in docs.content.decode().lower()
