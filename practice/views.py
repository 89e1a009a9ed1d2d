from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render

from practice.tenancy import SignedInRequest


@login_required
def home(request: SignedInRequest) -> HttpResponse:
    memberships = request.user.memberships.select_related("practice").order_by("practice__name")
    return render(request, "practice/home.html", {"memberships": memberships})
