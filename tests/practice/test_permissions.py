from __future__ import annotations

import pytest
from django.urls import path
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from practice.errors import Conflict
from practice.models import Role
from practice.permissions import IsManager, IsPatient, IsStaff, StaffOrReadOnlyPatient

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def view_for(permission: type) -> type[APIView]:
    class Probe(APIView):
        permission_classes = [permission]

        def get(self, request):
            return Response({"practice": request.practice.slug, "role": request.membership.role})

        def post(self, request):
            return Response({"ok": True})

    return Probe


class Colliding(APIView):
    permission_classes = [IsStaff]

    def post(self, request):
        raise Conflict(
            {"detail": "That time is taken.", "conflicts_with": {"starts_at": "2026-12-01T09:00Z"}}
        )


urlpatterns = [
    path("staff/", view_for(IsStaff).as_view()),
    path("manager/", view_for(IsManager).as_view()),
    path("patient/", view_for(IsPatient).as_view()),
    path("staff-or-reading-patient/", view_for(StaffOrReadOnlyPatient).as_view()),
    path("conflict/", Colliding.as_view()),
]

EXPECTED = {
    # path: roles allowed
    "/staff/": {Role.MANAGER, Role.FRONT_DESK, Role.THERAPIST},
    "/manager/": {Role.MANAGER},
    "/patient/": {Role.PATIENT},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("url", list(EXPECTED))
def test_each_role_reaches_only_its_endpoints(practice, member, api_as, role, url) -> None:
    response = api_as(member(practice, role)).get(url)

    if role in EXPECTED[url]:
        assert response.status_code == 200
        assert response.json() == {"practice": "linden", "role": role.value}
    else:
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_a_patient_may_read_but_not_write_where_staff_may_write(practice, member, api_as) -> None:
    patient = api_as(member(practice, Role.PATIENT))
    desk = api_as(member(practice, Role.FRONT_DESK))

    assert patient.get("/staff-or-reading-patient/").status_code == 200
    assert patient.post("/staff-or-reading-patient/").status_code == 403
    assert desk.post("/staff-or-reading-patient/").status_code == 200


def test_anonymous_is_refused_everywhere(db) -> None:
    for url in EXPECTED:
        assert APIClient().get(url).status_code == 401


def test_a_conflict_gets_409_with_the_error_body(practice, member, api_as) -> None:
    response = api_as(member(practice, Role.FRONT_DESK)).post("/conflict/")

    assert response.status_code == 409
    assert response.json() == {
        "status": 409,
        "code": "conflict",
        "detail": "That time is taken.",
        "conflicts_with": {"starts_at": "2026-12-01T09:00Z"},
    }
