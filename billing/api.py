"""Billing API under /api/v1/billing/: invoices, payments, balances.

Managers and the front desk handle money; therapists get a 403 (billing is not clinical work
and they need none of it); a patient reads their own invoices and balance, and pays their own
invoices online (`pay-online`: a deposit right after booking, say). An issued invoice is
never changed: there is no update or delete (405), a correction is a credit note. Thin
views: input serializer, one service, output serializer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.invoicing import credit_note_issue, invoice_draft, invoice_issue
from billing.models import (
    DESK_PAYMENT_METHODS,
    Charge,
    Invoice,
    InvoiceLine,
    OnlinePayment,
    Payment,
)
from billing.online import online_payment_start
from billing.payments import online_refund, payment_record, payment_refund
from billing.selectors import invoices_of, patient_balance
from patients.models import Patient
from patients.selectors import patients_visible_to
from practice.api import ListCursorPagination, ScopedFieldsSerializer
from practice.idempotency import Idempotent
from practice.models import Role
from practice.permissions import PracticeRole, practice_request, request_membership


def money(**options: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=3, **options)


class BillingStaffOrOwnPatient(PracticeRole):
    """Managers and the desk do anything offered; a patient reads their own; a therapist
    nothing."""

    message = gettext_lazy("Only the practice's managers and front desk handle billing.")
    roles = frozenset({Role.MANAGER, Role.FRONT_DESK, Role.PATIENT})

    def has_permission(self, request: Request, view: object) -> bool:
        if not super().has_permission(request, view):
            return False
        return request_membership(request).role != Role.PATIENT or request.method == "GET"


class PaysOwnInvoice(PracticeRole):
    """Paying online: the desk for any invoice, a patient for their own (the scoped queryset
    makes another's a 404)."""

    roles = frozenset({Role.MANAGER, Role.FRONT_DESK, Role.PATIENT})


class InvoiceLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = ["description", "net", "tax_rate", "tax", "gross"]


class InvoiceSerializer(serializers.ModelSerializer):
    display_number = serializers.CharField(read_only=True)
    lines = InvoiceLineSerializer(many=True, read_only=True)
    paid = money(read_only=True)

    class Meta:
        model = Invoice
        fields = [
            "id",
            "patient",
            "kind",
            "status",
            "year",
            "number",
            "display_number",
            "credits",
            "currency",
            "net",
            "tax",
            "gross",
            "paid",
            "issued_at",
            "lines",
        ]
        read_only_fields = fields


class InvoiceCreateSerializer(ScopedFieldsSerializer):
    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.all())
    charges = serializers.ListField(child=serializers.IntegerField(), allow_empty=False)


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "patient",
            "invoice",
            "amount",
            "method",
            "reference",
            "refund_of",
            "received_at",
        ]
        read_only_fields = fields


class OnlinePaymentSerializer(serializers.ModelSerializer):
    currency = serializers.CharField(source="invoice.currency", read_only=True)
    client_secret = serializers.CharField(
        read_only=True,
        help_text=gettext_lazy("Confirm the intent with it in the provider's SDK."),
    )

    class Meta:
        model = OnlinePayment
        fields = [
            "id",
            "invoice",
            "amount",
            "currency",
            "provider",
            "intent_id",
            "client_secret",
            "status",
        ]
        read_only_fields = fields


class OnlineRefundSerializer(serializers.Serializer):
    amount = money(min_value=Decimal("0.001"))


class PaymentCreateSerializer(ScopedFieldsSerializer):
    invoice = serializers.PrimaryKeyRelatedField(queryset=Invoice.objects.all())
    amount = money(min_value=Decimal("0.001"))
    method = serializers.ChoiceField(choices=DESK_PAYMENT_METHODS)
    reference = serializers.CharField(max_length=200, required=False, default="")


class RefundSerializer(serializers.Serializer):
    amount = money(min_value=Decimal("0.001"))
    method = serializers.ChoiceField(choices=DESK_PAYMENT_METHODS)
    reference = serializers.CharField(max_length=200, required=False, default="")


class BalanceSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    currency = serializers.CharField()
    invoiced = money()
    to_invoice = money()
    drafted_fees = money()


class InvoicePagination(ListCursorPagination):
    ordering = ("-created_at", "-id")


