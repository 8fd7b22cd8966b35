"""Run the thalex-mm CLI with logging at DEBUG and every login token it builds recorded.

Usage: ``python capture_cli.py RECORD_FILE <thalex-mm arguments...>``. Each token and the PEM it
was signed with are appended to RECORD_FILE (one JSON object a line), so the test knows exactly
which secrets to look for in everything the run wrote.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import thalex_mm.drivers.quoter as quoter_module
import thalex_mm.protocol.auth as auth
from thalex_mm.cli import main
from thalex_mm.logging_setup import configure_logging

record = Path(sys.argv[1])
_make = auth.make_login_token


def _spy(key_id: str, private_key_pem: str, iat: float) -> str:
    token = _make(key_id, private_key_pem, iat)
    with record.open("a") as fh:
        fh.write(json.dumps({"token": token, "pem": private_key_pem}) + "\n")
    return token


auth.make_login_token = _spy
quoter_module.make_login_token = _spy
configure_logging(level="DEBUG")
sys.exit(main(sys.argv[2:]))
