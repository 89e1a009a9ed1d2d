"""Tenancy in the admin: a manager of one practice meets nothing of another, on any page of any
registered model (lists and their filters, add and change forms with their inlines,
autocompletes, lookups), and no account of the deployment is offered to them. Every row of a
practice is named after it, with a name found nowhere else ("Quillby", "Zephyrine": not
"Harbour", which the time zone list has), so a page that mentions the other practice's name
has leaked one of its rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.forms import BaseForm
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from billing.models import PaymentMethod
from billing.payments import payment_record
from patients.eligibility import blood_pressure_record
from patients.models import Contraindication, ContraindicationOptOut, HighBloodPressure
from practice.admin import PracticeScopedAdmin
from practice.models import (
    Membership,
    Practice,
    PracticeOwned,
    Role,
    StaffInvitation,
    Therapist,
    TimeOff,
    User,
)
from tests.billing.helpers import issued_for, priced
from tests.clock import today
from tests.factories import (
    CheckInFactory,
    ClosureFactory,
    ContraindicationFactory,
    CourseFactory,
    MembershipFactory,
    PatientFactory,
    ReminderFactory,
    RoomFactory,
    ScreeningFactory,
    SessionRecordFactory,
    TherapistFactory,
    TimeOffFactory,
    UserFactory,
    WorkingHoursFactory,
)
from tests.pages import logged_in

pytestmark = pytest.mark.django_db

# Accounts span practices: only superusers manage them (django.contrib.auth's groups too).
SUPERUSER_ONLY = {User, *(m for m in admin.site._registry if m._meta.label == "auth.Group")}


@dataclass
class World:
    practice: Practice
    manager: User
    desk: User
    therapist: Therapist


def build(practice: Practice) -> World:
    """A practice with one row of every kind the admin shows, each named after the practice."""
    name, slug = practice.name, practice.slug

    def person(role: Role, label: str) -> User:
        user = UserFactory(email=f"{label}@{slug}.example", full_name=f"{name} {label}")
        MembershipFactory(practice=practice, user=user, role=role)
        return user

    manager = person(Role.MANAGER, "manager")
    desk = person(Role.FRONT_DESK, "desk")
    therapist = TherapistFactory(
        practice=practice, name=f"{name} Therapist", user=person(Role.THERAPIST, "therapist")
    )
    patient = PatientFactory(
        practice=practice,
        given_name=f"{name}ina",
        family_name=f"{name}son",
        email=f"patient@{slug}.example",
        user=person(Role.PATIENT, "patient"),
    )
    WorkingHoursFactory(therapist=therapist)
    TimeOffFactory(
        therapist=therapist,
        reason=f"{name} leave",
        starts_at=f"{today(practice, days=20)}T08:00Z",
        ends_at=f"{today(practice, days=21)}T08:00Z",
    )
    ClosureFactory(
        practice=practice,
        reason=f"{name} holiday",
        starts_at=f"{today(practice, days=30)}T00:00Z",
        ends_at=f"{today(practice, days=31)}T00:00Z",
    )
    RoomFactory(practice=practice, name=f"{name} Room")
    ContraindicationFactory(practice=practice, name=f"{name} condition")
    ContraindicationOptOut.objects.create(
        practice=practice, contraindication=Contraindication.objects.get(code="moles")
    )
    ScreeningFactory(patient=patient, notes=f"{name} screening note")
    blood_pressure_record(
        patient=patient,
        systolic=170,
        diastolic=100,
        day=today(practice),
        measured_at=timezone.now(),
        source=HighBloodPressure.Source.SCREENING,
    )
    course = CourseFactory(patient=patient, therapist=therapist, booked=2)
    first = course.sessions.order_by("starts_at").first()
    CheckInFactory(session=first)
    SessionRecordFactory(session=course.sessions.order_by("starts_at").last(), notes=f"{name}")
    ReminderFactory(session=first)
    # Billing: a policy (the price's tax rate comes from it), a price, an invoice paid in part.
    priced(practice, course.massage_type.code, minutes=first.minutes)
    invoice = issued_for(first)
    payment_record(invoice=invoice, amount=Decimal("1.00"), method=PaymentMethod.CASH, by=None)
    StaffInvitation.objects.create(
        practice=practice, email=f"invited@{slug}.example", role=Role.FRONT_DESK
    )
    return World(practice=practice, manager=manager, desk=desk, therapist=therapist)


def renamed(practice: Practice, name: str) -> Practice:
    practice.name, practice.slug = name, name.lower()
    practice.save()
    return practice


@pytest.fixture
def worlds(practice: Practice, other_practice: Practice) -> tuple[World, World]:
    return build(renamed(practice, "Quillby")), build(renamed(other_practice, "Zephyrine"))


def rows_of(practice: Practice, model: type[Model]) -> set[object]:
    """The keys of `model`'s rows that belong to `practice` alone."""
    if model is Practice:
        return {practice.pk}
    if model is User:
        return set(Membership.objects.filter(practice=practice).values_list("user", flat=True))
    if issubclass(model, PracticeOwned) or model is Contraindication:
        return set(model._default_manager.filter(practice=practice).values_list("pk", flat=True))
    return set()


