"""Login tokens (thalex_protocol.md §2): JWT RS512 with header ``kid`` and a single ``iat`` claim.

The bot side builds tokens (:func:`make_login_token`, with :class:`IatSequencer` keeping ``iat``
strictly increasing per key); the simulated exchange checks them
(:func:`verify_login_token`). Everything here is pure: the current time is an argument.
Neither tokens nor key material ever appear in an exception message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.protocol.rejections import LoginRejected

__all__ = [
    "ACCEPTED_ALGORITHMS",
    "IatSequencer",
    "LoginRejected",
    "generate_rsa_keypair",
    "make_login_token",
    "verify_login_token",
]

ALGORITHM = "RS512"
"""What the official client signs with."""
ACCEPTED_ALGORITHMS = ("RS256", "RS384", "RS512")
"""What the exchange accepts (§2)."""


def make_login_token(key_id: str, private_key_pem: str, iat: float) -> str:
    """Build the ``public/login`` token exactly like the official client's ``_make_auth_token``.

    Args:
        key_id: the API key name, e.g. ``K123456789``; goes into the header ``kid``.
        private_key_pem: RSA private key, PEM (PKCS#1 or PKCS#8).
        iat: issued-at, float Unix seconds; must be within 30 s of the server clock and
            strictly later than any earlier token on this key (use :class:`IatSequencer`).

    Returns:
        The compact JWT; header ``{"alg":"RS512","kid":key_id,"typ":"JWT"}``, claims
        ``{"iat": iat}``. It is a credential: never log it.
    """
    return jwt.encode({"iat": iat}, private_key_pem, algorithm=ALGORITHM, headers={"kid": key_id})


class IatSequencer:
    """Hands out ``iat`` values strictly increasing per key (the server refuses replays, §2).

    Pure: the caller passes the current time. If the clock stands still or steps back, the
    next value is the previous one plus ``min_step_s``.

    Args:
        min_step_s: smallest increment, seconds (1 ms default: well above float resolution
            at current epoch values, ~2.4e-7 s).
    """

    __slots__ = ("_last_by_key", "_min_step_s")

    def __init__(self, min_step_s: float = 1e-3) -> None:
        if not min_step_s > 0:
            raise ValueError(f"min_step_s: got {min_step_s!r}, expected a number > 0")
        self._min_step_s = float(min_step_s)
        self._last_by_key: dict[str, float] = {}

    def next_iat(self, key_id: str, now_s: float) -> float:
        """Return an ``iat`` (Unix seconds) ``> `` the last one returned for ``key_id``."""
        last = self._last_by_key.get(key_id)
        iat = float(now_s)
        if last is not None and iat < last + self._min_step_s:
            iat = last + self._min_step_s
        self._last_by_key[key_id] = iat
        return iat

    def last_iat(self, key_id: str) -> float | None:
        """The last value handed out for ``key_id``, or ``None``."""
        return self._last_by_key.get(key_id)


def verify_login_token(
    token: str,
    public_keys_by_kid: Mapping[str, Any],
    now_s: float,
    last_iat_by_kid: Mapping[str, float],
    max_skew_s: float = 30.0,
) -> tuple[str, float]:
    """Check a login token the way the exchange does (§2).

    Args:
        token: the compact JWT from ``public/login``.
        public_keys_by_kid: RSA public keys (PEM text/bytes or key objects) by key name.
        now_s: the server clock, Unix seconds.
        last_iat_by_kid: the last accepted ``iat`` per key (seconds); the new one must be later.
        max_skew_s: largest allowed ``|iat - now_s|``, seconds.

    Returns:
        ``(kid, iat)``; the caller records ``iat`` as the key's new last value.

    Raises:
        LoginRejected: code AUTHENTICATION_FAILED with the reason (never the token itself).
    """

    def reject(message: str) -> LoginRejected:
        return LoginRejected(ErrorCode.AUTHENTICATION_FAILED, message)

    if not isinstance(token, str) or not token:
        raise reject("token: expected a non-empty JWT string")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise reject("token: not a well-formed JWT") from None
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise reject("token header: 'kid' (the API key name) is missing")
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise reject(f"token header: alg {alg!r} not accepted, expected one of RS256/RS384/RS512")
    key = public_keys_by_kid.get(kid)
    if key is None:
        raise reject(f"unknown key {kid!r}")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=list(ACCEPTED_ALGORITHMS),
            options={
                "verify_iat": False,
                "verify_exp": False,
                "verify_nbf": False,
                "verify_aud": False,
                "verify_iss": False,
                "require": ["iat"],
            },
        )
    except jwt.InvalidSignatureError:
        raise reject(f"bad signature for key {kid!r}") from None
    except jwt.MissingRequiredClaimError:
        raise reject("token claims: 'iat' is missing") from None
    except (jwt.PyJWTError, ValueError, TypeError) as exc:
        raise reject(f"token rejected: {type(exc).__name__}") from None
    iat = claims.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float) or not math.isfinite(iat):
        raise reject(f"token claims: iat must be a number (Unix seconds), got {type(iat).__name__}")
    iat = float(iat)
    if abs(iat - now_s) > max_skew_s:
        raise reject(
            f"iat {iat:.3f} is {iat - now_s:+.3f} s from server time; allowed ±{max_skew_s:g} s"
        )
    last = last_iat_by_kid.get(kid)
    if last is not None and not iat > last:
        raise reject(f"iat {iat:.6f} is not later than the previous login on key {kid!r}")
    return kid, iat


def generate_rsa_keypair(key_size: int = 2048) -> tuple[str, str]:
    """Make a fresh RSA key pair for tests and the simulator.

    Returns:
        ``(private_pem, public_pem)``: PKCS#1 ``BEGIN RSA PRIVATE KEY`` (like the official
        ``_keys.py`` template) and SubjectPublicKeyInfo ``BEGIN PUBLIC KEY``. Keep them out of
        logs and out of the repository.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode("ascii")
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )
    return private_pem, public_pem
