"""What a portal request may act on: the signed-in patient's own record and sessions. Another
patient's session is a 404, like one that does not exist."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from patients.models import Patient
from patients.selectors import patients_visible_to
from practice.tenancy import PracticeRequest
from sessions.models import Session
from sessions.selectors import session_list


def own_patient(request: PracticeRequest) -> Patient:
    # The same visibility rule as the API and the portal's record page.
    patient = (
        patients_visible_to(membership=request.membership)
        .filter(archived=False)
        .order_by("id")
        .first()
    )
    if patient is None:
        raise Http404(_("No patient record is linked to your account."))
    return patient


def own_session(request: PracticeRequest, pk: int) -> Session:
    session = get_object_or_404(session_list(membership=request.membership), pk=pk)
    # The scoped queryset guarantees this; reusing the request's practice saves a query.
    session.practice = request.practice
    return session
