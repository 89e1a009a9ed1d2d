"""The desk's time-grid calendar in Debian's chromium: clicking free time books a single session,
dragging moves a session to another time and to another therapist's column, a drag onto a taken
time snaps back with the reason read out; screenshots of the day by therapist, the week and the
rooms; axe on each grid view, and on the list view at 375 px and in Russian."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from practice.models import Practice, Role
from sessions.models import Session
from tests.browser.conftest import PHONE, fits_the_phone, logged_in
from tests.clock import local, today
from tests.factories import (
    ClosureFactory,
    PatientFactory,
    RoomFactory,
    ScreeningFactory,
    SessionFactory,
    TherapistFactory,
    TimeOffFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)
# Tall enough that the whole day is on screen: a drag never scrolls the page under it.
WIDE = {"width": 1280, "height": 2100}


@pytest.fixture
def day(practice: Practice) -> date:
    return today(practice, days=1)


@pytest.fixture
def desk_page(page: Page, live_server, practice, member) -> Page:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    page.set_viewport_size(WIDE)
    logged_in(page, live_server, "desk@example.com")
    return page


@pytest.fixture
def tess(practice):
    return TherapistFactory(
        practice=practice,
        name="Tess Ward",
        colour="#1b6ac9",
        week__starts=time(9),
        week__ends=time(17),
    )


@pytest.fixture
def omar(practice):
    return TherapistFactory(
        practice=practice,
        name="Omar Lind",
        colour="#b3261e",
        week__starts=time(9),
        week__ends=time(17),
    )


def grid_url(live_server, practice: Practice, day: date, **query: str) -> str:
    params = "&".join(f"{k}={v}" for k, v in {"date": day.isoformat(), **query}.items())
    return f"{live_server.url}/p/{practice.slug}/calendar/grid/?{params}"


def open_grid(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("#calendar-grid[data-ready=true]")).to_be_attached()
    expect(page.locator(".ec-bg-event.shade-working").first).to_be_attached()


def _y(page: Page, hhmm: str) -> float:
    """Where the `hhmm` line is on the screen: measured from the shaded working hours, which
    every therapist here has from 09:00 to 17:00 (EventCalendar draws no line elements)."""
    working = page.locator(".ec-bg-event.shade-working").first.bounding_box()
    assert working is not None
    hours, minutes = (int(part) for part in hhmm.split(":"))
    return working["y"] + (hours * 60 + minutes - 9 * 60) * working["height"] / (8 * 60)


def slot_point(page: Page, therapist: str, hhmm: str) -> tuple[float, float]:
    """A point just below the `hhmm` line in the therapist's column."""
    head = page.locator(".ec-header .ec-col-head", has=page.get_by_text(therapist, exact=True))
    column = head if head.count() else page.locator(".ec-body .ec-day").first
    box = column.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2, _y(page, hhmm) + 4


def line_offset(page: Page, event: Locator, hhmm: str) -> float:
    """How far below the `hhmm` line the event's top is (scrolling does not change it)."""
    box = event.bounding_box()
    assert box is not None
    return box["y"] - _y(page, hhmm)


def drag(page: Page, event: Locator, to: tuple[float, float]) -> int:
    """Drag `event` by its top edge to `to`; the status of the move request it sends."""
    box = event.bounding_box()
    assert box is not None
    with page.expect_response(lambda response: "/move/" in response.url) as answer:
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 4)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + 20, steps=5)
        page.mouse.move(to[0], to[1], steps=15)
        page.mouse.up()
    return answer.value.status


