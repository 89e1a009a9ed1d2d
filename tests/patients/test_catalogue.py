"""The contraindication catalogue: shared default, per-practice extensions and opt-outs."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from patients.catalogue import DEFAULT_CONTRAINDICATIONS
from patients.models import Contraindication, ContraindicationOptOut
from patients.screening import Kind, Status
from patients.selectors import catalogue_for
from tests.factories import ContraindicationFactory, PatientFactory, ScreeningFactory

pytestmark = pytest.mark.django_db


def codes(practice) -> set[str]:
    return set(catalogue_for(practice=practice).values_list("code", flat=True))


def test_data_migration_loaded_the_shared_default() -> None:
    shared = {item.code: item for item in Contraindication.objects.filter(practice=None)}
    assert set(shared) == {item.code for item in DEFAULT_CONTRAINDICATIONS}
    assert shared["oncology"].kind == Kind.ABSOLUTE
    assert shared["oncology"].clearable is False
    assert shared["fever"].clearable is False
    assert shared["tuberculosis"].clearable is True
    assert shared["pregnancy"].blocks_types == ["cupping"]
    assert shared["uncertain_diagnosis"].kind == Kind.NEEDS_DOCTOR


def test_practice_extends_its_own_catalogue_only(practice, other_practice) -> None:
    own = Contraindication(
        practice=practice,
        code="varicose_veins",
        name="Varicose veins",
        question="Do you have varicose veins?",
        kind=Kind.LOCAL,
    )
    own.full_clean()
    own.save()
    assert "varicose_veins" in codes(practice)
    assert "varicose_veins" not in codes(other_practice)


def test_practice_item_counts_in_the_outcome(practice) -> None:
    ContraindicationFactory(
        practice=practice,
        code="recent_surgery",
        name="Recent surgery",
        question="Have you had surgery in the last three months?",
        kind=Kind.NEEDS_DOCTOR,
        clearable=True,
    )
    screening = ScreeningFactory(
        patient=PatientFactory(practice=practice), yes={"recent_surgery": ""}
    )
    assert screening.status == Status.NEEDS_DOCTOR


def test_practice_switches_off_a_shared_item_for_itself_only(practice, other_practice) -> None:
    moles = Contraindication.objects.get(practice=None, code="moles")
    opt_out = ContraindicationOptOut(practice=practice, contraindication=moles)
    opt_out.full_clean()
    opt_out.save()
    assert "moles" not in codes(practice)
    assert "moles" in codes(other_practice)
    # A screening in that practice no longer needs (or accepts) an answer about it.
    screening = ScreeningFactory(patient=PatientFactory(practice=practice))
    assert not screening.answers.filter(contraindication=moles).exists()


def test_r2_absolute_items_cannot_be_switched_off(practice) -> None:
    oncology = Contraindication.objects.get(practice=None, code="oncology")
    with pytest.raises(ValidationError) as refused:
        ContraindicationOptOut(practice=practice, contraindication=oncology).full_clean()
    assert "R2" in refused.value.message_dict["contraindication"][0]


def test_r2_oncology_cannot_be_made_clearable() -> None:
    oncology = Contraindication.objects.get(practice=None, code="oncology")
    oncology.clearable = True
    with pytest.raises(ValidationError) as refused:
        oncology.full_clean()
    assert "clearable" in refused.value.message_dict


def test_r6_needs_doctor_items_must_be_clearable(practice) -> None:
    item = Contraindication(
        practice=practice, code="x", name="X", question="?", kind=Kind.NEEDS_DOCTOR
    )
    with pytest.raises(ValidationError) as refused:
        item.full_clean()
    assert "clearable" in refused.value.message_dict


def test_practice_item_cannot_shadow_a_shared_code(practice) -> None:
    item = Contraindication(
        practice=practice, code="pregnancy", name="P", question="?", kind=Kind.CAUTION
    )
    with pytest.raises(ValidationError) as refused:
        item.full_clean()
    assert "code" in refused.value.message_dict


def test_r4_blocked_types_must_be_massage_types_of_the_practice(practice) -> None:
    item = Contraindication(
        practice=practice,
        code="x",
        name="X",
        question="?",
        kind=Kind.TYPE_SPECIFIC,
        blocks_types=["cuping"],
    )
    with pytest.raises(ValidationError) as refused:
        item.full_clean()
    assert "cuping" in refused.value.message_dict["blocks_types"][0]
    item.blocks_types = ["cupping"]
    item.full_clean()
