"""The journal a command reads when no ``--db`` is given: ``monitoring.journal_path`` of the
effective config (the ``--config`` file if any, then ``THALEX_MM__MONITORING__JOURNAL_PATH``,
then the default ``runs/journal.sqlite``). Shared by ``runs`` and ``report``."""

from __future__ import annotations

import os

__all__ = ["NO_JOURNAL_HINT", "default_journal_path"]

#: Appended to "no journal at PATH": the commands that write one.
NO_JOURNAL_HINT = "run `thalex-mm paper` or `thalex-mm live` first, or pass --db PATH"


def default_journal_path(config_path: str | os.PathLike[str] | None = None) -> str:
    """The journal location (a file path or a ``postgresql://`` URL) from the loaded config.

    Args:
        config_path: a TOML config file, or None for defaults plus the environment.

    Returns:
        ``monitoring.journal_path`` of the effective config.

    Raises:
        ConfigError: the config is invalid (one problem per bad key).
    """
    from thalex_mm.config import load_config

    return load_config(config_path).monitoring.journal_path
