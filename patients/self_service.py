"""What patients change on their own record from the portal: their contact details and
reminder consent, and the secret of their calendar-feed URL. The rules are the record's
(`Patient.clean`, through `patient_update`); this module only narrows what a patient may set."""

from __future__ import annotations

from datetime import date

from django.db.models import F

from patients.models import Patient
from patients.services import patient_update


def patient_contact_update(
    *,
    patient: Patient,
    phone: str,
    email: str,
    consent_email: bool,
    consent_sms: bool,
    today: date,
) -> Patient:
    """Save the patient's own phone, email and reminder consent. Consent newly given is dated
    today (R21 needs the date); consent kept keeps its first date."""
    newly_consented = (consent_email and not patient.consent_email) or (
        consent_sms and not patient.consent_sms
    )
    consent_given_on = today if newly_consented else patient.consent_given_on
    # The duplicate question is the desk's: asked of a patient it would tell them that
    # another patient has this phone or email.
    return patient_update(
        patient=patient,
        confirm_duplicate=True,
        phone=phone,
        email=email,
        consent_email=consent_email,
        consent_sms=consent_sms,
        consent_given_on=consent_given_on,
    )


def calendar_feed_renew(*, patient: Patient) -> Patient:
    """A new calendar-feed URL for the patient; every earlier one stops working."""
    # An increment in the database, so two requests at once both end the old URL.
    Patient.objects.filter(pk=patient.pk).update(
        calendar_feed_version=F("calendar_feed_version") + 1
    )
    patient.refresh_from_db(fields=["calendar_feed_version"])
    return patient
