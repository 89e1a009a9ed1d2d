"""Billing's portal pages under /p/<practice_slug>/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from billing import portal

app_name = "billing-portal"

urlpatterns: list[URLPattern | URLResolver] = [
    path("me/invoices/", portal.my_invoices, name="my-invoices"),
    path("me/invoices/<int:pk>/invoice.pdf", portal.my_invoice_pdf, name="invoice-pdf"),
    path("me/invoices/<int:pk>/pay/", portal.pay_online, name="pay"),
    path("me/payments/<int:pk>/", portal.checkout, name="checkout"),
    path("me/sessions/<int:pk>/deposit/", portal.deposit, name="deposit"),
]
