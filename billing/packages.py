"""Courses sold as packages: N sessions at one price, paid up front or by instalments.

The package's charge is invoiced at once (one invoice per package); payments on that invoice
are the instalments. Sessions of the course draw from the package: they are never charged one
by one (`pricing.session_charge` refuses), and a session counts as used once it is completed
or missed (R13: a no-show or a late cancel uses its place). When the course is called off, the
unused sessions are credited on the package's invoice, and refunded too when the practice's
policy says so and the patient had paid for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from billing.invoicing import credit_note_issue, invoice_draft, invoice_issue
from billing.models import (
    ChargeKind,
    CoursePackage,
    Invoice,
    InvoiceKind,
    PackageStatus,
    PaymentMethod,
    UnusedSessions,
)
from billing.money import LineAmounts, percent_of, share
from billing.payments import refund_overpayment
from billing.pricing import amounts_for, billing_settings, charge_create
from courses.models import Course, CourseStatus
from practice.models import User
from practice.prices import price_at
from sessions.models import SessionStatus, missed_filter


def package_sell(
    *, course: Course, by: User | None, discount_percent: Decimal = Decimal(0)
) -> tuple[CoursePackage, Invoice]:
    """Sell a course as a package at its type's current price per session (default length),
    less the discount; the package's invoice is issued at once."""
    if course.status in (CourseStatus.CANCELLED, CourseStatus.COMPLETED):
        raise ValidationError(_("This course has ended."))
    if not Decimal(0) <= discount_percent <= Decimal(100):
        raise ValidationError({"discount_percent": _("A discount is 0–100 %.")})
    practice = course.practice
    price = price_at(
        massage_type=course.massage_type,
        minutes=course.massage_type.default_minutes,
        moment=timezone.now(),
    )
    if price is None:
        raise ValidationError(_("This massage type has no price for its default length."))
    currency = practice.settings.currency
    list_price = price.amount * course.sessions_count
    package_price = list_price - percent_of(list_price, discount_percent, currency)
    rate = billing_settings(practice).tax_rate if price.tax_rate is None else price.tax_rate
    description = _("Course package: %(n)d × %(type)s") % {
        "n": course.sessions_count,
        "type": course.massage_type.display_name,
    }
    if discount_percent:
        description += " " + _("(%(d)s %% off)") % {"d": format(discount_percent.normalize(), "f")}
    with transaction.atomic():
        Course.objects.select_for_update().get(pk=course.pk)
        if CoursePackage.objects.filter(course=course).exists():
            raise ValidationError(_("This course is already sold as a package."))
        charge = charge_create(
            patient=course.patient,
            kind=ChargeKind.PACKAGE,
            description=description,
            amounts=amounts_for(practice, unit_price=package_price, tax_rate=rate),
            tax_rate=rate,
            course_id=course.pk,
        )
        package = CoursePackage.objects.create(
            practice=practice,
            course=course,
            patient=course.patient,
            sessions_count=course.sessions_count,
            list_price=list_price,
            discount_percent=discount_percent,
            charge=charge,
            sold_by=by,
        )
        invoice = invoice_issue(
            invoice=invoice_draft(patient=course.patient, charges=[charge]), by=by
        )
    return package, invoice


def package_invoice(package: CoursePackage) -> Invoice:
    return Invoice.objects.get(
        practice_id=package.practice_id, kind=InvoiceKind.INVOICE, lines__charge=package.charge
    )


@dataclass(frozen=True)
class PackageUsage:
    used: int
    total: int

    @property
    def left(self) -> int:
        return max(self.total - self.used, 0)


def package_usage(package: CoursePackage) -> PackageUsage:
    """Sessions drawn from the package: completed ones and missed ones (R13)."""
    used = package.course.sessions.filter(
        Q(status=SessionStatus.COMPLETED) | missed_filter()
    ).count()
    return PackageUsage(used=min(used, package.sessions_count), total=package.sessions_count)


def package_close_cancelled(*, course: Course, by: User | None) -> Invoice | None:
    """The course was called off: credit its unused sessions on the package's invoice, and
    under a refund policy pay back what the patient paid beyond what is now due. Under the
    credit policy an overpayment stays on the patient's account (a negative balance)."""
    package = CoursePackage.objects.select_for_update().filter(course=course).first()
    if package is None or package.status != PackageStatus.ACTIVE:
        return None
    package.status = PackageStatus.CLOSED
    package.save(update_fields=["status"])
    usage = package_usage(package)
    if not usage.left:
        return None
    invoice = package_invoice(package)
    charge = package.charge
    currency = invoice.currency
    gross = share(charge.gross, usage.left, usage.total, currency)
    net = share(charge.net, usage.left, usage.total, currency)
    description = _("Unused sessions of the course package: %(left)d of %(total)d") % {
        "left": usage.left,
        "total": usage.total,
    }
    note = credit_note_issue(
        invoice=invoice,
        by=by,
        lines=[(description, LineAmounts(net=net, tax=gross - net, gross=gross), charge.tax_rate)],
    )
    if billing_settings(course.practice_id).unused_sessions == UnusedSessions.REFUND:
        # Online payments go back through the provider; the rest as the desk last took it.
        last = (
            invoice.payments.exclude(method=PaymentMethod.ONLINE).order_by("-received_at").first()
        )
        method = last.method if last is not None else PaymentMethod.BANK_TRANSFER
        refund_overpayment(invoice=invoice, method=method, by=by)
    return note
