"""Catalogue data in the reader's language: the default massage types and questionnaire items
are shown translated; what a practice typed itself is shown as typed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from patients.models import Contraindication
from practice.catalogue import DEFAULT_MASSAGE_TYPES, translated
from practice.models import Role
from tests.factories import PatientFactory, SessionFactory, massage_type
from tests.pages import logged_in

pytestmark = pytest.mark.django_db


def test_every_default_massage_type_has_a_russian_name() -> None:
    with translation.override("ru"):
        untranslated = [d.name for d in DEFAULT_MASSAGE_TYPES if translated(d.name) == d.name]

    assert untranslated == []


def test_every_shared_questionnaire_item_reads_in_russian(practice) -> None:
    items = Contraindication.objects.filter(practice=None)
    with translation.override("ru"):
        untranslated = [
            item.code
            for item in items
            if item.display_name == item.name or item.display_question == item.question
        ]

    assert items.exists()
    assert untranslated == []


def test_a_massage_type_shows_its_default_name_in_the_readers_language(practice) -> None:
    cupping = massage_type(practice, "cupping")

    with translation.override("ru"):
        assert str(cupping) == "Баночный (вакуумный)"
    with translation.override("en"):
        assert str(cupping) == "Cupping / vacuum"


def test_a_name_the_practice_typed_is_shown_as_typed(practice) -> None:
    own = massage_type(practice, "classical")
    own.name = "Hot stone"
    own.save()

    with translation.override("ru"):
        assert own.display_name == "Hot stone"
        assert translated("") == ""


def test_the_api_names_the_massage_type_in_the_requests_language(practice, member, api_as):
    desk = member(practice, Role.FRONT_DESK)
    session = SessionFactory(practice=practice, massage_type=massage_type(practice, "honey"))

    russian = api_as(desk).get(f"/api/v1/sessions/{session.pk}/", HTTP_ACCEPT_LANGUAGE="ru")
    english = api_as(desk).get(f"/api/v1/sessions/{session.pk}/", HTTP_ACCEPT_LANGUAGE="en")

    assert russian.json()["massage_type_name"] == "Медовый"
    assert english.json()["massage_type_name"] == "Honey"


def test_the_screening_form_asks_the_default_questions_in_russian(practice, member) -> None:
    desk = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    url = reverse(
        "patients:screening-new", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
    )

    page = logged_in(desk).get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    assert "Есть ли у вас повышенное артериальное давление (гипертония)?" in page
    assert "Do you have high blood pressure" not in page


def test_a_practice_gives_its_own_type_a_name_in_russian(practice) -> None:
    own = massage_type(practice, "classical")
    own.name = "Hot stone"
    own.name_translations = {"ru": "Стоун-терапия"}
    own.full_clean()
    own.save()

    with translation.override("ru"):
        assert own.display_name == "Стоун-терапия"
    with translation.override("en"):
        assert own.display_name == "Hot stone"


@pytest.mark.parametrize("translations", [{"de": "Heiße Steine"}, {"ru": ""}, ["ru"]])
def test_translations_are_by_a_language_of_the_site(practice, translations) -> None:
    own = massage_type(practice, "classical")
    own.name_translations = translations

    with pytest.raises(ValidationError) as refused:
        own.full_clean()

    assert "name_translations" in refused.value.message_dict


def test_a_practices_own_question_is_asked_in_russian(practice, member) -> None:
    item = Contraindication.objects.create(
        practice=practice,
        code="varicose",
        name="Varicose veins",
        question="Do you have varicose veins?",
        question_translations={"ru": "Есть ли у вас варикоз?"},
        kind="local",
    )
    desk = member(practice, Role.FRONT_DESK)
    patient = PatientFactory(practice=practice)
    url = reverse(
        "patients:screening-new", kwargs={"practice_slug": practice.slug, "pk": patient.pk}
    )

    page = logged_in(desk).get(url, HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    assert "Есть ли у вас варикоз?" in page
    assert item.display_name == "Varicose veins"


def test_the_catalogue_api_names_a_practices_own_type_in_russian(practice, member, api_as):
    own = massage_type(practice, "sports")
    own.name = "Deep tissue"
    own.name_translations = {"ru": "Глубокотканный"}
    own.save()

    body = api_as(member(practice, Role.FRONT_DESK)).get(
        "/api/v1/massage-types/", HTTP_ACCEPT_LANGUAGE="ru"
    )

    names = {row["code"]: row["name"] for row in body.json()["results"]}
    assert names["sports"] == "Глубокотканный"
