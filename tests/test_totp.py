from __future__ import annotations

import pyotp
import pytest

from onion_app.domain import totp


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def test_secret_is_160_bits_of_base32() -> None:
    secret = totp.new_secret()
    assert len(secret) == 32
    assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
    assert totp.new_secret() != secret


def test_qr_code_is_a_png_holding_the_uri() -> None:
    png = totp.qr_png(totp.new_secret(), "lawyer")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert b"svg" not in png.lower()


def test_uri_names_issuer_and_handle() -> None:
    uri = totp.provisioning_uri(totp.new_secret(), "lawyer")
    assert uri.startswith("otpauth://totp/")
    assert "lawyer" in uri
    assert "issuer=Haven%20staff" in uri


def test_a_code_works_once() -> None:
    clock = Clock()
    checker = totp.CodeChecker(clock=clock)
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(clock.now)
    assert checker.check(1, secret, code)
    assert not checker.check(1, secret, code)
    clock.now += 30
    assert checker.check(1, secret, pyotp.TOTP(secret).at(clock.now))


def test_one_step_of_drift_either_way() -> None:
    clock = Clock()
    secret = totp.new_secret()
    for drift in (-30, 30):
        checker = totp.CodeChecker(clock=clock)
        assert checker.check(1, secret, pyotp.TOTP(secret).at(clock.now + drift))
    checker = totp.CodeChecker(clock=clock)
    assert not checker.check(1, secret, pyotp.TOTP(secret).at(clock.now + 120))


def test_an_older_code_after_a_newer_one_is_refused() -> None:
    clock = Clock()
    checker = totp.CodeChecker(clock=clock)
    secret = totp.new_secret()
    assert checker.check(1, secret, pyotp.TOTP(secret).at(clock.now + 30))
    assert not checker.check(1, secret, pyotp.TOTP(secret).at(clock.now))


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes(code: str) -> None:
    assert not totp.CodeChecker().check(1, totp.new_secret(), code)


def test_spaces_in_a_code_are_forgiven() -> None:
    clock = Clock()
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(clock.now)
    assert totp.CodeChecker(clock=clock).check(1, secret, f" {code[:3]} {code[3:]} ")


def test_accounts_are_separate() -> None:
    clock = Clock()
    checker = totp.CodeChecker(clock=clock)
    secret = totp.new_secret()
    code = pyotp.TOTP(secret).at(clock.now)
    assert checker.check(1, secret, code)
    assert checker.check(2, secret, code)