def scoped_admins() -> Iterator[tuple[type[Model], Any]]:
    for model, model_admin in admin.site._registry.items():
        if model not in SUPERUSER_ONLY:
            yield model, model_admin


def url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


class Leak:
    """Checks that a page names nothing of `foreign` and offers none of its rows."""

    def __init__(self, foreign: Practice) -> None:
        self.foreign = foreign

    def assert_none(self, response: Any, where: str) -> None:
        assert response.status_code == 200, where
        page = response.content.decode().lower()
        assert self.foreign.name.lower() not in page, where
        assert self.foreign.slug not in page, where

    def assert_no_choices(self, form: BaseForm, where: str) -> None:
        for name, field in form.fields.items():
            queryset = getattr(field, "queryset", None)
            # An inline row's hidden key is not a choice: it renders that row's own key only.
            if queryset is not None and not field.widget.is_hidden:
                offered = set(queryset.values_list("pk", flat=True))
                assert not offered & rows_of(self.foreign, queryset.model), f"{where}: {name}"

    def assert_form(self, response: Any, where: str) -> None:
        self.assert_none(response, where)
        self.assert_no_choices(response.context["adminform"].form, where)
        for inline in response.context["inline_admin_formsets"]:
            for form in [*inline.formset.forms, inline.formset.empty_form]:
                self.assert_no_choices(form, f"{where} inline {inline.opts.model.__name__}")


def walk(client: Client, own: World, foreign: World) -> None:
    leak = Leak(foreign.practice)
    offered_own_rows = 0
    for model, _model_admin in scoped_admins():
        name = model.__name__
        changelist = client.get(url(model, "changelist"))
        leak.assert_none(changelist, f"{name} list")
        for spec in changelist.context["cl"].filter_specs:
            for choice in spec.choices(changelist.context["cl"]):
                filtered = client.get(url(model, "changelist") + choice["query_string"])
                leak.assert_none(filtered, f"{name} list {choice['query_string']}")
            related = getattr(spec.field, "related_model", None) if hasattr(spec, "field") else None
            if related is not None:
                choices = {int(pk) for pk, _label in spec.lookup_choices}
                assert not choices & rows_of(foreign.practice, related), f"{name} filter"
                offered_own_rows += len(choices)
        add = client.get(url(model, "add"))
        if add.status_code != 403:
            leak.assert_form(add, f"{name} add")
        own_row = (
            own.practice
            if model is Practice
            else model._default_manager.filter(practice=own.practice).first()
        )
        assert own_row is not None, name
        leak.assert_form(client.get(url(model, "change", own_row.pk)), f"{name} change")
        for field in model._meta.get_fields():
            if not (field.is_relation and field.concrete):
                continue
            query = {"app_label": model._meta.app_label, "model_name": model._meta.model_name}
            response = client.get(
                reverse("admin:autocomplete") + "?" + urlencode({**query, "field_name": field.name})
            )
            assert response.status_code in (200, 403, 404), f"{name}.{field.name}"
            if response.status_code == 200:
                found = {int(item["id"]) for item in response.json()["results"]}
                assert not found & rows_of(foreign.practice, field.related_model), name
                leak.assert_none(response, f"{name}.{field.name} autocomplete")
                offered_own_rows += len(found)
    # Not vacuous: the filters and autocompletes did offer the manager's own rows.
    assert offered_own_rows > 0


