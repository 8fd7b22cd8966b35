"""No secret reaches the journal file: PEM blocks and JWTs are replaced before writing."""

from __future__ import annotations

import json

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from thalex_mm.store import Journal, JournalReader, scrub_secrets, scrub_text
from thalex_mm.store.scrub import REDACTED_JWT, REDACTED_PEM


def _pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode().strip()


def _jwt() -> str:
    return jwt.encode({"kid": "K123", "iat": 1_700_000_000}, "a-test-hmac-key-of-at-least-32-bytes!", algorithm="HS256")


def test_scrub_text_when_pem_and_jwt_embedded_replaces_only_them():
    pem, token = _pem(), _jwt()
    text = f"login failed with token {token} and key\n{pem}\nretrying"
    out = scrub_text(text)
    assert token not in out
    assert "PRIVATE KEY" not in out and pem.splitlines()[1] not in out
    assert out == f"login failed with token {REDACTED_JWT} and key\n{REDACTED_PEM}\nretrying"


def test_scrub_text_when_pem_truncated_still_redacts_the_rest():
    pem = _pem()
    half = pem[: len(pem) // 2]
    out = scrub_text("key: " + half)
    assert out == "key: " + REDACTED_PEM


def test_scrub_text_when_nothing_secret_returns_same_text():
    text = "eyes on BTC-PERPETUAL at 65000.5; -----BEGINNER notes"
    assert scrub_text(text) is text


def test_scrub_secrets_when_nested_scrubs_values_and_keys():
    token = _jwt()
    data = {"a": [1, token, {"b": token}], token: 2.5, "c": None}
    assert scrub_secrets(data) == {
        "a": [1, REDACTED_JWT, {"b": REDACTED_JWT}], REDACTED_JWT: 2.5, "c": None}


def _raw_contents(location: str, tmp_path) -> bytes:
    """Everything stored: the SQLite files' bytes, or every PostgreSQL row as text."""
    if not location.startswith("postgresql://"):
        return b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("j.sqlite"))
    from thalex_mm.store.backend import open_connection

    conn = open_connection(location)
    try:
        tables = [t for (t,) in conn.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = "
            "current_schema()")]
        assert {"runs", "orders", "errors", "risk_events"} <= set(tables)
        return "\n".join(str(row) for t in tables
                         for row in conn.query(f"SELECT * FROM {t}")).encode()
    finally:
        conn.close()


def test_journal_when_secrets_in_config_and_records_writes_none_to_file(location, tmp_path):
    pem, token = _pem(), _jwt()
    path = location
    config = {"market": {"account": token, "url": "wss://x"}, "note": pem}
    with Journal(path) as journal:
        run_id = journal.start_run("paper", config)
        journal.order(run_id, ts_ns=1, event="rejected", detail=f"auth {token}")
        journal.error(run_id, ts_ns=2, source="transport", message=f"bad key {pem}")
        journal.risk_event(run_id, ts_ns=3, state="halted", reason="error", detail=token)
        journal.finish_run(run_id, f"crash {token}")
    raw = _raw_contents(location, tmp_path)
    assert b"rejected" in raw  # the dump does hold the records
    assert token.encode() not in raw
    assert token.split(".")[2].encode() not in raw  # not even the signature
    assert pem.splitlines()[1].encode() not in raw
    with JournalReader(path) as reader:
        info = reader.get_run(run_id)
        assert json.loads(info.config_json) == {
            "market": {"account": REDACTED_JWT, "url": "wss://x"}, "note": REDACTED_PEM}
        assert info.exit_reason == f"crash {REDACTED_JWT}"
        assert reader.orders(run_id)[0].detail == f"auth {REDACTED_JWT}"
        assert reader.errors(run_id)[0].message == f"bad key {REDACTED_PEM}"
        assert reader.risk_events(run_id)[0].detail == REDACTED_JWT


def test_scrub_text_when_url_has_password_masks_only_the_password():
    cases = {
        "postgresql://mm:hunter2@127.0.0.1:5432/db": "postgresql://mm:***@127.0.0.1:5432/db",
        "connect to postgresql://mm:p@ss#w?d@db.example:5432/x failed":
            "connect to postgresql://mm:***@db.example:5432/x failed",
        "a ws://u:one@h1/p and http://v:two@h2": "a ws://u:***@h1/p and http://v:***@h2",
        "postgresql://:only@h/db": "postgresql://:***@h/db",
    }
    for text, want in cases.items():
        assert scrub_text(text) == want
        assert scrub_text(want) == want  # idempotent


def test_scrub_text_when_url_has_no_password_returns_same_text():
    for text in ("postgresql://mm@h:5432/db", "http://host:8080/path@x", "wss://thalex.com/ws/api/v2",
                 "mail me at a@b.c"):
        assert scrub_text(text) is text


def test_journal_when_config_journal_path_has_password_stores_it_masked(tmp_path):
    from thalex_mm.config import load_config
    from thalex_mm.store import canonical_config_json

    url = "postgresql://mm:hunter2@127.0.0.1:5432/db"
    config = load_config(None, env={"THALEX_MM__MONITORING__JOURNAL_PATH": url})
    assert config.monitoring.journal_path == url  # the bot itself still gets the real URL
    snapshot = json.loads(canonical_config_json(config))
    assert snapshot["monitoring"]["journal_path"] == "postgresql://mm:***@127.0.0.1:5432/db"
    with Journal(tmp_path / "j.sqlite") as journal:
        run_id = journal.start_run("paper", config)
        journal.error(run_id, ts_ns=1, source="store", message=f"cannot reach {url}")
        journal.finish_run(run_id, "done")
    raw = _raw_contents(str(tmp_path / "j.sqlite"), tmp_path)
    assert b"mm:***@127.0.0.1" in raw
    assert b"hunter2" not in raw
