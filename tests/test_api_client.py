"""The schema is enough to build an app on: a Python client generated from it
(openapi-python-client) signs a new patient in, reads the catalogue, finds a free time and
books it, retrying the booking safely, all through the generated code only."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command

from practice.models import Practice, Role
from sessions.models import Session
from tests.clock import today
from tests.factories import PASSWORD, PatientFactory, ScreeningFactory, TherapistFactory

pytestmark = pytest.mark.django_db

PACKAGE = "practice_api_client"


@pytest.fixture
def generated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The client package generated from the API's schema, importable for this test."""
    schema = tmp_path / "schema.json"
    call_command("spectacular", "--format", "openapi-json", "--file", str(schema))
    json_bodies_only(schema)
    tools = Path(sys.executable).parent  # the generator formats its output with ruff, there
    subprocess.run(
        [
            tools / "openapi-python-client",
            "generate",
            "--path",
            schema,
            "--output-path",
            tmp_path / PACKAGE,
            "--meta",
            "none",
            "--fail-on-warning",
        ],
        check=True,
        capture_output=True,
        # Not here: the project's ruff settings would rewrite the generated code.
        cwd=tmp_path,
        env={**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"},
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [name for name in sys.modules if name.startswith(PACKAGE)]:
        monkeypatch.delitem(sys.modules, name)
    return importlib.import_module(PACKAGE)


def json_bodies_only(schema: Path) -> None:
    """Each request body as JSON only, as an app sends it. The operations also read forms
    (DRF's parsers), and for a body of several media types openapi-python-client 0.29
    writes `body: X | Unset` without importing Unset: the generated module does not load."""
    document = json.loads(schema.read_text())
    for methods in document["paths"].values():
        for operation in methods.values():
            body = operation.get("requestBody")
            if body is not None:
                body["content"] = {"application/json": body["content"]["application/json"]}
    schema.write_text(json.dumps(document))


def operation(name: str) -> ModuleType:
    """One operation of the generated client, by its operationId (e.g. v1_sessions_create)."""
    return importlib.import_module(f"{PACKAGE}.api.v1.{name}")


def test_a_generated_client_signs_in_reads_the_catalogue_and_books_a_first_visit(
    generated: ModuleType, practice: Practice, member, wsgi_app: WSGIHandler
) -> None:
    user = member(practice, Role.PATIENT, email="new.patient@example.com")
    ScreeningFactory(patient=PatientFactory(practice=practice, user=user))
    anna = TherapistFactory(practice=practice, name="Anna", week=True)
    models = importlib.import_module(f"{PACKAGE}.models")
    over_wsgi = {"transport": httpx.WSGITransport(app=wsgi_app)}
    anonymous = generated.Client(base_url="http://testserver", httpx_args=over_wsgi)

    tokens = operation("v1_auth_token_create").sync(
        client=anonymous,
        body=models.TokenObtainPairRequest(email="new.patient@example.com", password=PASSWORD),
    )
    client = generated.AuthenticatedClient(
        base_url="http://testserver", token=tokens.access, httpx_args=over_wsgi
    )
    types = operation("v1_massage_types_list").sync(client=client, online_bookable=True)
    classical = next(kind for kind in types.results if kind.code == "classical")
    therapists = operation("v1_therapists_list").sync(client=client, massage_type=classical.id)
    day = today(practice, days=3)
    availability = operation("v1_availability_retrieve").sync(
        client=client,
        therapist=therapists.results[0].id,
        massage_type=classical.id,
        from_=day,
        to=day,
    )
    book = operation("v1_sessions_create")
    request = models.SessionBookRequest(
        therapist=anna.pk, massage_type=classical.id, starts_at=availability.slots[0].starts_at
    )
    booked = book.sync_detailed(client=client, body=request, idempotency_key="first-visit")
    retried = book.sync_detailed(client=client, body=request, idempotency_key="first-visit")

    assert (classical.name, classical.minutes) == ("Classical", 15)
    assert [therapist.name for therapist in therapists.results] == ["Anna"]
    assert booked.status_code == 201, booked.content
    assert booked.parsed.therapist_name == "Anna"
    assert booked.parsed.massage_type_name == "Classical"
    assert booked.parsed.starts_at == availability.slots[0].starts_at
    assert (retried.status_code, retried.parsed.id) == (201, booked.parsed.id)
    assert Session.objects.get().patient.user == user
