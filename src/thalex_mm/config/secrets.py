"""API credentials: only from the environment or a key file, never from the TOML.

``THALEX_KEY_ID`` names the key; the private key comes from ``THALEX_PRIVATE_KEY_FILE`` (a PEM
file) or ``THALEX_PRIVATE_KEY`` (PEM text). ``Secret`` never shows its value in ``repr``/``str``.
"""

from __future__ import annotations

import os
import stat
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from thalex_mm.errors import ConfigError

__all__ = ["Credentials", "KeyFilePermissionWarning", "Secret", "load_credentials"]

REDACTED = "**********"


class KeyFilePermissionWarning(UserWarning):
    """The private key file can be read by group or others."""


class Secret:
    """A string that never prints. Call ``reveal()`` at the single place that needs it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __reduce__(self):  # never pickle key material into a worker or a file
        raise TypeError("Secret cannot be pickled")


@dataclass(frozen=True, slots=True)
class Credentials:
    key_id: str
    private_key: Secret

    def __repr__(self) -> str:
        return f"Credentials(key_id={self.key_id!r}, private_key={REDACTED})"


def load_credentials(env: Mapping[str, str] | None = None) -> Credentials:
    """Read the key id and private key from the environment.

    Raises:
        ConfigError: when a variable is missing or the key file cannot be read.
    """
    env = os.environ if env is None else env
    key_id = env.get("THALEX_KEY_ID", "").strip()
    problems: list[tuple[str, object, str]] = []
    if not key_id:
        problems.append(("THALEX_KEY_ID", None, "the API key id (e.g. K123456789)"))
    pem: str | None = None
    path = env.get("THALEX_PRIVATE_KEY_FILE", "").strip()
    if path:
        p = Path(path)
        try:
            mode = p.stat().st_mode
            if mode & (stat.S_IRWXG | stat.S_IRWXO):
                warnings.warn(
                    f"private key file {p} is accessible by group/others (mode {stat.S_IMODE(mode):o}); run: chmod 600 {p}",
                    KeyFilePermissionWarning,
                    stacklevel=2,
                )
            pem = p.read_text(encoding="utf-8")
        except OSError as exc:
            problems.append(("THALEX_PRIVATE_KEY_FILE", path, f"a readable PEM file ({exc.strerror})"))
    elif env.get("THALEX_PRIVATE_KEY"):
        pem = env["THALEX_PRIVATE_KEY"]
    else:
        problems.append(("THALEX_PRIVATE_KEY_FILE", None, "a PEM key file path (or THALEX_PRIVATE_KEY with PEM text)"))
    if pem is not None and "PRIVATE KEY" not in pem:
        problems.append(("THALEX_PRIVATE_KEY_FILE" if path else "THALEX_PRIVATE_KEY", REDACTED, "PEM text with a PRIVATE KEY block"))
    if problems:
        raise ConfigError(problems)
    assert pem is not None
    return Credentials(key_id=key_id, private_key=Secret(pem))
