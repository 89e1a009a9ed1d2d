"""`{% patient_sessions patient %}` and `{% patient_reminders patient %}`: the patient record
page's sessions and reminders blocks. Tags, because the record page belongs to the patients
app and its view does not read sessions."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from patients.models import Patient
from sessions.selectors import patient_reminders as reminders_of
from sessions.selectors import session_list

register = template.Library()

SHOWN = 10


@register.inclusion_tag("sessions/_patient_sessions.html", takes_context=True)
def patient_sessions(context: dict[str, Any], patient: Patient) -> dict[str, Any]:
    request = context["request"]
    sessions = session_list(membership=request.membership).filter(patient=patient)
    now = timezone.now()
    return {
        "request": request,
        "upcoming": sessions.filter(starts_at__gte=now).order_by("starts_at")[:SHOWN],
        "past": sessions.filter(starts_at__lt=now).order_by("-starts_at")[:SHOWN],
    }


@register.inclusion_tag("sessions/_patient_reminders.html", takes_context=True)
def patient_reminders(context: dict[str, Any], patient: Patient) -> dict[str, Any]:
    return {"request": context["request"], "reminders": reminders_of(patient=patient)}
