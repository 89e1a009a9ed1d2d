"""`{% patient_courses patient %}`: the patient record page's courses block. A tag, because the
record page belongs to the patients app and its view does not read courses."""

from __future__ import annotations

from typing import Any

from django import template

from sessions.selectors import course_list

register = template.Library()


@register.inclusion_tag("courses/_patient_courses.html", takes_context=True)
def patient_courses(context: dict[str, Any], patient: Any) -> dict[str, Any]:
    request = context["request"]
    return {
        "request": request,
        "patient": patient,
        "courses": course_list(membership=request.membership).filter(patient=patient),
    }