@pytest.mark.parametrize("side", [0, 1], ids=["manager of Quillby", "manager of Zephyrine"])
def test_tenancy_every_admin_page_of_every_model_keeps_to_the_managers_practice(
    worlds: tuple[World, World], side: int
) -> None:
    own, foreign = worlds[side], worlds[1 - side]

    walk(logged_in(own.manager), own, foreign)


def test_tenancy_every_scoped_model_is_walked() -> None:
    """A model registered without the practice's scoping would escape the walk's checks."""
    for model, model_admin in scoped_admins():
        assert isinstance(model_admin, PracticeScopedAdmin) or model is Practice, model


def test_tenancy_accounts_and_groups_are_for_superusers_only(worlds) -> None:
    client = logged_in(worlds[0].manager)

    for model in SUPERUSER_ONLY:
        assert client.get(url(model, "changelist")).status_code == 403
    autocomplete = client.get(
        reverse("admin:autocomplete")
        + "?"
        + urlencode({"app_label": "practice", "model_name": "therapist", "field_name": "user"})
    )
    assert autocomplete.status_code == 403


def test_tenancy_by_therapist_filter_lists_own_therapists_only(worlds) -> None:
    own, foreign = worlds
    client = logged_in(own.manager)

    for model in ("therapy_sessions/session", "courses/course", "practice/workinghours"):
        page = client.get(f"/admin/{model}/").content.decode()
        assert own.therapist.name in page, model
        assert foreign.therapist.name not in page, model
    time_off = client.get(url(TimeOff, "changelist"))
    assert own.therapist.name in time_off.content.decode()
    assert foreign.therapist.name not in time_off.content.decode()


def test_tenancy_a_filter_by_another_practices_row_is_refused(worlds) -> None:
    own, foreign = worlds
    client = logged_in(own.manager)
    sessions = "/admin/therapy_sessions/session/"

    assert client.get(f"{sessions}?therapist__id__exact={own.therapist.pk}").status_code == 200
    assert client.get(f"{sessions}?therapist__id__exact={foreign.therapist.pk}").status_code == 400
    assert client.get(f"{sessions}?therapist__id__exact=junk").status_code == 400
    assert client.get(f"{sessions}?therapist={foreign.therapist.pk}").status_code == 400
    their_practice = f"?practice__id__exact={foreign.practice.pk}"
    assert client.get(f"/admin/practice/room/{their_practice}").status_code == 400


def test_tenancy_a_superuser_keeps_the_whole_deployment(worlds) -> None:
    own, foreign = worlds
    client = logged_in(UserFactory(is_superuser=True, is_staff=True))

    page = client.get("/admin/therapy_sessions/session/").content.decode()
    therapist_add = client.get(url(Therapist, "add")).content.decode()

    assert own.therapist.name in page
    assert foreign.therapist.name in page
    assert own.desk.full_name in therapist_add
    assert foreign.desk.full_name in therapist_add


def test_admin_membership_cannot_be_added_only_invited(worlds) -> None:
    own, foreign = worlds
    client = logged_in(own.manager)

    add = client.get(url(Membership, "add"))
    posted = client.post(
        url(Membership, "add"),
        {"practice": own.practice.pk, "user": foreign.desk.pk, "role": Role.FRONT_DESK},
    )
    listing = client.get(url(Membership, "changelist")).content.decode()

    assert add.status_code == 403
    assert posted.status_code == 403
    assert foreign.practice.name not in posted.content.decode()
    assert not Membership.objects.filter(practice=own.practice, user=foreign.desk).exists()
    assert url(StaffInvitation, "add") in listing  # "Invite staff"


