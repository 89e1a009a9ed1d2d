from __future__ import annotations

from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from practice.account_forms import StaffJoinExistingAccountForm, StaffJoinNewAccountForm
from practice.invitations import InvitationInvalid, staff_invitation_accept, staff_invitation_read
from practice.models import Role, User
from practice.pages import errors_to_form, form_status
from practice.tenancy import SignedInRequest

# Where a role starts on the pages, when the user belongs to one practice only: a URL name
# (the pages live in the apps above this one). The others start on the list of practices.
LANDING_PAGES = {Role.THERAPIST: "sessions:my-day"}


@login_required
def home(request: SignedInRequest) -> HttpResponse:
    memberships = list(
        request.user.memberships.select_related("practice").order_by("practice__name")
    )
    if len(memberships) == 1 and (landing := LANDING_PAGES.get(Role(memberships[0].role))):
        return redirect(landing, practice_slug=memberships[0].practice.slug)
    return render(request, "practice/home.html", {"memberships": memberships})


@never_cache
@sensitive_post_parameters("new_password1", "new_password2", "password")
@require_http_methods(["GET", "POST"])
def staff_join(request: HttpRequest, token: str) -> HttpResponse:
    """A staff invitation's link: the invitee consents, with a new account or the password of
    their existing one, and only then becomes a member of the practice."""
    try:
        invitation = staff_invitation_read(token=token)
    except InvitationInvalid as exc:
        return render(request, "practice/staff_join.html", {"problem": str(exc)}, status=400)
    existing = User.objects.filter(email__iexact=invitation.email).first()
    data = request.POST if request.method == "POST" else None
    form: Form
    if existing is not None:
        form = StaffJoinExistingAccountForm(existing, request, data)
    else:
        # An unsaved user, so the similarity validator compares with the address.
        form = StaffJoinNewAccountForm(User(email=invitation.email), data)
    if data is not None and form.is_valid():
        try:
            user = staff_invitation_accept(
                invitation=invitation,
                account=existing,
                password=None if existing else form.cleaned_data["new_password1"],
                full_name=form.cleaned_data.get("full_name", ""),
            )
        except InvitationInvalid as exc:
            return render(request, "practice/staff_join.html", {"problem": str(exc)}, status=400)
        except ValidationError as exc:
            errors_to_form(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            return redirect("home")
    return render(
        request,
        "practice/staff_join.html",
        {"invitation": invitation, "form": form, "existing": existing is not None},
        status=form_status(request, form),
    )
