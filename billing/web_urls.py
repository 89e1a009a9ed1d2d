"""Billing's pages under /p/<practice_slug>/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from billing import pages

app_name = "billing"

urlpatterns: list[URLPattern | URLResolver] = [
    path("billing/patients/<int:pk>/", pages.account, name="account"),
    path("billing/patients/<int:pk>/invoice/", pages.invoice_open_charges, name="invoice-charges"),
    path("billing/sessions/<int:pk>/panel/", pages.session_panel, name="session-panel"),
    path("billing/sessions/<int:pk>/charge/", pages.session_charge_view, name="session-charge"),
    path("billing/invoices/<int:pk>/payments/", pages.payment_take, name="payment-take"),
    path("billing/invoices/<int:pk>/credit/", pages.credit_note_view, name="credit-note"),
    path("billing/invoices/<int:pk>/refund/", pages.desk_refund_view, name="desk-refund"),
    path("billing/payments/<int:pk>/refund/", pages.online_refund_view, name="online-refund"),
    path("billing/invoices/<int:pk>/invoice.pdf", pages.invoice_pdf_view, name="invoice-pdf"),
    path("billing/charges/<int:pk>/waive/", pages.fee_waive_view, name="fee-waive"),
    path("billing/charges/<int:pk>/confirm/", pages.fee_confirm_view, name="fee-confirm"),
    path("billing/courses/<int:pk>/package/", pages.package_sell_view, name="package-sell"),
]
