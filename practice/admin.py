from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import ForeignKey, ManyToManyField, Model, QuerySet
from django.forms.models import BaseInlineFormSet, ModelChoiceField, ModelMultipleChoiceField
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from practice.admin_site import managed_practice_ids
from practice.models import (
    Closure,
    MassageType,
    Membership,
    Practice,
    PracticeOwned,
    PracticeSettings,
    Room,
    Therapist,
    TimeOff,
    User,
    WorkingHours,
)
from practice.services import practice_create

if TYPE_CHECKING:
    # The stubs' names for `list_filter` and its entries (a field name, a field, a filter).
    from django.contrib.admin.options import _ListFilterT
    from django.utils.datastructures import _ListOrTuple


class ManagerPermissions:
    """A manager may do everything with their own practice's rows; a superuser with all."""

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


class PracticeScopedAdmin(ManagerPermissions, admin.ModelAdmin):
    """Practice-owned rows: a manager sees, and may link to, their practices' rows only."""

    # A class variable, as in ModelAdmin, so that subclasses may list more filters.
    list_filter: ClassVar[_ListOrTuple[_ListFilterT]] = ("practice",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(practice__in=managed_practice_ids(request))

    def get_list_filter(self, request: HttpRequest) -> _ListOrTuple[_ListFilterT]:
        if request.user.is_superuser or len(managed_practice_ids(request)) > 1:
            return self.list_filter
        return tuple(f for f in self.list_filter if f != "practice")

    def formfield_for_foreignkey(
        self, db_field: ForeignKey[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelChoiceField[Any] | None:
        kwargs.setdefault("queryset", self._scoped_choices(db_field.related_model, request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: ManyToManyField[Any, Any], request: HttpRequest, **kwargs: Any
    ) -> ModelMultipleChoiceField[Any] | None:
        kwargs.setdefault("queryset", self._scoped_choices(db_field.related_model, request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @staticmethod
    def _scoped_choices(model: type[Model], request: HttpRequest) -> QuerySet[Any]:
        queryset = model._default_manager.all()
        if request.user.is_superuser:
            return queryset
        if model is Practice:
            return queryset.filter(pk__in=managed_practice_ids(request))
        if issubclass(model, PracticeOwned):
            return queryset.filter(practice__in=managed_practice_ids(request))
        return queryset


class SamePracticeFormSet(BaseInlineFormSet):
    """Rows added inline belong to their parent's practice."""

    def _construct_form(self, i: int, **kwargs: object) -> forms.ModelForm[Any]:
        # A private hook of Django's formsets, which the stubs leave out.
        form = super()._construct_form(i, **kwargs)  # type: ignore[misc]
        form.instance.practice_id = self.instance.practice_id
        return form


class ManagedInline(ManagerPermissions, admin.TabularInline):
    formset = SamePracticeFormSet
    extra = 0


class PracticeSettingsInline(ManagerPermissions, admin.StackedInline):
    model = PracticeSettings
    can_delete = False


@admin.register(Practice)
class PracticeAdmin(ManagerPermissions, admin.ModelAdmin):
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
    list_display = ("user", "role", "practice", "created_at")
    list_filter = ("practice", "role")
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user", "practice")


@admin.register(MassageType)
class MassageTypeAdmin(PracticeScopedAdmin):
    list_display = ("name", "code", "default_minutes", "rotation_order", "active", "practice")
    list_filter = ("practice", "active")
    list_editable = ("rotation_order", "active")
    search_fields = ("name", "code")
    list_select_related = ("practice",)


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


@admin.register(Room)
class RoomAdmin(PracticeScopedAdmin):
    list_display = ("name", "active", "practice")
    list_filter = ("practice", "active")
    search_fields = ("name",)


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
