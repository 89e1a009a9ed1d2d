"""The API's sign-in (`auth/token/`): simplejwt's, telling a client that sends `username`
which field this API reads instead of answering "email: this field is required"."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework_simplejwt import serializers as simplejwt


# simplejwt's name, so the schema's component keeps its name (TokenObtainPair).
class TokenObtainPairSerializer(simplejwt.TokenObtainPairSerializer):
    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping) and "username" in data and self.username_field not in data:
            raise serializers.ValidationError(
                {
                    self.username_field: [
                        _("Sign in with your email address: send it as “email”, not “username”.")
                    ]
                }
            )
        return super().to_internal_value(data)
