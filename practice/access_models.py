"""Records of access to a practice: staff invitations, the idempotency keys of API writes and
the one-time recovery codes of a second factor. Registered with the app by `practice.models`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from practice.models import STAFF_ROLE_CHOICES, Membership, PracticeOwned, User


class StaffInvitation(PracticeOwned):
    """An invitation to join the practice's staff, sent as a signed, expiring link
    (`practice.invitations`); the membership is created only when the invitee accepts it.
    Unlike a patient's invitation it is a row: it names nobody's record, so only the row can
    make the link single-use, and deleting it revokes a link not yet accepted."""

    email = models.EmailField(_("email"))
    role = models.CharField(_("role"), max_length=20, choices=STAFF_ROLE_CHOICES)
    invited_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("staff invitation")
        verbose_name_plural = _("staff invitations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} · {self.get_role_display()}"

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()
        if self.practice_id is None or not self.email:
            return
        # Says only what the manager sees anyway: the members of their own practice.
        if Membership.objects.filter(
            practice_id=self.practice_id, user__email__iexact=self.email
        ).exists():
            raise ValidationError({"email": _("This address already belongs to the practice.")})


class IdempotencyKey(PracticeOwned):
    """A POST of the API sent with an `Idempotency-Key` header, and the response it got
    (`practice.idempotency`). The unique constraint is what makes a retry safe: a second
    request with the key waits on the first one's uncommitted row, then finds its response."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("key"), max_length=255)
    # What the key was first sent with (method, path and body), so reusing it for another
    # request is refused rather than answered with an unrelated response.
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True)
    response_body = models.JSONField(null=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "user", "key"], name="idempotency_key_per_user_and_practice"
            )
        ]

    def __str__(self) -> str:
        return self.key


class RecoveryCode(models.Model):
    """A one-time code that stands in for the authenticator app (a lost phone). Only a hash is
    kept; `lookup`, the code's first characters, finds the one row to check without hashing
    every code of the user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    lookup = models.CharField(max_length=4)
    code_hash = models.CharField(max_length=128)
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["user", "lookup"])]

    def __str__(self) -> str:
        return f"recovery code {self.lookup}… of {self.user}"
