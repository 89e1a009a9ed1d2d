"""Demo data for `make run`: two practices, staff, rooms, hours and patients. Idempotent."""

from __future__ import annotations

from datetime import date, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from patients.models import Patient, Sex
from practice.models import MassageType, Practice, Role, Room, Therapist, User, WorkingHours
from practice.prices import price_at, price_set
from practice.second_factor import totp_secret
from practice.services import membership_grant, practice_create

DEMO_PASSWORD = "demo-massage-2026"
# Managers sign in with a second factor (ASVS 2.8); the demo managers' authenticator key is
# fixed and printed, so `make run` works with any TOTP app (or `oathtool --totp -b <key>`).
# Demo data only: a real account's key is made at enrolment and never shown again.
DEMO_TOTP_KEY_HEX = "3132333435363738393031323334353637383930"

GIVEN_NAMES = [
    "Anna",
    "Boris",
    "Clara",
    "Dmitri",
    "Elena",
    "Felix",
    "Galina",
    "Hugo",
    "Irina",
    "Jonas",
]
FAMILY_NAMES = ["Keller", "Lebedev", "Meyer", "Novak", "Orlova", "Peters", "Quast", "Romanova"]


class Command(BaseCommand):
    help = "Load demo practices, staff and patients (safe to run again)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--url",
            default="http://127.0.0.1:8000",
            help="Where the server answers, for the printed links (`make run` passes its own).",
        )

    @transaction.atomic
    def handle(self, *args: object, **options: Any) -> None:
        linden = self._practice(
            "linden",
            "Linden Massage Studio",
            "Europe/Berlin",
            address="Lindenstraße 12, 10969 Berlin",
            phone="+49 30 1234567",
        )
        harbour = self._practice(
            "harbour",
            "Harbour Massage",
            "America/New_York",
            address="12 Harbor Street, New York, NY 10004",
            phone="+1 212 555 0100",
            currency="USD",
        )

        logins = [
            self._member(linden, "manager@linden.example", "Maria Manager", Role.MANAGER),
            self._member(linden, "frontdesk@linden.example", "Frank Desk", Role.FRONT_DESK),
        ]
        [Room.objects.get_or_create(practice=linden, name=name)[0] for name in ("Room 1", "Room 2")]
        all_types = list(MassageType.objects.for_practice(linden))
        # A room fitted for the oily and sticky types only: booking never puts others there.
        wet_room, created = Room.objects.get_or_create(practice=linden, name="Honey room")
        if created:
            wet_room.massage_types.set(t for t in all_types if t.code in ("honey", "cupping"))
        # Prices grow with the type's default length: a demo needs them on the pages and the
        # API, in force for a year so that the demo's past sessions were booked at them.
        now = timezone.now()
        for massage_type in all_types:
            minutes = massage_type.default_minutes
            if price_at(massage_type=massage_type, minutes=minutes, moment=now) is None:
                price_set(
                    massage_type=massage_type,
                    minutes=minutes,
                    amount=Decimal(20 + minutes),
                    valid_from=now - timedelta(days=365),
                )
        for number, name in enumerate(["Tanja Weiss", "Oleg Smirnov", "Lena Vogel"], start=1):
            email = f"therapist{number}@linden.example"
            user = self._user(email, name)
            logins.append((email, Role.THERAPIST))
            membership_grant(practice=linden, user=user, role=Role.THERAPIST)
            therapist, created = Therapist.objects.get_or_create(
                practice=linden,
                user=user,
                defaults={"name": name, "colour": ["#3a7bd5", "#d5663a", "#3ad57b"][number - 1]},
            )
            if created:
                therapist.massage_types.set(all_types if number == 1 else all_types[: 3 + number])
                self._week(therapist)

        patients = []
        for index in range(20):
            given, family = (
                GIVEN_NAMES[index % len(GIVEN_NAMES)],
                FAMILY_NAMES[index % len(FAMILY_NAMES)],
            )
            patient, _ = Patient.objects.get_or_create(
                practice=linden,
                given_name=given,
                family_name=family,
                date_of_birth=date(1960 + index, 1 + index % 12, 1 + index % 28),
                defaults={
                    "sex": Sex.FEMALE if index % 2 == 0 else Sex.MALE,
                    "phone": f"+4915100000{index:03d}",
                    "email": f"{given.lower()}.{family.lower()}@example.com",
                    "consent_email": True,
                    "consent_given_on": date(2026, 1, 5),
                    "hypertensive": index % 5 == 0,
                    "chronic_plan": index % 3 == 0,
                },
            )
            patients.append(patient)
        patient_email = "patient@linden.example"
        patient_user = self._user(patient_email, patients[0].full_name)
        membership_grant(practice=linden, user=patient_user, role=Role.PATIENT)
        Patient.objects.filter(pk=patients[0].pk).update(user=patient_user)
        logins.append((patient_email, Role.PATIENT))

        logins.append(
            self._member(harbour, "manager@harbour.example", "Hana Harbour", Role.MANAGER)
        )
        Room.objects.get_or_create(practice=harbour, name="Suite A")
        harbour_therapist, created = Therapist.objects.get_or_create(
            practice=harbour, name="Sam Carter"
        )
        if created:
            harbour_therapist.massage_types.set(MassageType.objects.for_practice(harbour))
            self._week(harbour_therapist)
        for given, family in [("Nora", "Quinn"), ("Owen", "Reid")]:
            Patient.objects.get_or_create(
                practice=harbour,
                given_name=given,
                family_name=family,
                date_of_birth=date(1980, 5, 17),
            )

        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Logins (password: {DEMO_PASSWORD}):")
        )
        for email, role in logins:
            self.stdout.write(f"  {email:32} {Role(role).label}")
        demo_device = TOTPDevice(key=DEMO_TOTP_KEY_HEX)
        for email, role in logins:
            if role == Role.MANAGER:
                TOTPDevice.objects.get_or_create(
                    user=User.objects.get(email=email),
                    name="Demo authenticator",
                    defaults={"key": DEMO_TOTP_KEY_HEX, "confirmed": True},
                )
        self.stdout.write(
            f"  Managers' second factor: authenticator key {totp_secret(demo_device)} "
            "(add it to a TOTP app, or run `oathtool --totp -b <key>`)"
        )
        url = options["url"].rstrip("/")
        self.stdout.write(f"  Admin: {url}/admin/  API docs: {url}/api/docs/")

    def _practice(self, slug: str, name: str, time_zone: str, **settings: object) -> Practice:
        existing = Practice.objects.filter(slug=slug).first()
        return existing or practice_create(name=name, slug=slug, time_zone=time_zone, **settings)

    def _user(self, email: str, full_name: str) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, full_name=full_name)
        return user

    def _member(
        self, practice: Practice, email: str, full_name: str, role: Role
    ) -> tuple[str, Role]:
        membership_grant(practice=practice, user=self._user(email, full_name), role=role)
        return email, role

    @staticmethod
    def _week(therapist: Therapist) -> None:
        for weekday in range(5):
            for starts, ends in ((time(9), time(13)), (time(14), time(18))):
                WorkingHours.objects.create(
                    practice_id=therapist.practice_id,
                    therapist=therapist,
                    weekday=weekday,
                    starts=starts,
                    ends=ends,
                )