def test_the_desk_clicks_free_time_and_books_a_single_session(
    desk_page: Page, live_server, practice, tess, day, assert_accessible, screenshot
) -> None:
    page = desk_page
    patient = PatientFactory(practice=practice, given_name="Ann", family_name="Berg")
    ScreeningFactory(patient=patient, screened_on=today(practice))
    open_grid(page, grid_url(live_server, practice, day))
    x, y = slot_point(page, "Tess Ward", "11:00")
    page.mouse.click(x, y)

    expect(page.get_by_role("heading", name="Book a session")).to_be_visible()
    page.get_by_label("Find the patient").fill("Berg")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Book for Ann Berg").click()
    expect(page.get_by_role("heading", name="Book a session for Ann Berg")).to_be_visible()
    expect(page.get_by_label("Therapist")).to_have_value(str(tess.pk))
    expect(page.get_by_label("Starts")).to_have_value(f"{day.isoformat()}T11:00")
    assert_accessible(page)
    page.get_by_label("Massage type").select_option(label="Classical")
    page.get_by_role("button", name="Book the session").click()

    expect(page.get_by_text("The session is booked.")).to_be_visible()
    session = Session.objects.get()
    assert (session.patient, session.therapist) == (patient, tess)
    assert session.starts_at == local(practice, day, 11)
    expect(page.locator(".ec-event.session", has_text="Ann Berg")).to_be_visible()


def test_the_desk_drags_a_session_to_another_time_and_another_therapist(
    desk_page: Page, live_server, practice, tess, omar, day
) -> None:
    page = desk_page
    patient = PatientFactory(practice=practice, given_name="Ann", family_name="Berg")
    session = SessionFactory(therapist=tess, patient=patient, starts_at=local(practice, day, 10))
    open_grid(page, grid_url(live_server, practice, day))
    event = page.locator(".ec-event.session", has_text="Ann Berg")

    assert drag(page, event, slot_point(page, "Tess Ward", "13:00")) == 200
    expect(page.locator("#calendar-grid-status")).to_have_text("The session was moved.")
    session.refresh_from_db()
    assert (session.therapist, session.starts_at) == (tess, local(practice, day, 13))

    assert (
        drag(
            page,
            page.locator(".ec-event.session", has_text="Ann Berg"),
            slot_point(page, "Omar Lind", "14:00"),
        )
        == 200
    )
    expect(page.locator("#calendar-grid-status")).to_have_text("The session was moved.")
    session.refresh_from_db()
    assert (session.therapist, session.starts_at) == (omar, local(practice, day, 14))


def test_a_drag_onto_a_taken_time_snaps_back_with_the_reason(
    desk_page: Page, live_server, practice, tess, day
) -> None:
    page = desk_page
    moving = SessionFactory(
        therapist=tess,
        patient=PatientFactory(practice=practice, given_name="Ann", family_name="Berg"),
        starts_at=local(practice, day, 10),
    )
    SessionFactory(
        therapist=tess,
        patient=PatientFactory(practice=practice, given_name="Bo", family_name="Stahl"),
        starts_at=local(practice, day, 14),
    )
    open_grid(page, grid_url(live_server, practice, day))
    event = page.locator(".ec-event.session", has_text="Ann Berg")
    assert abs(line_offset(page, event, "10:00")) < 2

    assert drag(page, event, slot_point(page, "Tess Ward", "14:00")) == 409
    status = page.locator("#calendar-grid-status")
    expect(status).not_to_be_empty()
    assert "moved" not in status.inner_text()
    moving.refresh_from_db()
    assert moving.starts_at == local(practice, day, 10)
    # Snapped back to 10:00 on the grid.
    assert (
        abs(line_offset(page, page.locator(".ec-event.session", has_text="Ann Berg"), "10:00")) < 2
    )


