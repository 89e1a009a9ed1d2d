"""One append-only table of audit entries.

Entries name the practice and user by id without a database constraint: a row of the trail
must outlive whatever it talks about (a deleted room, an erased patient's account), and a
cascade must never reach it. `patient_id` is a plain number for the same reason, and because
this low layer must not know the patients app's models.

What an entry holds is decided in `practice.audit.policy`: changed field *names* always,
values only for the few columns that are neither health data nor identity.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from practice.models import Practice


class Action(models.TextChoices):
    CREATE = "create", _("created")
    UPDATE = "update", _("changed")
    DELETE = "delete", _("deleted")
    READ = "read", _("read")
    OVERRIDE = "override", _("overrode a rule")
    EXPORT = "export", _("exported")
    ERASURE = "erasure", _("erased")


class AuditEntry(models.Model):
    at = models.DateTimeField(_("when"), db_default=Now(), db_index=True)
    practice = models.ForeignKey(
        Practice,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("practice"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("user"),
    )
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    # `app_label.modelname`, as Django's `Model._meta.label_lower`.
    model = models.CharField(_("record type"), max_length=100)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    patient_id = models.BigIntegerField(_("patient id"), null=True, blank=True)
    fields = models.JSONField(_("changed fields"), default=list, blank=True)
    values = models.JSONField(_("new values"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["practice", "-at"], name="audit_practice_at_idx"),
            models.Index(fields=["practice", "patient_id", "-at"], name="audit_patient_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} · {self.get_action_display()} · {self.model}"
