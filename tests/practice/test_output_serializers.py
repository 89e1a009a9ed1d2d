"""Output serializers whose fields are built once per class (`practice.api.FieldsBuiltOnce`)."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework import serializers

from patients.api import PatientSerializer
from patients.models import Patient
from practice.api import FieldsBuiltOnce
from sessions.models import Session
from tests.factories import PatientFactory, RoomFactory, SessionFactory


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


class SessionOutput(FieldsBuiltOnce, serializers.ModelSerializer):
    """Relations, an empty relation, a dotted source and choices: the general path."""

    patient_name = serializers.CharField(source="patient.full_name")

    class Meta:
        model = Session
        fields = ["id", "patient", "patient_name", "room", "status", "starts_at", "minutes"]


class PlainSessionOutput(serializers.ModelSerializer):
    patient_name = serializers.CharField(source="patient.full_name")

    class Meta:
        model = Session
        fields = SessionOutput.Meta.fields


@pytest.mark.django_db
def test_relations_dotted_sources_and_mappings_read_as_with_drfs_own_serializer(practice) -> None:
    with_room = SessionFactory(patient__practice=practice, room=RoomFactory(practice=practice))
    without_room = SessionFactory(patient__practice=practice, room=None)
    for session in (with_room, without_room):
        assert SessionOutput(session).data == PlainSessionOutput(session).data
    assert SessionOutput(without_room).data["room"] is None
    row = {"id": 1, "full_name": "Ada Lovelace", "archived": False}

    class Row(FieldsBuiltOnce):
        id = serializers.IntegerField()
        full_name = serializers.CharField()
        archived = serializers.BooleanField()

    assert Row(row).data == row
