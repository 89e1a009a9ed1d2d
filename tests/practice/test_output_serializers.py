"""Output serializers whose fields are built once per class (`practice.api.FieldsBuiltOnce`)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework import serializers

from patients.api import PatientSerializer
from patients.models import Patient
from practice.api import FieldsBuiltOnce
from tests.factories import PatientFactory


class PlainPatientSerializer(serializers.ModelSerializer):
    """DRF's own ModelSerializer of the same fields: what the output must equal."""

    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Patient
        fields = PatientSerializer.Meta.fields


@pytest.mark.django_db
def test_a_patient_reads_the_same_as_with_drfs_own_serializer(practice) -> None:
    for patient in [PatientFactory(practice=practice), PatientFactory(practice=practice)]:
        assert PatientSerializer(patient).data == PlainPatientSerializer(patient).data
    with timezone.override("Asia/Tokyo"):
        assert PatientSerializer(patient).data == PlainPatientSerializer(patient).data


@pytest.mark.django_db
def test_the_fields_are_built_once_for_every_instance(practice) -> None:
    first, second = PatientFactory(practice=practice), PatientFactory(practice=practice)
    assert PatientSerializer(first)._readable_fields is PatientSerializer(second)._readable_fields
    many = PatientSerializer([first, second], many=True).data
    assert [row["id"] for row in many] == [first.pk, second.pk]
    assert many[1]["full_name"] == second.full_name


def test_a_field_that_could_read_the_request_refuses_the_class() -> None:
    class Greeting(FieldsBuiltOnce):
        name = serializers.CharField()
        greeting = serializers.SerializerMethodField()

        def get_greeting(self, row: dict) -> str:
            return f"Hello {row['name']}"

    with pytest.raises(TypeError, match="greeting"):
        assert Greeting({"name": "Ada"}).data
