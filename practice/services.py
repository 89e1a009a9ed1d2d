from __future__ import annotations

from django.conf import settings as django_settings
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.utils import translation

from practice.catalogue import DEFAULT_MASSAGE_TYPES
from practice.models import MassageType, Membership, Practice, PracticeSettings, Role, User


def massage_types_install_defaults(*, practice: Practice) -> None:
    """Give a practice its own copy of the default catalogue; types it already has are kept."""
    existing = set(MassageType.objects.for_practice(practice).values_list("code", flat=True))
    MassageType.objects.bulk_create(
        MassageType(
            practice=practice,
            code=default.code,
            name=default.name,
            default_minutes=default.default_minutes,
            rotation_order=position,
        )
        for position, default in enumerate(DEFAULT_MASSAGE_TYPES, start=1)
        if default.code not in existing
    )


@transaction.atomic
def practice_create(
    *, name: str, slug: str, time_zone: str | None = None, **settings: object
) -> Practice:
    """Create a practice with its settings and its own copy of the massage type catalogue."""
    practice = Practice(name=name, slug=slug)
    practice.full_clean()
    practice.save()
    practice_settings = PracticeSettings(
        practice=practice, time_zone=time_zone or django_settings.TIME_ZONE, **settings
    )
    practice_settings.full_clean()
    practice_settings.save()
    massage_types_install_defaults(practice=practice)
    return practice


def membership_grant(*, practice: Practice, user: User, role: Role) -> Membership:
    membership, _created = Membership.objects.update_or_create(
        practice=practice, user=user, defaults={"role": role}
    )
    return membership


def password_reset_send(*, email: str, domain: str, use_https: bool, language: str) -> None:
    """Send Django's reset email to the active accounts with `email`, none when there is
    none: a worker's job (`practice.password_reset`), so the request answers alike."""
    form = PasswordResetForm({"email": email})
    if not form.is_valid():
        return
    with translation.override(language):
        form.save(domain_override=domain, use_https=use_https)
