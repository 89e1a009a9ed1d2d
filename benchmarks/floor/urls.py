from __future__ import annotations

from django.urls import path
from rest_framework import serializers
from rest_framework.generics import RetrieveAPIView

from patients.api import PatientSerializer
from patients.models import Patient


class FloorPatientSerializer(serializers.ModelSerializer):
    """DRF's plain ModelSerializer of the fields the product's patient detail answers with."""

    full_name = serializers.CharField(read_only=True)

    class Meta:
        model = Patient
        fields = PatientSerializer.Meta.fields


class FloorPatientView(RetrieveAPIView):
    queryset = Patient.objects.all()
    serializer_class = FloorPatientSerializer


urlpatterns = [path("floor/patients/<int:pk>/", FloorPatientView.as_view())]