class InvoiceViewSet(
    Idempotent, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Invoices and credit notes, newest first; a patient sees their own issued ones. Create
    drafts a new invoice from open charges; `issue` numbers it; `credit` corrects an issued
    one with a credit note of all its lines; `refund` pays back an overpayment at the desk;
    `pay-online` starts a payment at the provider (a patient too, for their own). No update,
    no delete."""

    permission_classes = [BillingStaffOrOwnPatient]
    serializer_class = InvoiceSerializer
    pagination_class = InvoicePagination
    queryset = Invoice.objects.all()

    def get_queryset(self) -> QuerySet[Invoice]:
        request = practice_request(self.request)
        invoices = invoices_of(request.practice).prefetch_related("lines")
        if request.membership.role == Role.PATIENT:
            own = patients_visible_to(membership=request.membership)
            invoices = invoices.filter(patient__in=own, status="issued")
        return invoices

    @extend_schema(request=InvoiceCreateSerializer, responses={201: InvoiceSerializer})
    def create(self, request: Request) -> Response:
        data = InvoiceCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        ids = data.validated_data["charges"]
        charges = list(
            Charge.objects.for_practice(practice_request(request).practice).filter(pk__in=ids)
        )
        if len(charges) != len(set(ids)):
            raise ValidationError({"charges": _("Choose charges of this practice.")})
        draft = invoice_draft(patient=data.validated_data["patient"], charges=charges)
        return Response(self._output(draft.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, pk: str) -> Response:
        invoice = invoice_issue(invoice=self.get_object(), by=practice_request(request).user)
        return Response(self._output(invoice.pk))

    @extend_schema(request=None, responses={201: InvoiceSerializer})
    @action(detail=True, methods=["post"])
    def credit(self, request: Request, pk: str) -> Response:
        note = credit_note_issue(invoice=self.get_object(), by=practice_request(request).user)
        return Response(self._output(note.pk), status=status.HTTP_201_CREATED)

    @extend_schema(request=RefundSerializer, responses={201: PaymentSerializer})
    @action(detail=True, methods=["post"])
    def refund(self, request: Request, pk: str) -> Response:
        """Pay back what was paid on the invoice beyond what it asks now (after a credit
        note), at most; recorded as a negative payment."""
        data = RefundSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = payment_refund(
            invoice=self.get_object(), by=practice_request(request).user, **data.validated_data
        )
        return Response(PaymentSerializer(refund).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=None,
        responses={201: OnlinePaymentSerializer},
        description=(
            "A payment intent at the practice's payment provider for what is outstanding on "
            "the invoice (a deposit, say): the app confirms it with the provider's SDK and the "
            "client secret, and the provider's webhook records the payment. 400 when nothing "
            "is outstanding."
        ),
    )
    @action(detail=True, methods=["post"], url_path="pay-online", url_name="pay-online")
    def pay_online(self, request: Request, pk: str) -> Response:
        payment = online_payment_start(invoice=self.get_object())
        return Response(OnlinePaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    def get_permissions(self) -> list:
        if self.action == "pay_online":
            return [PaysOwnInvoice()]
        return list(super().get_permissions())

    def _output(self, pk: int) -> dict:
        return dict(InvoiceSerializer(self.get_queryset().get(pk=pk)).data)


class PaymentPagination(ListCursorPagination):
    ordering = ("-received_at", "-id")


class PaymentViewSet(Idempotent, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Payments and refunds (negative), newest first; record one taken at the desk; refund
    one taken online through the provider."""

    permission_classes = [BillingStaffOrOwnPatient]
    serializer_class = PaymentSerializer
    pagination_class = PaymentPagination
    queryset = Payment.objects.all()

    def get_queryset(self) -> QuerySet[Payment]:
        request = practice_request(self.request)
        payments = Payment.objects.for_practice(request.practice)
        if request.membership.role == Role.PATIENT:
            payments = payments.filter(
                patient__in=patients_visible_to(membership=request.membership)
            )
        return payments

    @extend_schema(request=PaymentCreateSerializer, responses={201: PaymentSerializer})
    def create(self, request: Request) -> Response:
        data = PaymentCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        payment = payment_record(by=practice_request(request).user, **data.validated_data)
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=OnlineRefundSerializer,
        responses={201: PaymentSerializer},
        description=(
            "Give back (part of) a payment taken online, through the provider that took it: "
            "at most what is left of it and what was paid on its invoice beyond what the "
            "invoice asks (credit the invoice first). Recorded as a negative payment naming "
            "it (`refund_of`). Cash is refunded at the desk: the invoice's `refund`."
        ),
    )
    @action(detail=True, methods=["post"])
    def refund(self, request: Request, pk: str) -> Response:
        data = OnlineRefundSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        refund = online_refund(
            payment=self.get_object(),
            amount=data.validated_data["amount"],
            by=practice_request(request).user,
        )
        return Response(PaymentSerializer(refund).data, status=status.HTTP_201_CREATED)


class BalanceView(APIView):
    """What a patient owes: issued invoices less payments, and what is not yet invoiced."""

    permission_classes = [BillingStaffOrOwnPatient]

    @extend_schema(responses={200: BalanceSerializer})
    def get(self, request: Request, id: int) -> Response:
        membership = request_membership(request)
        patient = get_object_or_404(patients_visible_to(membership=membership), pk=id)
        balance = patient_balance(patient)
        return Response(
            BalanceSerializer(
                {
                    "patient": patient.pk,
                    "currency": membership.practice.settings.currency,
                    **balance._asdict(),
                }
            ).data
        )
