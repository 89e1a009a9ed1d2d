"""Demo sessions for `make run`, after `seed_demo`: the next working days of the demo practice
booked through `session_book`, so each session gets its room as a real booking would (R19).
Idempotent: a practice with sessions to come is left alone."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from itertools import cycle
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand
from django.utils import timezone

from patients.models import Patient
from practice.errors import Conflict
from practice.models import Practice, Therapist
from sessions.booking.sessions import session_book
from sessions.models import Session

DEMO_PRACTICE = "linden"
DEMO_DAYS = 3
DEMO_TIMES = (time(9), time(10), time(11), time(14), time(15), time(16))


class Command(BaseCommand):
    help = "Book demo sessions for the next working days of the demo practice (safe to rerun)."

    def handle(self, *args: object, **options: Any) -> None:
        practice = Practice.objects.select_related("settings").filter(slug=DEMO_PRACTICE).first()
        if practice is None:
            self.stderr.write("Run seed_demo first.")
            return
        now = timezone.now()
        if Session.objects.for_practice(practice).filter(starts_at__gt=now).exists():
            self.stdout.write("Demo sessions are booked already.")
            return
        therapists = list(
            Therapist.objects.for_practice(practice)
            .filter(active=True)
            .prefetch_related("massage_types")
        )
        patients = cycle(Patient.objects.for_practice(practice).filter(archived=False))
        booked = refused = 0
        day = timezone.localdate(now, timezone=practice.zone)
        days = 0
        while days < DEMO_DAYS:
            day += timedelta(days=1)
            if day.weekday() >= 5:
                continue
            days += 1
            for slot, starts in enumerate(DEMO_TIMES):
                for number, therapist in enumerate(therapists):
                    types = list(therapist.massage_types.all())
                    try:
                        session_book(
                            practice=practice,
                            patient=next(patients),
                            therapist=therapist,
                            massage_type=types[(slot + number) % len(types)],
                            starts_at=datetime.combine(day, starts, tzinfo=practice.zone),
                            now=now,
                        )
                        booked += 1
                    except (Conflict, ValidationError):
                        # No room free for a third session at once, a screening that blocks
                        # the type: what the desk would hear, and the demo shows the rest.
                        refused += 1
        self.stdout.write(
            self.style.SUCCESS(f"Demo sessions booked: {booked} (refused by the rules: {refused}).")
        )
