"""The session page: check-in, the planned protocol, start, the record, no-show.

One page per session whose body follows its status. Every decision is the session-day
services' (`sessions.day`), the same ones the API calls: the forms below check shapes only (a
number is a number, a code is one of the catalogue's), and a service's ValidationError is put
back next to the field it names, with the rule id its message carries.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from patients.forms import QuestionsForm
from patients.models import Contraindication
from patients.selectors import patient_data_read
from practice.errors import Conflict
from practice.pages import Notices, errors_to_form, redirect_with_notice
from practice.tenancy import PracticeRequest
from practice.web import staff_page
from sessions.day.check_in import (
    CheckInAnswer,
    CheckInResult,
    same_day_questions,
    session_check_in,
)
from sessions.day.clinical import local_day, session_clinical
from sessions.day.running import (
    may_run_session,
    session_complete,
    session_no_show,
    session_protocol_for,
    session_start,
)
from sessions.models import CheckIn, Session, SessionRecord, SessionStatus
from sessions.pages.calendar import conflict_message
from sessions.records.protocol import SessionProtocol
from sessions.records.techniques import (
    ALL_GROUPS,
    WORKING_ZONES_BOTTOM_UP,
    BackZone,
    Direction,
    Pressure,
    Technique,
    TechniqueGroup,
)
from sessions.selectors import session_list

SESSION_NOTICES = Notices(
    {
        "checked-in": _("The patient is checked in."),
        "started": _("The session has started."),
        "completed": _("The session is recorded and completed."),
        "no-show": _("The session is marked as a no-show."),
    }
)
# Numbered technique rows on the record form: R15's longest plan (stroking, four groups of
# two or three techniques, stroking) fits, and an empty row is simply skipped.
TECHNIQUE_ROWS = 10


class CheckInForm(QuestionsForm):
    """The same-day questions the service asks (yes/no, a zone for a local item) and the
    vitals. Whether an answer needs a zone, and R7's blood pressure, are the service's call."""

    item_notes = False

    def __init__(
        self, *args: Any, questions: list[Contraindication], hypertensive: bool, **kwargs: Any
    ) -> None:
        super().__init__(*args, items=questions, **kwargs)
        if hypertensive:
            for name in ("systolic", "diastolic"):
                self.fields[name].help_text = _("R7: the patient is hypertensive; required.")

    def answers(self) -> list[CheckInAnswer]:
        return [CheckInAnswer(item.code, *self.answered(item)) for item in self.items]


def _ordinal_label(n: int) -> str:
    return str(_("Technique %(n)d") % {"n": n})


class RecordForm(forms.Form):
    """The session record (R20). Every field is optional here: what is missing or wrong is
    reported by `sessions.records.validation` through `session_complete`, whose messages name
    the rule (R15, R17, R8, R3, R18, R7), so the form never says it a second, different way."""

    zones = forms.MultipleChoiceField(
        label=_("Zones worked"),
        choices=BackZone.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    pressure = forms.ChoiceField(
        label=_("Pressure"), choices=[("", _("— choose —")), *Pressure.choices], required=False
    )
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices, required=False)
    systolic_after = forms.IntegerField(label=_("Systolic after (mmHg)"), required=False)
    diastolic_after = forms.IntegerField(label=_("Diastolic after (mmHg)"), required=False)
    pain_before = forms.IntegerField(
        label=_("Pain before (0–10)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": 10, "inputmode": "numeric"}),
    )
    pain_after = forms.IntegerField(
        label=_("Pain after (0–10)"),
        required=False,
        widget=forms.NumberInput(attrs={"min": 0, "max": 10, "inputmode": "numeric"}),
    )
    notes = forms.CharField(
        label=_("Notes"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for n in range(1, TECHNIQUE_ROWS + 1):
            self.fields[f"technique_{n}"] = forms.ChoiceField(
                label=_ordinal_label(n),
                choices=[("", _("— none —")), *Technique.choices],
                required=False,
            )
        # Errors the service gives for the techniques as a whole (R15, R8, R20): shown above
        # the numbered rows, not on one row.
        self.technique_errors: list[str] = []
        # R7's "before" reading is the check-in's, shown read-only on this form.
        self.before_errors: list[str] = []

    @property
    def technique_rows(self) -> list[forms.BoundField]:
        return [self[f"technique_{n}"] for n in range(1, TECHNIQUE_ROWS + 1)]

    def techniques(self) -> list[str]:
        rows = (self.cleaned_data.get(f"technique_{n}") for n in range(1, TECHNIQUE_ROWS + 1))
        return [code for code in rows if code]

    def place_errors(self, exc: ValidationError) -> None:
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc)
            return
        for name, errors in exc.error_dict.items():
            messages = [message for error in errors for message in error.messages]
            if name == "techniques":
                self.technique_errors.extend(messages)
            elif name in ("systolic_before", "diastolic_before"):
                self.before_errors.extend(messages)
            else:
                self.add_error(name if name in self.fields else None, messages)


@dataclass(frozen=True)
class ChartZone:
    """One zone of the body chart: its checkbox, and why it cannot be chosen, if so."""

    code: str
    label: str
    forbidden: bool
    reasons: tuple[str, ...]
    checked: bool


def chart_zones(protocol: SessionProtocol, chosen: Iterable[str]) -> list[ChartZone]:
    """The body chart's zones from the planned protocol's avoid list, so the chart shows
    exactly what the service will refuse: an area that is not a working zone (R17: the
    spine, kidneys, heart, lymph nodes) or one a rule closes to all work (R3: the
    screening's or today's check-in zones). A zone only capped (R17: no maximum force
    between the shoulder blades) stays choosable, with its note."""
    chosen_set = set(chosen)
    reasons: dict[str, list[str]] = defaultdict(list)
    closed: set[str] = set()
    for avoid in protocol.avoid:
        reasons[avoid.zone].append(avoid.message)
        if avoid.groups == ALL_GROUPS:
            closed.add(avoid.zone)
    working = set(WORKING_ZONES_BOTTOM_UP)
    return [
        ChartZone(
            code=zone.value,
            label=str(zone.label),
            forbidden=zone not in working or zone in closed,
            reasons=tuple(reasons.get(zone, ())),
            checked=zone.value in chosen_set,
        )
        for zone in BackZone
    ]


def _clinical_session(request: PracticeRequest, pk: int) -> Session:
    """The session, if this user may start or complete it (`may_run_session`, as the API)."""
    session = _detail_session(request, pk)
    if not may_run_session(membership=request.membership, session=session):
        raise PermissionDenied(_("Only the session's therapist or a manager may do this."))
    return session


def _detail_session(request: PracticeRequest, pk: int) -> Session:
    return get_object_or_404(
        session_list(membership=request.membership).select_related(
            "room", "course", "course__screening", "check_in", "record", "record__recorded_by"
        ),
        pk=pk,
    )


def _record_of(session: Session) -> SessionRecord | None:
    try:
        return session.record
    except SessionRecord.DoesNotExist:
        return None


def _check_in_row(session: Session) -> CheckIn | None:
    try:
        return session.check_in
    except CheckIn.DoesNotExist:
        return None


def _planned_record(protocol: SessionProtocol) -> dict[str, Any]:
    """The record form's first values from the plan: its techniques in order (one per step,
    a group split by zone caps counted once) and its direction (R16, or R8 top-down); the
    therapist changes what was done differently. Zones and pressure are left to choose."""
    initial: dict[str, Any] = {"direction": protocol.direction.value}
    techniques: list[str] = []
    previous: TechniqueGroup | None = None
    for step in protocol.steps:
        # R15's opening and closing stroking are both kept; a split step is one technique.
        if step.group != previous or step.group == TechniqueGroup.STROKING:
            techniques.append(step.techniques[0].value)
        previous = step.group
    for n, code in enumerate(techniques[:TECHNIQUE_ROWS], start=1):
        initial[f"technique_{n}"] = code
    return initial


def _session_page(
    request: PracticeRequest,
    session: Session,
    *,
    check_in_form: CheckInForm | None = None,
    record_form: RecordForm | None = None,
    errors: list[str] | None = None,
    result: CheckInResult | None = None,
    status: int = 200,
) -> HttpResponse:
    practice = request.practice
    protocol = session_protocol_for(session)
    clinical = session_clinical(session, local_day(session, session.starts_at))
    hypertensive = clinical.hypertensive
    context: dict[str, Any] = {
        "session": session,
        "on_session_page": True,
        "hypertensive": hypertensive,
        # R8: a reading over the limit earlier that day stops the session at check-in.
        "day_blocks": [r for r in clinical.eligibility.reasons if r.day_only]
        if session.status == SessionStatus.BOOKED
        else [],
        "protocol": protocol,
        "check_in": _check_in_row(session),
        "record": _record_of(session),
        "errors": errors or [],
        "result": result,
        "may_run": may_run_session(membership=request.membership, session=session),
        # The service refuses a no-show before the session's time; the button waits for it.
        "may_no_show": session.status == SessionStatus.BOOKED
        and timezone.now() >= session.starts_at,
        # Panels of the apps above sessions (billing's "what the patient owes"), named in
        # settings and loaded by htmx from their own app's URL: sessions never imports them.
        "panels": [
            reverse(name, kwargs={"practice_slug": practice.slug, "pk": session.pk})
            for name in settings.SESSION_PAGE_PANELS
        ],
    }
    record = context["record"]
    if record is not None:
        # Stored as codes; shown by their catalogue labels (a code no longer in it as is).
        techniques, zones = dict(Technique.choices), dict(BackZone.choices)
        context["record_techniques"] = [techniques.get(t, t) for t in record.techniques]
        context["record_zones"] = [zones.get(z, z) for z in record.zones]
        context["chart"] = chart_zones(protocol, record.zones)
    if session.status == SessionStatus.BOOKED:
        context["check_in_form"] = check_in_form or CheckInForm(
            questions=same_day_questions(practice.pk), hypertensive=hypertensive
        )
    if session.status == SessionStatus.IN_PROGRESS:
        form = record_form or RecordForm(initial=_planned_record(protocol))
        chosen = form["zones"].data if form.is_bound else []
        context["record_form"] = form
        context["chart"] = chart_zones(protocol, chosen)
    return SESSION_NOTICES.render(request, "sessions/session_detail.html", context, status=status)


def _to_session(request: PracticeRequest, session: Session, notice: str) -> HttpResponse:
    target = reverse(
        "sessions:session-detail",
        kwargs={"practice_slug": request.practice.slug, "pk": session.pk},
    )
    return redirect_with_notice(target, notice)


@staff_page
def session_detail(request: PracticeRequest, pk: int) -> HttpResponse:
    session = _detail_session(request, pk)
    # The check-in answers and the session record are the patient's health data.
    patient_data_read(session, patient_id=session.patient_id)
    return _session_page(request, session)


@staff_page
@require_POST
def session_check_in_view(request: PracticeRequest, pk: int) -> HttpResponse:
    session = _detail_session(request, pk)
    practice = request.practice
    clinical = session_clinical(session, local_day(session, session.starts_at))
    form = CheckInForm(
        request.POST,
        questions=same_day_questions(practice.pk),
        hypertensive=clinical.hypertensive,
    )
    if not form.is_valid():
        return _session_page(request, session, check_in_form=form, status=400)
    try:
        result = session_check_in(
            session=session,
            answers=form.answers(),
            temperature=form.cleaned_data["temperature"],
            systolic=form.cleaned_data["systolic"],
            diastolic=form.cleaned_data["diastolic"],
            pulse=form.cleaned_data["pulse"],
            by=request.user,
        )
    except Conflict as exc:
        # Shown above the page, not on the form: the session may be past check-in by now.
        return _session_page(
            request,
            _detail_session(request, pk),
            check_in_form=form,
            errors=[conflict_message(exc)],
            status=409,
        )
    except ValidationError as exc:
        # The answers' errors ("wound: choose the zone") are about the questions as a whole.
        errors_to_form(form, exc)
        return _session_page(request, session, check_in_form=form, status=400)
    if result.blocked:
        # Shown at once rather than after a redirect: the rebooking times are the service's
        # answer to this check-in.
        return _session_page(request, _detail_session(request, pk), result=result)
    return _to_session(request, session, "checked-in")


@staff_page
@require_POST
def session_start_view(request: PracticeRequest, pk: int) -> HttpResponse:
    session = _clinical_session(request, pk)
    try:
        session_start(session=session, by=request.user)
    except Conflict as exc:
        return _session_page(
            request, _detail_session(request, pk), errors=[conflict_message(exc)], status=409
        )
    except ValidationError as exc:
        return _session_page(
            request, _detail_session(request, pk), errors=list(exc.messages), status=400
        )
    return _to_session(request, session, "started")


@staff_page
@require_POST
def session_complete_view(request: PracticeRequest, pk: int) -> HttpResponse:
    session = _clinical_session(request, pk)
    form = RecordForm(request.POST)
    if not form.is_valid():
        return _session_page(request, _detail_session(request, pk), record_form=form, status=400)
    data = form.cleaned_data
    try:
        session_complete(
            session=session,
            techniques=form.techniques(),
            zones=data["zones"],
            pressure=data["pressure"],
            direction=data["direction"] or None,
            systolic_after=data["systolic_after"],
            diastolic_after=data["diastolic_after"],
            pain_before=data["pain_before"],
            pain_after=data["pain_after"],
            notes=data["notes"],
            by=request.user,
        )
    except Conflict as exc:
        return _session_page(
            request,
            _detail_session(request, pk),
            record_form=form,
            errors=[conflict_message(exc)],
            status=409,
        )
    except ValidationError as exc:
        form.place_errors(exc)
        return _session_page(request, _detail_session(request, pk), record_form=form, status=400)
    return _to_session(request, session, "completed")


@staff_page
@require_POST
def session_no_show_view(request: PracticeRequest, pk: int) -> HttpResponse:
    session = _detail_session(request, pk)
    try:
        session_no_show(session=session, by=request.user)
    except Conflict as exc:
        return _session_page(request, session, errors=[conflict_message(exc)], status=409)
    return _to_session(request, session, "no-show")
