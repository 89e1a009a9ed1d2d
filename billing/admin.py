"""Billing in the admin: the policy is edited here (prices with the catalogue, in the practice
app's admin); invoices, payments and charges are read only (they are written by the services,
and an issued invoice never changes)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from billing.models import BillingSettings, Charge, Invoice, InvoiceLine, Payment
from practice.admin import PracticeScopedAdmin


@admin.register(BillingSettings)
class BillingSettingsAdmin(PracticeScopedAdmin):
    list_display = ("practice", "prices_include_tax", "tax_rate", "late_cancel_fee", "no_show_fee")


class ReadOnlyBillingAdmin(PracticeScopedAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


class InvoiceLineInline(admin.TabularInline):
    model = InvoiceLine
    fields = ("description", "net", "tax_rate", "tax", "gross")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyBillingAdmin):
    list_display = ("__str__", "patient", "kind", "status", "gross", "issued_at")
    list_filter = ("practice", "kind", "status", "year")
    list_select_related = ("patient",)
    inlines = (InvoiceLineInline,)


@admin.register(Charge)
class ChargeAdmin(ReadOnlyBillingAdmin):
    list_display = ("description", "patient", "kind", "status", "gross", "created_at")
    list_filter = ("practice", "kind", "status")
    list_select_related = ("patient",)


@admin.register(Payment)
class PaymentAdmin(ReadOnlyBillingAdmin):
    list_display = ("received_at", "patient", "invoice", "method", "amount")
    list_filter = ("practice", "method")
    list_select_related = ("patient", "invoice")
