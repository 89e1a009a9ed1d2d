"""The reports over the API: managers only, the same figures as the pages, the period's
errors as 400s naming the field, and the schema documenting it all."""

from __future__ import annotations

from datetime import date

import pytest

from practice.models import Role
from reports.registry import registry
from sessions.models import SessionStatus
from tests.clock import local
from tests.factories import SessionFactory, TherapistFactory

pytestmark = pytest.mark.django_db


def test_a_manager_lists_the_reports(practice, member, api_as) -> None:
    response = api_as(member(practice, Role.MANAGER)).get("/api/v1/reports/")

    assert response.status_code == 200
    assert [r["slug"] for r in response.json()] == [r.slug for r in registry.all()]
    assert response.json()[1] == {
        "slug": "no-shows",
        "title": "No-shows and late cancellations",
        "description": registry.all()[1].description,
        "grouped": True,
        "tables": ["periods", "therapists"],
    }


def test_a_report_over_the_api_has_its_columns_and_rows(practice, member, api_as) -> None:
    anna = TherapistFactory(practice=practice, name="Anna", week=True)
    for day, status in [(1, SessionStatus.COMPLETED), (2, SessionStatus.NO_SHOW)]:
        SessionFactory(
            therapist=anna, starts_at=local(practice, date(2026, 6, day), 10), status=status
        )

    response = api_as(member(practice, Role.MANAGER)).get(
        "/api/v1/reports/no-shows/", {"from": "2026-06-01", "to": "2026-06-30", "group": "week"}
    )

    body = response.json()
    assert response.status_code == 200
    assert (body["from"], body["to"], body["group"]) == ("2026-06-01", "2026-06-30", "week")
    therapists = body["tables"][1]
    assert therapists["key"] == "therapists"
    assert therapists["columns"][5] == {
        "key": "missed_rate",
        "label": "Missed rate",
        "kind": "ratio",
    }
    assert therapists["rows"] == [
        {
            "therapist_id": anna.pk,
            "therapist": "Anna",
            "appointments": 2,
            "no_shows": 1,
            "late_cancellations": 0,
            "missed_rate": 0.5,
        }
    ]
    assert [row["period"] for row in body["tables"][0]["rows"]] == [
        "2026-06-01",
        "2026-06-08",
        "2026-06-15",
        "2026-06-22",
        "2026-06-29",
    ]


def test_the_default_period_is_the_last_three_months(practice, member, api_as) -> None:
    body = api_as(member(practice, Role.MANAGER)).get("/api/v1/reports/courses/").json()

    assert (body["from"], body["to"], body["group"]) == ("2026-04-15", "2026-07-15", "month")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"from": "2026-07-02", "to": "2026-07-01"}, "to"),
        ({"from": "not-a-date"}, "from"),
        ({"from": "0001-01-01"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"from": "2020-01-01", "to": "2026-01-01"}, "to"),
        ({"group": "year"}, "group"),
    ],
)
def test_a_bad_period_is_a_400_naming_the_field(query, field, practice, member, api_as) -> None:
    response = api_as(member(practice, Role.MANAGER)).get("/api/v1/reports/utilisation/", query)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == [field]


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.THERAPIST, Role.PATIENT])
@pytest.mark.parametrize("path", ["/api/v1/reports/", "/api/v1/reports/courses/"])
def test_only_managers_may_read_reports(path, role, practice, member, api_as) -> None:
    response = api_as(member(practice, role)).get(path)

    assert response.status_code == 403


def test_a_manager_of_another_practice_cannot_read_this_one_s(
    practice, other_practice, member, api_as
) -> None:
    client = api_as(member(other_practice, Role.MANAGER))

    response = client.get("/api/v1/reports/courses/", HTTP_X_PRACTICE="linden")

    assert response.status_code == 403


def test_an_unknown_report_is_404(practice, member, api_as) -> None:
    response = api_as(member(practice, Role.MANAGER)).get("/api/v1/reports/revenue/")

    assert response.status_code == 404


def test_the_schema_documents_the_reports(client, db) -> None:
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()

    listing = schema["paths"]["/api/v1/reports/"]["get"]
    report = schema["paths"]["/api/v1/reports/{report}/"]["get"]
    parameters = {p["name"]: p for p in report["parameters"]}
    assert sorted(parameters["report"]["schema"]["enum"]) == sorted(r.slug for r in registry.all())
    assert parameters["from"]["schema"]["format"] == "date"
    assert parameters["to"]["schema"]["format"] == "date"
    assert parameters["group"]["schema"]["enum"] == ["week", "month"]
    assert {"200", "400", "401", "403", "404"} <= set(report["responses"])
    assert {"200", "401", "403"} <= set(listing["responses"])
    result = schema["components"]["schemas"]["ReportResult"]
    assert set(result["properties"]) == {"report", "from", "to", "group", "tables"}