def test_admin_membership_keeps_its_user_and_practice(worlds) -> None:
    own, foreign = worlds
    client = logged_in(own.manager)
    membership = Membership.objects.get(practice=own.practice, user=own.desk)

    response = client.post(
        url(Membership, "change", membership.pk),
        {"practice": foreign.practice.pk, "user": foreign.desk.pk, "role": Role.THERAPIST},
    )

    assert response.status_code == 302
    membership.refresh_from_db()
    assert (membership.practice, membership.user, membership.role) == (
        own.practice,
        own.desk,
        Role.THERAPIST,
    )


def test_admin_membership_role_stays_among_staff_or_patient(worlds) -> None:
    own, _foreign = worlds
    client = logged_in(own.manager)
    patient = Membership.objects.get(practice=own.practice, role=Role.PATIENT)
    desk = Membership.objects.get(practice=own.practice, user=own.desk)

    promoted = client.post(url(Membership, "change", patient.pk), {"role": Role.MANAGER})
    demoted = client.post(url(Membership, "change", desk.pk), {"role": Role.PATIENT})

    assert promoted.status_code == 302
    assert demoted.status_code == 200
    assert "Select a valid choice" in demoted.content.decode()
    patient.refresh_from_db()
    desk.refresh_from_db()
    assert (patient.role, desk.role) == (Role.PATIENT, Role.FRONT_DESK)


def therapist_form(practice: Practice, **fields: object) -> dict[str, object]:
    return {
        "practice": practice.pk,
        "name": "New Therapist",
        "colour": "#112233",
        "active": "on",
        "working_hours-TOTAL_FORMS": 0,
        "working_hours-INITIAL_FORMS": 0,
        "time_off-TOTAL_FORMS": 0,
        "time_off-INITIAL_FORMS": 0,
        **fields,
    }


def test_admin_therapist_cannot_be_linked_to_another_practices_user(worlds) -> None:
    own, foreign = worlds
    client = logged_in(own.manager)

    response = client.post(
        url(Therapist, "add"), therapist_form(own.practice, user=foreign.desk.pk)
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Select a valid choice" in page
    assert foreign.practice.name not in page  # the form sent back lists no foreign account
    assert own.desk.full_name in page
    assert not Therapist.objects.filter(name="New Therapist").exists()


def test_admin_therapist_is_linked_only_to_a_staff_member_of_its_practice(worlds) -> None:
    own, _foreign = worlds
    client = logged_in(own.manager)
    patient_user = User.objects.get(email=f"patient@{own.practice.slug}.example")

    refused = client.post(url(Therapist, "add"), therapist_form(own.practice, user=patient_user.pk))
    accepted = client.post(url(Therapist, "add"), therapist_form(own.practice, user=own.desk.pk))

    assert refused.status_code == 200
    assert accepted.status_code == 302
    assert Therapist.objects.get(name="New Therapist").user == own.desk


def test_tenancy_therapist_model_refuses_a_user_outside_its_practice(worlds) -> None:
    own, foreign = worlds
    therapist = Therapist(practice=own.practice, name="Anyone", user=foreign.desk)

    with pytest.raises(ValidationError, match="invite them first"):
        therapist.full_clean()


def test_tenancy_a_raw_id_field_names_no_row_of_another_practice(worlds, rf) -> None:
    own, foreign = worlds

    class RawIdTimeOffAdmin(PracticeScopedAdmin):
        raw_id_fields = ("therapist",)

    request = rf.get("/admin/")
    request.user = own.manager
    form_class = RawIdTimeOffAdmin(TimeOff, admin.site).get_form(request)

    def shown(therapist: Therapist) -> str:
        return str(form_class({"practice": own.practice.pk, "therapist": therapist.pk}))

    assert own.therapist.name in shown(own.therapist)
    assert foreign.therapist.name not in shown(foreign.therapist)
