"""Login token: build, sequence iat, verify like the exchange (thalex_protocol.md §2)."""

from __future__ import annotations

import itertools

import jwt
import pytest
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from thalex_mm.protocol.auth import (
    IatSequencer,
    generate_rsa_keypair,
    make_login_token,
    verify_login_token,
)
from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.protocol.rejections import LoginRejected

NOW = 1_716_200_000.0


def test_generate_rsa_keypair_when_called_gives_pkcs1_private_and_spki_public(rsa_keypair):
    private_pem, public_pem = rsa_keypair
    assert private_pem.startswith("-----BEGIN " + "RSA PRIVATE KEY-----")  # PKCS#1, like the official template
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")


def test_make_login_token_when_decoded_has_official_header_and_only_iat(rsa_keypair):
    private_pem, public_pem = rsa_keypair
    token = make_login_token("K123", private_pem, NOW + 0.125)
    assert jwt.get_unverified_header(token) == {"alg": "RS512", "kid": "K123", "typ": "JWT"}
    claims = jwt.decode(token, public_pem, algorithms=["RS512"], options={"verify_iat": False})
    assert claims == {"iat": NOW + 0.125}


def test_verify_login_token_when_valid_returns_kid_and_iat(rsa_keypair):
    private_pem, public_pem = rsa_keypair
    token = make_login_token("K1", private_pem, NOW + 1.5)
    assert verify_login_token(token, {"K1": public_pem}, NOW, {}) == ("K1", NOW + 1.5)
    assert verify_login_token(token, {"K1": public_pem}, NOW, {"K1": NOW + 1.0}) == ("K1", NOW + 1.5)


@pytest.fixture(scope="module")
def other_keypair() -> tuple[str, str]:
    return generate_rsa_keypair()


def _reason(token, keys, now=NOW, last=None, skew=30.0) -> str:
    with pytest.raises(LoginRejected) as info:
        verify_login_token(token, keys, now, last or {}, skew)
    assert info.value.code is ErrorCode.AUTHENTICATION_FAILED
    if token:
        assert token not in str(info.value)
    return info.value.message


def test_verify_login_token_when_signed_by_other_key_is_rejected(rsa_keypair, other_keypair):
    token = make_login_token("K1", other_keypair[0], NOW)
    assert "bad signature" in _reason(token, {"K1": rsa_keypair[1]})


def test_verify_login_token_when_kid_unknown_is_rejected(rsa_keypair):
    token = make_login_token("K9", rsa_keypair[0], NOW)
    assert "unknown key 'K9'" in _reason(token, {"K1": rsa_keypair[1]})


@pytest.mark.parametrize(("iat", "ok"), [(NOW - 30.0, True), (NOW + 29.9, True),
                                         (NOW - 30.01, False), (NOW + 31.0, False)])
def test_verify_login_token_when_iat_skewed_accepts_only_within_30s(rsa_keypair, iat, ok):
    token = make_login_token("K1", rsa_keypair[0], iat)
    if ok:
        assert verify_login_token(token, {"K1": rsa_keypair[1]}, NOW, {})[1] == iat
    else:
        assert "from server time" in _reason(token, {"K1": rsa_keypair[1]})


@pytest.mark.parametrize("last", [NOW, NOW + 0.5])
def test_verify_login_token_when_iat_not_later_than_last_is_rejected(rsa_keypair, last):
    token = make_login_token("K1", rsa_keypair[0], NOW)
    assert "not later than the previous login" in _reason(token, {"K1": rsa_keypair[1]}, last={"K1": last})


def test_verify_login_token_when_garbage_or_no_kid_is_rejected(rsa_keypair):
    assert "well-formed" in _reason("a.b.c", {"K1": rsa_keypair[1]})
    assert "non-empty" in _reason("", {"K1": rsa_keypair[1]})
    no_kid = jwt.encode({"iat": NOW}, rsa_keypair[0], algorithm="RS512")
    assert "'kid'" in _reason(no_kid, {"K1": rsa_keypair[1]})
    hs = jwt.encode({"iat": NOW}, "secret-secret-secret-secret-secret", algorithm="HS256",
                    headers={"kid": "K1"})
    assert "alg 'HS256' not accepted" in _reason(hs, {"K1": rsa_keypair[1]})
    no_iat = jwt.encode({"x": 1}, rsa_keypair[0], algorithm="RS512", headers={"kid": "K1"})
    assert "'iat' is missing" in _reason(no_iat, {"K1": rsa_keypair[1]})


def test_verify_login_token_when_rs256_accepts_it(rsa_keypair):
    token = jwt.encode({"iat": NOW}, rsa_keypair[0], algorithm="RS256", headers={"kid": "K1"})
    assert verify_login_token(token, {"K1": rsa_keypair[1]}, NOW, {}) == ("K1", NOW)


def test_iat_sequencer_when_clock_stalls_or_steps_back_stays_strictly_increasing():
    seq = IatSequencer(min_step_s=0.001)
    values = [seq.next_iat("K1", t) for t in (100.0, 100.0, 99.0, 100.0005, 105.0)]
    assert values == pytest.approx([100.0, 100.001, 100.002, 100.003, 105.0])
    assert all(b > a for a, b in itertools.pairwise(values))
    assert seq.next_iat("K2", 50.0) == 50.0  # per key
    assert seq.last_iat("K1") == 105.0
    with pytest.raises(ValueError, match="min_step_s"):
        IatSequencer(min_step_s=0)


def test_iat_sequencer_tokens_when_verified_in_order_are_all_accepted(rsa_keypair):
    seq = IatSequencer()
    last: dict[str, float] = {}
    for _ in range(3):
        token = make_login_token("K1", rsa_keypair[0], seq.next_iat("K1", NOW))
        kid, iat = verify_login_token(token, {"K1": rsa_keypair[1]}, NOW, last)
        last[kid] = iat
    assert last["K1"] == pytest.approx(NOW + 0.002)


def test_verify_login_token_when_key_is_an_object_accepts_it(rsa_keypair):
    key = load_pem_public_key(rsa_keypair[1].encode())
    token = make_login_token("K1", rsa_keypair[0], NOW)
    assert verify_login_token(token, {"K1": key}, NOW, {}) == ("K1", NOW)
