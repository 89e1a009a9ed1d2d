"""The report pages: managers only, one practice's figures only, the period filter's errors,
the charts beside their tables, and each table as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from practice.models import Role
from reports.registry import registry
from sessions.models import SessionStatus
from tests.clock import local
from tests.factories import PatientFactory, SessionFactory, TherapistFactory
from tests.pages import field_errors, logged_in, text

pytestmark = pytest.mark.django_db

SLUGS = [report.slug for report in registry.all()]
PAGES = [
    "/p/linden/reports/",
    "/p/linden/reports/no-shows/",
    "/p/linden/reports/no-shows/therapists.csv",
]


def csv_rows(response) -> list[list[str]]:
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


@pytest.mark.parametrize("slug", SLUGS)
def test_a_manager_sees_each_report_with_charts_and_tables(
    slug, practice, manager_client, history
) -> None:
    history(practice, 2)

    response = manager_client.get(f"/p/linden/reports/{slug}/")

    html = text(response)
    assert response.status_code == 200
    report = registry.get(slug)
    assert report is not None
    assert html.count("<table>") == len(report.table_keys)
    assert html.count(".csv") == len(report.table_keys)
    assert '<svg viewBox="0 0 640 280" role="img"' in html
    assert "<title id=" in html


def test_the_index_lists_every_report_and_the_menu_links_it_for_managers(
    practice, manager_client, desk
) -> None:
    index = text(manager_client.get("/p/linden/reports/"))
    home = text(manager_client.get("/"))
    desk_page = text(logged_in(desk).get("/p/linden/patients/"))
    desk_home = text(logged_in(desk).get("/"))

    for report in registry.all():
        assert f'href="/p/linden/reports/{report.slug}/"' in index
    assert 'href="/p/linden/reports/">Reports</a>' in index
    assert 'href="/p/linden/reports/">Reports</a>' in home
    assert 'href="/p/linden/reports/"' not in desk_page
    assert 'href="/p/linden/reports/"' not in desk_home


@pytest.mark.parametrize("role", [Role.FRONT_DESK, Role.THERAPIST, Role.PATIENT])
@pytest.mark.parametrize("path", PAGES)
def test_only_managers_may_open_reports(path, role, practice, member) -> None:
    response = logged_in(member(practice, role)).get(path)

    assert response.status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_another_practice_s_manager_gets_404(path, practice, other_practice, member) -> None:
    response = logged_in(member(other_practice, Role.MANAGER)).get(path)

    assert response.status_code == 404


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_log_in(path, client, practice) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_unknown_reports_and_tables_are_404(practice, manager_client) -> None:
    assert manager_client.get("/p/linden/reports/revenue/").status_code == 404
    assert manager_client.get("/p/linden/reports/no-shows/rooms.csv").status_code == 404


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("from=2026-07-02&to=2026-07-01", "to", "must not be before"),
        ("from=2026-13-01", "from", "Enter a valid date"),
        ("from=0001-01-01", "from", "between 2000 and 2100"),
        ("from=2020-01-01&to=2026-01-01", "to", "at most two years"),
        ("group=day", "group", "Select a valid choice"),
    ],
)
def test_a_bad_period_is_a_400_with_the_field_s_error(
    query, field, message, practice, manager_client
) -> None:
    page = manager_client.get(f"/p/linden/reports/courses/?{query}")
    export = manager_client.get(f"/p/linden/reports/courses/periods.csv?{query}")

    assert page.status_code == 400
    assert message in field_errors(text(page), field)
    assert "<table>" not in text(page)
    assert export.status_code == 400
    assert message in text(export)


def test_the_page_shows_the_default_period(practice, manager_client) -> None:
    html = text(manager_client.get("/p/linden/reports/courses/"))

    assert 'name="from" value="2026-04-15"' in html
    assert 'name="to" value="2026-07-15"' in html


def test_the_csv_has_headers_plain_numbers_and_the_period_asked_for(
    practice, manager_client
) -> None:
    anna = TherapistFactory(practice=practice, name="Anna Ärger", week=True)
    for day, status in [(1, SessionStatus.COMPLETED), (2, SessionStatus.NO_SHOW)]:
        SessionFactory(
            therapist=anna, starts_at=local(practice, date(2026, 6, day), 10), status=status
        )
    SessionFactory(therapist=anna, starts_at=local(practice, date(2026, 6, 3), 10))
    query = "from=2026-06-01&to=2026-06-30"

    response = manager_client.get(f"/p/linden/reports/no-shows/therapists.csv?{query}")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="no-shows-therapists-20260601-20260630.csv"'
    )
    assert csv_rows(response) == [
        [
            "Therapist id",
            "Therapist",
            "Appointments",
            "No-shows",
            "Late cancellations",
            "Missed rate",
        ],
        [str(anna.pk), "Anna Ärger", "3", "1", "0", "0.3333"],
    ]


@pytest.mark.parametrize("name", ['=HYPERLINK("http://x")', "+1+2", "-3", "@SUM(A1)", "\tx"])
def test_csv_names_that_look_like_formulas_are_escaped(name, practice, manager_client) -> None:
    therapist = TherapistFactory(practice=practice, name=name, week=True)
    patient = PatientFactory(practice=practice, given_name=name, family_name="X", chronic_plan=True)

    therapists = csv_rows(manager_client.get("/p/linden/reports/r12-rotation/therapists.csv"))
    due = csv_rows(manager_client.get("/p/linden/reports/r11-courses-per-year/due.csv"))

    assert therapists[1][:2] == [str(therapist.pk), "'" + name]
    assert due[1][:2] == [str(patient.pk), "'" + name + " X"]


@pytest.mark.parametrize("slug", SLUGS)
def test_another_practice_s_history_never_counts(
    slug, practice, other_practice, history, manager_client
) -> None:
    history(practice, 2, "Own")
    report = registry.get(slug)
    assert report is not None
    before = [
        csv_rows(manager_client.get(f"/p/linden/reports/{slug}/{table}.csv"))
        for table in report.table_keys
    ]

    history(other_practice, 3, "Foreign")
    after = [
        csv_rows(manager_client.get(f"/p/linden/reports/{slug}/{table}.csv"))
        for table in report.table_keys
    ]

    assert after == before
    assert "Foreign" not in str(after)
