"""The practice's audit log for its managers: /p/<practice>/audit/ (the patient's own access
history is a page of the patient record, in the patients app)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from practice.audit.models import Action, AuditEntry
from practice.audit.selectors import EntryFilter, practice_entries, recorded_models
from practice.models import Practice, Role, User
from practice.pages import form_status
from practice.tenancy import PracticeRequest
from practice.web import practice_page

PAGE_SIZE = 50

manager_page = practice_page(Role.MANAGER)


class AuditFilterForm(forms.Form):
    user = forms.ModelChoiceField(label=_("User"), queryset=User.objects.none(), required=False)
    model = forms.ChoiceField(label=_("Record type"), required=False)
    action = forms.ChoiceField(
        label=_("Action"), choices=[("", "—"), *Action.choices], required=False
    )
    since = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, data: QueryDict | None, *, practice: Practice) -> None:
        super().__init__(data)
        user_field = self.fields["user"]
        assert isinstance(user_field, forms.ModelChoiceField)
        user_field.queryset = User.objects.filter(memberships__practice=practice).order_by("email")
        model_field = self.fields["model"]
        assert isinstance(model_field, forms.ChoiceField)
        model_field.choices = [("", "—")] + [
            (label, label) for label in recorded_models(practice=practice)
        ]

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The last day is before the first."))
        return cleaned

    def entry_filter(self) -> EntryFilter:
        data = self.cleaned_data
        user = data.get("user")
        return EntryFilter(
            user_id=user.pk if user else None,
            model=data.get("model") or "",
            action=data.get("action") or "",
            since=data.get("since"),
            until=data.get("until"),
        )


def render_entries(
    request: PracticeRequest,
    template: str,
    entries: QuerySet[AuditEntry],
    context: dict[str, object],
    *,
    keep: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    """A page of entries, newest first, its links keeping the page's filters."""
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        template,
        {**context, "page": page, "page_query": urlencode(keep or {})},
        status=status,
    )


@manager_page
def practice_log(request: PracticeRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None, practice=request.practice)
    if form.is_bound and not form.is_valid():
        entries = AuditEntry.objects.none()
        keep: dict[str, str] = {}
    else:
        only = form.entry_filter() if form.is_bound else EntryFilter()
        entries = practice_entries(practice=request.practice, only=only)
        keep = {key: str(value) for key, value in request.GET.items() if key != "page" and value}
    return render_entries(
        request,
        "audit/practice_log.html",
        entries,
        {"form": form},
        keep=keep,
        status=form_status(request, form),
    )