def test_grid_views_screenshots_and_axe(
    desk_page: Page, live_server, practice, tess, omar, day, assert_accessible, screenshot
) -> None:
    page = desk_page
    room = RoomFactory(practice=practice, name="Blue room")
    SessionFactory(
        therapist=tess,
        room=room,
        patient=PatientFactory(practice=practice, given_name="Ann", family_name="Berg"),
        starts_at=local(practice, day, 10),
    )
    SessionFactory(
        therapist=omar,
        patient=PatientFactory(practice=practice, given_name="Bo", family_name="Stahl"),
        starts_at=local(practice, day, 11),
        kind="relaxing",
    )
    TimeOffFactory(
        therapist=omar, starts_at=local(practice, day, 14), ends_at=local(practice, day, 16)
    )
    ClosureFactory(
        practice=practice,
        starts_at=local(practice, day + timedelta(days=1), 9),
        ends_at=local(practice, day + timedelta(days=1), 13),
    )

    open_grid(page, grid_url(live_server, practice, day))
    expect(page.locator(".ec-event.session")).to_have_count(2)
    expect(page.locator(".ec-bg-event.shade-time_off")).to_have_count(1)
    assert_accessible(page)
    screenshot(page, "calendar-day-therapists")

    expect(page.locator("#colour-legend li")).to_have_text(["Omar Lind", "Tess Ward"])
    page.get_by_label("Colour sessions by").select_option("type")
    expect(page.locator("#colour-legend li")).to_have_text(["Classical", "Relaxing"])

    open_grid(page, grid_url(live_server, practice, day, view="week"))
    # Monday to Sunday for both therapists, inside 1280 px.
    expect(page.locator(".ec-header .ec-day, .ec-header .ec-col-head").first).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDE["width"]
    # The closure is painted over both therapists' working hours on Friday.
    expect(page.locator(".ec-bg-event.shade-closure")).to_have_count(2)
    assert_accessible(page)
    screenshot(page, "calendar-week")

    page.goto(grid_url(live_server, practice, day, by="room"))
    expect(page.locator("#calendar-grid[data-ready=true]")).to_be_attached()
    expect(page.locator(".ec-event.session")).to_have_count(2)
    assert_accessible(page)
    screenshot(page, "calendar-rooms")


def test_the_list_view_books_from_free_time_and_passes_axe_on_a_phone_and_in_russian(
    page: Page, live_server, practice, member, tess, day, assert_accessible
) -> None:
    member(practice, Role.FRONT_DESK, email="desk@example.com")
    SessionFactory(therapist=tess, starts_at=local(practice, day, 10))
    page.set_viewport_size(PHONE)
    logged_in(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/p/{practice.slug}/calendar/?date={day.isoformat()}")
    assert fits_the_phone(page)
    assert_accessible(page)
    book = page.locator(".day-column li.block-free").first.get_by_role("link", name="Book")
    expect(book).to_be_visible()
    book.click()
    expect(page.get_by_role("heading", name="Book a session")).to_be_visible()

    page.goto(f"{live_server.url}/p/{practice.slug}/calendar/?date={day.isoformat()}")
    page.get_by_label("Language").select_option("ru")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    assert fits_the_phone(page)
    assert_accessible(page)


def test_the_now_line_follows_the_practice_zone_across_a_daylight_saving_change(
    desk_page: Page, live_server, practice: Practice, day: date, tess
) -> None:
    """The component knows fixed offsets only: a grid left open across a change of offset
    takes the zone's new one within a minute, so the now-line stays on the wall clock."""
    zone = practice.zone

    def offset(moment: datetime) -> str:
        minutes = int(moment.astimezone(zone).utcoffset().total_seconds() // 60)
        return f"{'+' if minutes >= 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"

    served = offset(datetime.now(UTC))
    # A browser clock in the other season than the server's: as if the change happened
    # while the page was open.
    later = next(
        moment
        for moment in (datetime(2027, 1, 15, 12, tzinfo=UTC), datetime(2027, 7, 15, 12, tzinfo=UTC))
        if offset(moment) != served
    )
    desk_page.clock.install(time=later)
    open_grid(desk_page, grid_url(live_server, practice, day))
    grid = desk_page.locator("#calendar-grid")
    expect(grid).to_have_attribute("data-offset", served)
    desk_page.clock.run_for(61_000)
    expect(grid).to_have_attribute("data-offset", offset(later))
