"""The billing API under /api/v1/billing/ (included by practice.urls)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path
from rest_framework.routers import SimpleRouter

from billing.api import BalanceView, InvoiceViewSet, PaymentViewSet

router = SimpleRouter()
router.register("billing/invoices", InvoiceViewSet, basename="invoice")
router.register("billing/payments", PaymentViewSet, basename="payment")

urlpatterns: list[URLPattern | URLResolver] = [
    *router.urls,
    path("billing/patients/<int:id>/balance/", BalanceView.as_view(), name="patient-balance"),
]
