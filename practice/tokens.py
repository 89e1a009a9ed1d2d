"""The API's sign-in (`auth/token/`): simplejwt's, telling a client that sends `username`
which field this API reads instead of answering "email: this field is required".

It keeps the web's rules too: a locked account (practice.sign_in_limits) gets 429 with the
lock's message, and a user with a second factor must send a current code from their
authenticator app (or a recovery code) as `otp`; a user whose role requires a second factor
and who has none yet is told to set it up on the website first. Refresh tokens are only ever
issued after that, so refreshing needs no code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, AuthenticationFailed
from rest_framework_simplejwt import serializers as simplejwt
from rest_framework_simplejwt.views import TokenObtainPairView

from practice.models import User
from practice.second_factor import (
    SecondFactorRefused,
    has_second_factor,
    second_factor_check,
    second_factor_required,
)
from practice.sign_in_limits import lockout_message


class SignInLocked(APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked"


# simplejwt's name, so the schema's component keeps its name (TokenObtainPair).
class TokenObtainPairSerializer(simplejwt.TokenObtainPairSerializer):
    otp = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=20,
        help_text=_(
            "Required for users with a second factor: the current code of their authenticator "
            "app, or one of their recovery codes."
        ),
    )

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

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        try:
            tokens = super().validate(attrs)
        except AuthenticationFailed:
            # axes flags the request its backend refused (or the failure that reached the limit).
            if getattr(self.context.get("request"), "axes_locked_out", False):
                raise SignInLocked(lockout_message()) from None
            raise
        code = attrs.get("otp", "")
        # Set by the sign-in that just succeeded; simplejwt types it as optional.
        user = cast(User, self.user)
        if has_second_factor(user):
            if not code:
                raise serializers.ValidationError(
                    {"otp": [_("Enter the code of your authenticator app.")]}
                )
            try:
                second_factor_check(user=user, code=code)
            except SecondFactorRefused:
                raise serializers.ValidationError(
                    {"otp": [_("This code is not right, or was used already.")]}
                ) from None
        elif second_factor_required(user):
            raise serializers.ValidationError(
                {"otp": [_("Set up a second factor on the website before using the API.")]}
            )
        return tokens


SIGN_IN_LOCKED = (
    "Too many failed sign-ins with this email (or from this client): signing in is locked, "
    "everywhere, for the cool-off named in `detail` (`code` is `locked`); the right password "
    "is refused too until then, and a manager of the practice can unlock it sooner. Also too "
    "many requests: retry after the seconds in the Retry-After header."
)


# The schema's 429 says what it means here: a lock, not only a rate limit. The 200 is
# declared again because `responses` replaces what drf-spectacular would find by itself.
@extend_schema(
    responses={
        200: TokenObtainPairSerializer,
        429: OpenApiResponse(description=SIGN_IN_LOCKED),
    }
)
class TokenObtainView(TokenObtainPairView):
    pass
