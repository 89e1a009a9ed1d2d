from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = _("Billing")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Billing reacts to what sessions tell (`sessions.signals`) and fills the hooks sessions
        # keeps for the apps above it; sessions never imports billing.
        from billing import reactions  # noqa: F401
        from billing.deposits import deposit_payment_due
        from billing.pdf import invoice_attachment
        from sessions.booking.holds import hold_source_register
        from sessions.reminders.attachments import attachment_source_register

        hold_source_register(deposit_payment_due)
        attachment_source_register("invoice", invoice_attachment)
