"""JWT authentication that loads the user together with their memberships.

simplejwt's own class reads the user in one query, and resolving the request's practice
(`practice.tenancy`) would read the membership in a second. Here one query reads the user's
memberships (in the practice the `X-Practice` header names, if any) with the user and the
practice joined; tenancy then reuses them. Both are read afresh on every request, so a
deactivated user or a removed membership is refused on the very next one.
"""

from __future__ import annotations

from typing import Any, cast

from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from practice.models import User
from practice.tenancy import PRACTICE_HEADER, memberships_named, remember_memberships


class PracticeJWTAuthentication(JWTAuthentication):
    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        token = self.get_validated_token(raw_token)
        return self.member(token, request.headers.get(PRACTICE_HEADER)), token

    def member(self, token: Token, practice_slug: str | None) -> User:
        user_id = token.get(api_settings.USER_ID_CLAIM)
        found = (
            list(
                memberships_named(practice_slug)
                .select_related("user")
                .filter(**{f"user__{api_settings.USER_ID_FIELD}": user_id})[:2]
            )
            if user_id is not None
            else []
        )
        if found:
            user: User = found[0].user
            for membership in found:
                membership.user = user
        else:
            # No membership to go by (or no user id): simplejwt's own lookup answers a missing
            # or inactive user with its usual 401, and a user in no practice (named) gets the
            # tenancy's 403 from the memberships remembered empty.
            # simplejwt types it as any user model; ours is practice.User (AUTH_USER_MODEL).
            user = cast(User, self.get_user(token))
        remember_memberships(user, practice_slug, found)
        return user
