from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.widgets import ForeignKeyRawIdWidget
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Field, ForeignKey, ManyToManyField, Model, Q, QuerySet, URLField
from django.db.models.constants import LOOKUP_SEP
from django.db.models.fields.related import RelatedField
from django.db.models.fields.reverse_related import ManyToOneRel
from django.forms import TypedChoiceField
from django.forms.models import BaseInlineFormSet, ModelChoiceField, ModelMultipleChoiceField
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice.admin_site import managed_practice_ids
from practice.invitations import staff_invitation_send, staff_invitation_token, staff_invite
from practice.models import (
    STAFF_ROLE_CHOICES,
    STAFF_ROLES,
    Closure,
    MassageType,
    Membership,
    Practice,
    PracticeOwned,
    PracticeSettings,
    Role,
    Room,
    StaffInvitation,
    Therapist,
    TimeOff,
    User,
    WorkingHours,
)
from practice.prices import Price
from practice.second_factor_views import reset_second_factor
from practice.services import practice_create
from practice.sign_in_limits import sign_in_unlock

if TYPE_CHECKING:
    # The stubs' names for `list_filter` and its entries (a field name, a field, a filter).
    from django.contrib.admin.options import _ListFilterT
    from django.utils.datastructures import _ListOrTuple
    from django.utils.functional import _StrOrPromise


def practice_choices(model: type[Model], request: HttpRequest) -> QuerySet[Any]:
    """The rows of `model` a user of the admin may pick, filter by or look up: for a manager
    those of the practices they manage (and a catalogue's shared rows), for a superuser all.
    A model that belongs to no practice offers a manager nothing."""
    queryset = model._default_manager.all()
    if request.user.is_superuser:
        return queryset
    practices = managed_practice_ids(request)
    if model is Practice:
        return queryset.filter(pk__in=practices)
    if model is User:
        # Accounts span the deployment: only the people of the manager's own practices, so
        # nobody else's name or address is ever offered.
        members = Membership.objects.filter(practice__in=practices).values("user")
        return queryset.filter(pk__in=members)
    if issubclass(model, PracticeOwned):
        return queryset.filter(practice__in=practices)
    practice = next((f for f in model._meta.concrete_fields if f.name == "practice"), None)
    if practice is not None and practice.related_model is Practice and practice.null:
        return queryset.filter(Q(practice=None) | Q(practice__in=practices))
    return queryset.none()


def related_model(field: Field[Any, Any]) -> type[Model]:
    # A relation's, resolved once the apps are loaded: never None or a "app.Model" string.
    return cast(type[Model], field.related_model)


class PracticeRelatedFilter(admin.RelatedFieldListFilter):
    """ "By therapist" and every other filter by a related row lists the manager's rows only."""

    def field_choices(
        self,
        field: RelatedField[Any, Any],
        request: HttpRequest,
        model_admin: admin.ModelAdmin[Any],
    ) -> list[tuple[str, _StrOrPromise]]:
        choices = practice_choices(related_model(field), request)
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            choices = choices.order_by(*ordering)
        return [(str(row.pk), str(row)) for row in choices]


class ScopedRawIdWidget(ForeignKeyRawIdWidget):
    """A raw-id field names the row it holds only when the user may pick that row: a key
    typed into a form that comes back with errors must not show another practice's row."""

    def __init__(
        self,
        rel: ManyToOneRel,
        admin_site: admin.AdminSite,
        choices: QuerySet[Any],
        using: str | None,
    ) -> None:
        super().__init__(rel, admin_site, using=using)
        self.offered = choices

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        key = self.rel.get_related_field().name
        try:
            allowed = self.offered.filter(**{key: value}).exists()
        except (ValueError, ValidationError):
            allowed = False
        return super().label_and_url_for_value(value) if allowed else ("", "")


