"""Helpers for tests of the second factor: an authenticator app already set up, and the code
it shows now (computed as the app would, from the device's secret)."""

from __future__ import annotations

import base64
import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from practice.models import User


def authenticator(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def code_now(device: TOTPDevice) -> str:
    return code_for_secret(device.bin_key)


def code_for_secret(key: bytes | str) -> str:
    """The app's current code for `key` (raw bytes, or the base32 text shown when enrolling)."""
    raw = base64.b32decode(key) if isinstance(key, str) else key
    totp = TOTP(raw, step=30, t0=0, digits=6)
    totp.time = time.time()
    return f"{totp.token():06d}"
