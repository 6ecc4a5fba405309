"""JWT access and refresh tokens as djangorestframework-simplejwt issues them (HS256).

Claims: `jtt` ("access"/"refresh"), `exp`, `iat`, `jti`, and `upk` (the user pk as a string).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"


class TokenError(Exception):
    """The token is unusable; `args[0]` is simplejwt's wording (e.g. "Token is expired")."""


@dataclass(frozen=True)
class Claims:
    kind: str  # "access" or "refresh"
    user_pk: int


class TokenIssuer:
    def __init__(self, secret: str, access_lifetime: float, refresh_lifetime: float) -> None:
        self._secret = secret
        self._lifetimes = {"access": access_lifetime, "refresh": refresh_lifetime}
        self._cache: dict[str, tuple[Claims, float]] = {}

    def issue(self, kind: str, user_pk: int) -> str:
        now = time.time()
        claims = {"jtt": kind, "exp": int(now + self._lifetimes[kind]), "iat": int(now),
                  "jti": uuid.uuid4().hex, "upk": str(user_pk)}
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def pair(self, user_pk: int) -> dict[str, str]:
        return {"refresh": self.issue("refresh", user_pk), "access": self.issue("access", user_pk)}

    def read(self, token: str) -> Claims:
        """Decode and check a token (signature, expiry, claims); verified tokens are cached."""
        cached = self._cache.get(token)
        if cached is not None:
            claims, expires = cached
            if time.time() < expires:
                return claims
            del self._cache[token]
            raise TokenError("Token is expired")
        try:
            payload = jwt.decode(token, self._secret, algorithms=[ALGORITHM], options={"require": ["exp"]})
        except jwt.ExpiredSignatureError:
            raise TokenError("Token is expired") from None
        except (jwt.PyJWTError, UnicodeError, ValueError):  # also header bytes that are no text
            raise TokenError("Token is invalid") from None
        kind, upk = payload.get("jtt"), payload.get("upk")
        if kind not in self._lifetimes or not isinstance(upk, str) or not upk.isdigit():
            raise TokenError("Token is invalid")
        claims = Claims(kind, int(upk))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (claims, float(payload["exp"]))
        return claims