class ManagerScope:
    """A manager may do everything with their own practices' rows, and pick only those; a
    superuser may do everything with all."""

    def _allowed(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(managed_practice_ids(request))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request)

    # A model admin asks with the request only, an inline also with the parent object.
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._allowed(request)

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        choices = kwargs.setdefault("queryset", self._choices(db_field, request))
        # The next class in a model admin's or an inline's MRO is Django's own.
        field: ModelChoiceField[Any] | None = super().formfield_for_foreignkey(  # type: ignore[misc]
            db_field, request, **kwargs
        )
        if field is not None and type(field.widget) is ForeignKeyRawIdWidget:
            field.widget = ScopedRawIdWidget(
                db_field.remote_field, field.widget.admin_site, choices, field.widget.db
            )
        return field

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField[Any] | None:
        kwargs.setdefault("queryset", self._choices(db_field, request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)  # type: ignore[misc]

    def _choices(self, db_field: Field[Any, Any], request: HttpRequest) -> QuerySet[Any]:
        choices = practice_choices(related_model(db_field), request)
        # In the order of the related model's admin, as Django would list them.
        ordered: QuerySet[Any] | None = self.get_field_queryset(  # type: ignore[attr-defined]
            None, db_field, request
        )
        return choices if ordered is None else choices & ordered


class PracticeScopedAdmin(ManagerScope, admin.ModelAdmin):
    """Practice-owned rows: a manager sees, filters by and links to their practices' rows
    only."""

    # A class variable, as in ModelAdmin, so that subclasses may list more filters.
    list_filter: ClassVar[_ListOrTuple[_ListFilterT]] = ("practice",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(practice__in=managed_practice_ids(request))

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        practices = managed_practice_ids(request)
        if len(practices) == 1 and not request.user.is_superuser:
            initial.setdefault("practice", str(next(iter(practices))))
        return initial

    def get_list_filter(self, request: HttpRequest) -> _ListOrTuple[_ListFilterT]:
        filters = self.list_filter
        if not (request.user.is_superuser or len(managed_practice_ids(request)) > 1):
            filters = tuple(f for f in filters if f != "practice")
        return tuple(self._scoped_filter(entry) for entry in filters)

    def _scoped_filter(self, entry: _ListFilterT) -> _ListFilterT:
        if not isinstance(entry, str):
            return entry
        if not get_fields_from_path(self.model, entry)[-1].is_relation:
            return entry
        return (entry, PracticeRelatedFilter)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        if not super().lookup_allowed(lookup, value, request):
            return False
        return not names_foreign_rows(self.model, lookup, value, request)


def names_foreign_rows(model: type[Model], lookup: str, value: str, request: HttpRequest) -> bool:
    """Whether a changelist's `?therapist__id__exact=…` (or any lookup by a related row's key)
    names a row the user may not pick: refused rather than answered, so that an empty list
    tells nothing about another practice's rows."""
    parts = lookup.split(LOOKUP_SEP)
    for index, part in enumerate(parts):
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return False
        related = field.related_model
        if related is None or isinstance(related, str):
            return False
        rest = parts[index + 1 :]
        if rest[:1] in (["pk"], [related._meta.pk.name]):
            rest = rest[1:]
        if rest in ([], ["exact"], ["in"]):
            keys = set(value.split(",") if rest == ["in"] else [value])
            try:
                return practice_choices(related, request).filter(pk__in=keys).count() != len(keys)
            except (ValueError, ValidationError):
                return True  # not even a key
        model = related
    return False


class SamePracticeFormSet(BaseInlineFormSet):
    """Rows added inline belong to their parent's practice."""

    def _construct_form(self, i: int, **kwargs: object) -> forms.ModelForm[Any]:
        # A private hook of Django's formsets, which the stubs leave out.
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        form.instance.practice_id = self.instance.practice_id
        return form


class ManagedInline(ManagerScope, admin.TabularInline):
    formset = SamePracticeFormSet
    extra = 0


class PracticeSettingsInline(ManagerScope, admin.StackedInline):
    model = PracticeSettings
    can_delete = False


@admin.register(Practice)
class PracticeAdmin(ManagerScope, admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [PracticeSettingsInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=managed_practice_ids(request))

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return request.user.is_superuser

    def get_inlines(self, request: HttpRequest, obj: Practice | None) -> list:
        # A new practice gets its settings and catalogue from practice_create().
        return self.inlines if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Practice, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
        else:
            created = practice_create(name=obj.name, slug=obj.slug)
            obj.pk = created.pk


@admin.register(Membership)
class MembershipAdmin(PracticeScopedAdmin):
    """Who belongs to the practice, and in which role. Nobody is added here: staff join by
    accepting an invitation ("Invite staff", StaffInvitationAdmin), patients by accepting the
    portal's; and a membership never changes hands or practice."""

    list_display = ("user", "role", "practice", "created_at")
    list_filter = ("practice", "role")
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user", "practice")
    readonly_fields = ("practice", "user")
    actions = ("unlock_sign_in", reset_second_factor)

    @admin.action(description=_("Unlock sign-in (after too many failed attempts)"))
    def unlock_sign_in(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        # The queryset is this manager's practices' memberships only (PracticeScopedAdmin).
        memberships = list(queryset.select_related("practice", "user"))
        for membership in memberships:
            sign_in_unlock(practice=membership.practice, user=membership.user)
        self.message_user(
            request,
            ngettext(
                "Signing in is unlocked for %(count)d account.",
                "Signing in is unlocked for %(count)d accounts.",
                len(memberships),
            )
            % {"count": len(memberships)},
            messages.SUCCESS,
        )

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_readonly_fields(
        self, request: HttpRequest, obj: Membership | None = None
    ) -> _ListOrTuple[str]:
        # A patient becomes staff only by accepting a staff invitation, with their consent.
        if obj is not None and obj.role == Role.PATIENT:
            return (*self.readonly_fields, "role")
        return self.readonly_fields

    def formfield_for_choice_field(
        self, db_field: Field[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> TypedChoiceField | None:
        if db_field.name == "role":
            # ...and a member of the staff does not become a patient here either.
            kwargs["choices"] = STAFF_ROLE_CHOICES
        return super().formfield_for_choice_field(db_field, request, **kwargs)


# What a manager fills in to invite someone.
INVITATION_FIELDS = ("practice", "email", "role")


@admin.register(StaffInvitation)
class StaffInvitationAdmin(PracticeScopedAdmin):
    """Adding one emails the invitation link; deleting one not yet accepted withdraws it."""

    list_display = ("email", "role", "practice", "created_at", "accepted_at")
    list_filter = ("practice", "role")
    search_fields = ("email",)
    list_select_related = ("practice",)
    fields = INVITATION_FIELDS

    def get_fields(
        self, request: HttpRequest, obj: StaffInvitation | None = None
    ) -> tuple[str, ...]:
        if obj is None:
            return INVITATION_FIELDS
        return (*INVITATION_FIELDS, "invited_by", "created_at", "accepted_at", "accepted_by")

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def save_model(
        self,
        request: HttpRequest,
        obj: StaffInvitation,
        form: forms.ModelForm[StaffInvitation],
        change: bool,
    ) -> None:
        # The admin's login makes the user a real one here.
        invitation = staff_invite(
            practice=obj.practice, email=obj.email, role=Role(obj.role), by=cast(User, request.user)
        )
        obj.pk = invitation.pk
        link = request.build_absolute_uri(
            reverse("staff-join", kwargs={"token": staff_invitation_token(invitation=invitation)})
        )
        if not staff_invitation_send(invitation=invitation, link=link):
            self.message_user(
                request,
                _("The email could not be sent. Give %(email)s this link yourself: %(link)s")
                % {"email": invitation.email, "link": link},
                messages.WARNING,
            )


@admin.register(MassageType)
class MassageTypeAdmin(PracticeScopedAdmin):
    list_display = (
        "name",
        "code",
        "default_minutes",
        "online_bookable",
        "rotation_order",
        "active",
        "practice",
    )
    list_filter = ("practice", "active")
    list_editable = ("rotation_order", "active")
    search_fields = ("name", "code")
    list_select_related = ("practice",)


@admin.register(Price)
class PriceAdmin(PracticeScopedAdmin):
    """The price list (`practice.prices`): a new price is a new row valid from a moment; a
    row is never changed, so that sessions keep the price they were booked at."""

    list_display = ("massage_type", "minutes", "amount", "tax_rate", "valid_from")
    list_filter = ("practice", "massage_type")

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class WorkingHoursInline(ManagedInline):
    model = WorkingHours
    fields = ("weekday", "starts", "ends")


class TimeOffInline(ManagedInline):
    model = TimeOff
    fields = ("starts_at", "ends_at", "reason")


@admin.register(Therapist)
class TherapistAdmin(PracticeScopedAdmin):
    list_display = ("name", "colour", "active", "practice")
    list_filter = ("practice", "active", "massage_types")
    search_fields = ("name", "user__email")
    filter_horizontal = ("massage_types",)
    list_select_related = ("practice",)
    inlines = [WorkingHoursInline, TimeOffInline]
    # A photo's address typed without a scheme is taken as https (Django 6's default too).
    formfield_overrides = {URLField: {"assume_scheme": "https"}}

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        if db_field.name == "user":
            # Only someone who has joined the staff (Therapist.clean says which practice).
            staff = Membership.objects.filter(role__in=STAFF_ROLES)
            if not request.user.is_superuser:
                staff = staff.filter(practice__in=managed_practice_ids(request))
            kwargs["queryset"] = User.objects.filter(pk__in=staff.values("user"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Room)
class RoomAdmin(PracticeScopedAdmin):
    list_display = ("name", "active", "practice")
    list_filter = ("practice", "active", "massage_types")
    search_fields = ("name",)
    filter_horizontal = ("massage_types",)


@admin.register(WorkingHours)
class WorkingHoursAdmin(PracticeScopedAdmin):
    list_display = ("therapist", "weekday", "starts", "ends", "practice")
    list_filter = ("practice", "weekday", "therapist")
    search_fields = ("therapist__name",)
    list_select_related = ("therapist", "practice")


@admin.register(Closure)
class ClosureAdmin(PracticeScopedAdmin):
    list_display = ("reason", "starts_at", "ends_at", "practice")
    # A class variable, as in ModelAdmin, so that subclasses may list more filters.
    list_filter: ClassVar[_ListOrTuple[_ListFilterT]] = ("practice",)
    search_fields = ("reason",)
    date_hierarchy = "starts_at"


@admin.register(TimeOff)
class TimeOffAdmin(PracticeScopedAdmin):
    list_display = ("therapist", "starts_at", "ends_at", "reason", "practice")
    list_filter = ("practice", "therapist")
    search_fields = ("therapist__name", "reason")
    date_hierarchy = "starts_at"
    list_select_related = ("therapist", "practice")


# django-otp's own admin shows every user's authenticator and its secret: not in this back
# office, where a user resets their own (the enrolment page) and the secret is never shown again.
admin.site.unregister(TOTPDevice)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Accounts span practices, so only superusers manage them."""

    ordering = ("email",)
    list_display = ("email", "full_name", "is_active", "is_superuser", "date_joined")
    list_filter = ("is_active", "is_superuser")
    search_fields = ("email", "full_name")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("full_name", "language")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    filter_horizontal = ()
