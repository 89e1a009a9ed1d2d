"""The practice and its catalogue over the API: contents, languages, tenancy, roles,
conditional GETs and query counts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from practice.models import MassageType, Role
from practice.prices import price_set
from tests.factories import MembershipFactory, RoomFactory, TherapistFactory, massage_type

pytestmark = pytest.mark.django_db

PRACTICE = "/api/v1/practice/"
TYPES = "/api/v1/massage-types/"
THERAPISTS = "/api/v1/therapists/"
ROOMS = "/api/v1/rooms/"


@pytest.fixture
def staff(practice, member):
    return member(practice, Role.FRONT_DESK)


@pytest.fixture
def patient_user(practice, member):
    return member(practice, Role.PATIENT)


def test_api_catalogue_practice_has_contacts_time_zone_and_policies(practice, staff, api_as):
    practice.settings.address = "Lindenstraße 1, Berlin"
    practice.settings.phone = "+49 30 1234567"
    practice.settings.cancellation_notice_hours = 12
    practice.settings.save()

    body = api_as(staff).get(PRACTICE).json()

    assert body == {
        "id": practice.pk,
        "name": "Linden",
        "slug": "linden",
        "time_zone": "Europe/Berlin",
        "address": "Lindenstraße 1, Berlin",
        "phone": "+49 30 1234567",
        "currency": "EUR",
        "policies": {"cancellation_notice_hours": 12, "booking_horizon_days": 90},
    }


def test_api_catalogue_massage_types_have_minutes_price_and_online_flag(
    practice, patient_user, api_as
):
    classical = massage_type(practice)
    yesterday = timezone.now() - timedelta(days=1)
    price_set(massage_type=classical, minutes=15, amount=Decimal("45.00"), valid_from=yesterday)
    # Neither a price for another length nor one set for next week is today's.
    price_set(massage_type=classical, minutes=30, amount=Decimal("80.00"), valid_from=yesterday)
    next_week = timezone.now() + timedelta(days=7)
    price_set(massage_type=classical, minutes=15, amount=Decimal("50.00"), valid_from=next_week)
    MassageType.objects.filter(practice=practice, code="cupping").update(online_bookable=False)

    body = api_as(patient_user).get(TYPES).json()

    listed = {row["code"]: row for row in body["results"]}
    assert listed["classical"] == {
        "id": classical.pk,
        "code": "classical",
        "name": "Classical",
        "minutes": 15,
        "price": "45.00",
        "currency": "EUR",
        "online_bookable": True,
        "active": True,
    }
    assert listed["relaxing"]["price"] is None
    assert listed["cupping"]["online_bookable"] is False
    only_online = api_as(patient_user).get(TYPES, {"online_bookable": "true"}).json()
    assert "cupping" not in {row["code"] for row in only_online["results"]}


def test_api_catalogue_names_default_types_in_russian(practice, patient_user, api_as):
    client = api_as(patient_user)
    in_english = client.get(TYPES, HTTP_ACCEPT_LANGUAGE="en")

    in_russian = client.get(TYPES, HTTP_ACCEPT_LANGUAGE="ru", HTTP_IF_NONE_MATCH=in_english["ETag"])

    names = {row["code"]: row["name"] for row in in_russian.json()["results"]}
    assert names["classical"] == "Классический"
    assert names["lymphatic"] == "Лимфодренажный"
    # A cached English list is not Russian: the validator is the body's.
    assert in_russian.status_code == 200


def test_api_catalogue_a_patient_sees_active_rows_staff_see_all(
    practice, staff, patient_user, api_as
):
    MassageType.objects.filter(practice=practice, code="honey").update(active=False)
    TherapistFactory(practice=practice, name="Retired", active=False)

    for_patient = api_as(patient_user).get(TYPES).json()["results"]
    for_staff = api_as(staff).get(TYPES).json()["results"]
    therapists_for_patient = api_as(patient_user).get(THERAPISTS).json()["results"]
    therapists_for_staff = api_as(staff).get(THERAPISTS).json()["results"]

    assert "honey" not in {row["code"] for row in for_patient}
    assert "honey" in {row["code"] for row in for_staff}
    assert therapists_for_patient == []
    assert [row["name"] for row in therapists_for_staff] == ["Retired"]


def test_api_catalogue_therapists_name_the_types_they_give(practice, patient_user, api_as):
    classical, sports = massage_type(practice), massage_type(practice, "sports")
    anna = TherapistFactory(practice=practice, name="Anna", massage_types=[classical, sports])
    TherapistFactory(practice=practice, name="Boris", massage_types=[sports])
    anna.photo_url = "https://example.com/anna.jpg"
    anna.save()

    rows = api_as(patient_user).get(THERAPISTS).json()["results"]
    giving_classical = api_as(patient_user).get(THERAPISTS, {"massage_type": classical.pk})

    assert rows[0] == {
        "id": anna.pk,
        "name": "Anna",
        "massage_types": sorted([classical.pk, sports.pk]),
        "photo_url": "https://example.com/anna.jpg",
        "active": True,
    }
    assert rows[1]["name"] == "Boris"
    assert rows[1]["photo_url"] is None
    assert [row["name"] for row in giving_classical.json()["results"]] == ["Anna"]


def test_api_catalogue_rooms_are_for_staff_only(practice, staff, patient_user, api_as):
    room = RoomFactory(practice=practice, name="Blue")

    as_staff = api_as(staff).get(ROOMS)
    as_patient = api_as(patient_user).get(ROOMS)

    assert as_staff.status_code == 200
    assert as_staff.json()["results"] == [{"id": room.pk, "name": "Blue", "active": True}]
    assert api_as(staff).get(ROOMS, {"active": "false"}).json()["results"] == []
    assert as_patient.status_code == 403
    assert api_as(patient_user).get(f"{ROOMS}{room.pk}/").status_code == 403


@pytest.mark.parametrize(
    ("path", "make"),
    [
        (TYPES, lambda practice: massage_type(practice)),
        (THERAPISTS, lambda practice: TherapistFactory(practice=practice)),
        (ROOMS, lambda practice: RoomFactory(practice=practice)),
    ],
)
def test_api_catalogue_another_practices_rows_are_never_listed_and_404(
    practice, other_practice, staff, api_as, path, make
):
    mine, theirs = make(practice), make(other_practice)

    listed = api_as(staff).get(path).json()["results"]

    assert mine.pk in {row["id"] for row in listed}
    assert theirs.pk not in {row["id"] for row in listed}
    assert api_as(staff).get(f"{path}{mine.pk}/").status_code == 200
    assert api_as(staff).get(f"{path}{theirs.pk}/").status_code == 404


def test_api_catalogue_practice_is_the_one_the_request_acts_for(
    practice, other_practice, member, api_as
):
    user = member(practice, Role.FRONT_DESK)
    MembershipFactory(practice=other_practice, user=user, role=Role.FRONT_DESK)
    client = api_as(user)

    linden = client.get(PRACTICE, HTTP_X_PRACTICE="linden").json()
    harbour = client.get(PRACTICE, HTTP_X_PRACTICE="harbour").json()
    harbours_types = client.get(TYPES, HTTP_X_PRACTICE="harbour").json()["results"]

    assert (linden["slug"], linden["time_zone"]) == ("linden", "Europe/Berlin")
    assert (harbour["slug"], harbour["time_zone"]) == ("harbour", "America/New_York")
    assert {row["id"] for row in harbours_types} == set(
        MassageType.objects.filter(practice=other_practice).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("path", [PRACTICE, TYPES, f"{TYPES}{{id}}/", THERAPISTS, ROOMS])
def test_api_catalogue_repeating_the_etag_gets_a_304_until_a_row_changes(
    practice, staff, api_as, clock, path
):
    kind = massage_type(practice)
    TherapistFactory(practice=practice)
    RoomFactory(practice=practice)
    url = path.format(id=kind.pk)
    client = api_as(staff)
    first = client.get(url)
    assert first.status_code == 200
    assert first["Cache-Control"] == "private, no-cache"
    assert "Accept-Language" in first["Vary"]

    unchanged = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    clock.shift(timedelta(minutes=5))
    kind.name = "Classical deluxe"
    kind.save()
    practice.settings.phone = "+49 30 7654321"
    practice.settings.save()
    RoomFactory(practice=practice)
    TherapistFactory(practice=practice)
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged["ETag"] == first["ETag"]
    assert since.status_code == 304
    assert changed.status_code == 200
    assert changed["ETag"] != first["ETag"]
    assert changed["Last-Modified"] != first["Last-Modified"]


def test_api_catalogue_a_new_price_changes_the_massage_types(practice, staff, api_as, clock):
    kind = massage_type(practice)
    client = api_as(staff)
    first = client.get(TYPES)
    clock.shift(timedelta(minutes=5))
    price_set(massage_type=kind, minutes=kind.default_minutes, amount=Decimal("45.00"))

    since = client.get(TYPES, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    assert since.status_code == 200
    assert {row["code"]: row["price"] for row in since.json()["results"]}["classical"] == "45.00"


def test_api_catalogue_last_modified_is_the_newest_row_served(practice, staff, api_as):
    massage_type(practice).save()
    newest = MassageType.objects.filter(practice=practice).latest("updated_at").updated_at

    response = api_as(staff).get(TYPES)

    assert response["Last-Modified"] == newest.strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert newest <= timezone.now()


def more_types(practice, count: int) -> None:
    MassageType.objects.bulk_create(
        MassageType(practice=practice, code=f"extra{n}", name=f"Extra {n}", default_minutes=30)
        for n in range(count)
    )


@pytest.mark.parametrize(
    ("path", "add", "queries"),
    [
        # The membership (with the user), the page's count, its rows (with their prices), the
        # newest change, and the newest price.
        (TYPES, more_types, 5),
        # ... and the types each therapist gives, in one more query.
        (THERAPISTS, lambda p, n: TherapistFactory.create_batch(n, practice=p), 5),
        (ROOMS, lambda p, n: RoomFactory.create_batch(n, practice=p), 4),
    ],
)
def test_api_catalogue_lists_cost_the_same_queries_for_one_row_or_many(
    practice, staff, api_as, django_assert_num_queries, path, add, queries
):
    MassageType.objects.filter(practice=practice).exclude(code="classical").delete()
    if path != TYPES:
        add(practice, 1)
    client = api_as(staff)

    with django_assert_num_queries(queries):
        one = client.get(path).json()["results"]
    add(practice, 5)
    with django_assert_num_queries(queries):
        many = client.get(path).json()["results"]

    assert len(one) == 1
    assert len(many) == 6
