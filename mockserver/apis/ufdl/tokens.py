"""JWT access and refresh tokens as djangorestframework-simplejwt issues them (HS256).

Claims: `jtt` ("access"/"refresh"), `exp`, `iat`, `jti`, and `upk` (the user pk as a string), plus
`wld`, the id of the mock's world that issued the token: after a reset or a seed (a new world, whose
pks start again) tokens of the old world are refused like any invalid token. A token without `wld`
(minted by a test with `--ufdl-jwt-secret`) is taken on its signature alone.
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
    def __init__(self, secret: str, access_lifetime: float, refresh_lifetime: float, world: str = "") -> None:
        self._secret = secret
        self._world = world
        self._lifetimes = {"access": access_lifetime, "refresh": refresh_lifetime}
        self._cache: dict[str, tuple[Claims, float]] = {}

    def issue(self, kind: str, user_pk: int) -> str:
        now = time.time()
        claims = {"jtt": kind, "exp": int(now + self._lifetimes[kind]), "iat": int(now),
                  "jti": uuid.uuid4().hex, "upk": str(user_pk), "wld": self._world}
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
        if payload.get("wld", self._world) != self._world:  # issued by an earlier world (before a reset)
            raise TokenError("Token is invalid")
        claims = Claims(kind, int(upk))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[token] = (claims, float(payload["exp"]))
        return claims
