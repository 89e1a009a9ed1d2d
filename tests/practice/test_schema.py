from __future__ import annotations

import re

import pytest
from django.core.management import call_command
from drf_spectacular.generators import SchemaGenerator


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


def api_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema_every_operation_documents_its_failures_with_the_error_body() -> None:
    error = {"$ref": "#/components/schemas/Error"}
    # The error body naming the records a new patient looks like (status, code, detail too).
    duplicates = {"$ref": "#/components/schemas/DuplicateResponse"}
    operations = [
        (path, method, operation)
        for path, methods in api_schema()["paths"].items()
        for method, operation in methods.items()
    ]

    for path, method, operation in operations:
        responses = operation["responses"]
        expected = {"400", "401", "429"}
        if not path.startswith("/api/v1/auth/"):
            expected.add("403")
        if "{" in path:
            expected.add("404")
        if "requestBody" in operation:
            expected.add("415")
        assert expected <= set(responses), (method, path)
        for code, response in responses.items():
            if code >= "400":
                schema = response["content"]["application/json"]["schema"]
                assert schema == error or (code, schema) == ("409", duplicates), (path, code)
    statuses = {(path, method): set(op["responses"]) for path, method, op in operations}
    assert "409" in statuses[("/api/v1/sessions/{id}/cancel/", "post")]
    assert "404" in statuses[("/api/v1/sessions/", "get")]  # a page past the last


def test_schema_local_times_and_nullable_users_match_what_is_served() -> None:
    components = api_schema()["components"]["schemas"]
    preferred_time = components["Course"]["properties"]["preferred_time"]
    screening = components["Screening"]["properties"]

    assert "format" not in preferred_time
    assert re.match(preferred_time["pattern"], "13:00:00")
    assert screening["confirmed_by"]["nullable"] is True
    assert screening["recorded_by"]["nullable"] is True


def test_idempotency_every_signed_in_post_documents_the_header_and_its_422() -> None:
    posts = {
        path: methods["post"]
        for path, methods in api_schema()["paths"].items()
        if "post" in methods and not path.startswith("/api/v1/auth/")
    }

    assert "/api/v1/sessions/" in posts
    assert "/api/v1/sessions/{id}/check-in/" in posts
    for path, operation in posts.items():
        headers = [p for p in operation["parameters"] if p["in"] == "header"]
        assert {p["name"] for p in headers} == {"X-Practice", "Idempotency-Key"}, path
        assert not any(header.get("required", False) for header in headers)
        assert "422" in operation["responses"], path


def test_every_signed_in_operation_documents_the_x_practice_header() -> None:
    operations = [
        (path, operation)
        for path, methods in api_schema()["paths"].items()
        for operation in methods.values()
    ]
    for path, operation in operations:
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        signed_in = "403" in operation["responses"]
        assert ("X-Practice" in names) is signed_in, path
    assert any(path == "/api/v1/auth/token/" for path, _ in operations)


def test_api_catalogue_schema_documents_304_validators_and_every_filter() -> None:
    paths = api_schema()["paths"]

    for path in ("/api/v1/practice/", "/api/v1/massage-types/", "/api/v1/therapists/{id}/"):
        responses = paths[path]["get"]["responses"]
        assert "304" in responses, path
        assert set(responses["200"]["headers"]) == {"ETag", "Last-Modified"}
    queries = {
        path: {p["name"] for p in paths[path]["get"]["parameters"] if p["in"] == "query"}
        for path in (
            "/api/v1/massage-types/",
            "/api/v1/therapists/",
            "/api/v1/rooms/",
            "/api/v1/patients/",
        )
    }
    assert queries["/api/v1/massage-types/"] == {"active", "online_bookable", "page"}
    assert queries["/api/v1/therapists/"] == {"active", "massage_type", "page"}
    assert queries["/api/v1/rooms/"] == {"active", "page"}
    assert queries["/api/v1/patients/"] == {"archived", "cursor", "page_size", "q", "search"}


def test_schema_the_token_endpoint_documents_the_sign_in_lock_as_its_429() -> None:
    paths = api_schema()["paths"]
    locked = paths["/api/v1/auth/token/"]["post"]["responses"]["429"]
    refresh = paths["/api/v1/auth/token/refresh/"]["post"]["responses"]["429"]

    assert "Too many failed sign-ins" in locked["description"]
    assert "`locked`" in locked["description"]
    assert locked["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    # Refreshing signs nobody in with a password, so it is never locked: only rate-limited.
    assert "failed sign-ins" not in refresh["description"]
