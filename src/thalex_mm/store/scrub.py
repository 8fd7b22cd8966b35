"""Keep secrets out of the journal.

The config snapshot comes from ``BotConfig``, which holds no secrets; this is the second line of
defence for every string the journal writes (config values, order details, error messages): a
PEM block or something shaped like a JWT is replaced before it reaches the disk, and the password
of a URL (``postgresql://user:secret@host/db`` -> ``postgresql://user:***@host/db``) is masked.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["REDACTED_JWT", "REDACTED_PASSWORD", "REDACTED_PEM", "scrub_secrets", "scrub_text"]

REDACTED_PEM = "[redacted PEM block]"
REDACTED_JWT = "[redacted JWT]"
REDACTED_PASSWORD = "***"

# A PEM block (possibly cut short: a BEGIN line without its END is still a key fragment).
_PEM = re.compile(
    r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)", re.DOTALL
)
# A JWT: three base64url segments, the first (the JSON header) starting with "eyJ".
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")
# The userinfo of a URL: ``scheme://user:password@``. The password may hold characters a URL
# should have percent-encoded (``@ # ?``): it runs to the last ``@`` before a ``/`` or a space.
_URL_PASSWORD = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@]*):[^\s/]*@")


def scrub_text(text: str) -> str:
    """Replace PEM blocks, JWT-shaped tokens and URL passwords in one string.

    Args:
        text: any string.

    Returns:
        ``text`` with each PEM block replaced by :data:`REDACTED_PEM`, each JWT by
        :data:`REDACTED_JWT` and the password of each ``scheme://user:password@host`` URL by
        :data:`REDACTED_PASSWORD` (user and host stay); the same object when there is nothing
        to replace.
    """
    if "-----BEGIN" in text:
        text = _PEM.sub(REDACTED_PEM, text)
    if "eyJ" in text:
        text = _JWT.sub(REDACTED_JWT, text)
    if "://" in text and "@" in text:
        masked = _URL_PASSWORD.sub(rf"\1:{REDACTED_PASSWORD}@", text)
        if masked != text:
            text = masked
    return text


def scrub_secrets(value: Any) -> Any:
    """Scrub every string inside a JSON-like value (dicts, lists, tuples, strings).

    Args:
        value: a JSON-like structure; other types pass through unchanged.

    Returns:
        A copy with every string passed through :func:`scrub_text` (dict keys included).
    """
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return {scrub_secrets(k): scrub_secrets(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub_secrets(v) for v in value]
    return value
