"""The proof-of-work defence: keywords, tor's acceptance, and the fallback for old tors."""

from __future__ import annotations

import logging

import pytest
import stem.response

from tor_config.control import HavenController
from tor_config.errors import InvalidServiceSpec
from tor_config.onion import ServiceSpec, add_onion_command, add_service, running_services
from tor_config.pow import (
    DEFAULT_QUEUE_BURST,
    DEFAULT_QUEUE_RATE,
    PowSettings,
    is_pow_refusal,
    pow_keywords,
)


def test_defaults_are_tors_own() -> None:
    assert (DEFAULT_QUEUE_RATE, DEFAULT_QUEUE_BURST) == (250, 2500)
    assert pow_keywords(PowSettings()) == [
        "PoWDefensesEnabled=1",
        "PoWQueueRate=250",
        "PoWQueueBurst=2500",
    ]


@pytest.mark.parametrize(
    "settings",
    [{"queue_rate": -1}, {"queue_burst": 2**32}, {"queue_rate": True}, {"queue_rate": 1.5}],
)
def test_bad_settings_are_refused(settings: dict[str, object]) -> None:
    with pytest.raises(InvalidServiceSpec):
        PowSettings(**settings)


@pytest.mark.parametrize(
    ("code", "message", "refusal"),
    [
        (
            "512",
            'Bad arguments to ADD_ONION: Unrecognized keyword argument "PoWDefensesEnabled"',
            True,
        ),
        ("513", 'Unrecognized keyword argument "PoWQueueRate"', True),
        ("512", "Invalid PoWQueueRate", False),  # a bad value, not an unknown feature
        ("512", 'Unrecognized keyword argument "Bogus"', False),
        ("550", "Onion address collision", False),
        ("250", "OK", False),
    ],
)
def test_pow_refusal_is_recognised(code: str, message: str, refusal: bool) -> None:
    assert is_pow_refusal(code, message) is refusal


@pytest.mark.tor
def test_this_tor_accepts_the_pow_keywords(controller: HavenController) -> None:
    spec = ServiceSpec("public", "127.0.0.1:8080", pow=PowSettings(queue_rate=7, queue_burst=70))
    reply = controller.msg(add_onion_command(spec))
    assert reply.is_ok(), reply
    assert add_service(controller, spec).pow_enabled


@pytest.mark.tor
def test_tor_rejects_an_unknown_keyword_as_is_pow_refusal_expects(
    controller: HavenController,
) -> None:
    # What a pre-0.4.8 tor says about PoWDefensesEnabled, this tor says about
    # any keyword it does not know.
    reply = controller.msg("ADD_ONION NEW:ED25519-V3 PoWDefensesEnabledX=1 Port=80,127.0.0.1:8080")
    code, _, message = reply.content()[-1]
    assert is_pow_refusal(code, message), message


class TorWithoutPow:
    """A real tor behind a controller that misspells the PoW keywords, so tor
    answers exactly as one without the PoW module would."""

    def __init__(self, controller: HavenController) -> None:
        self.controller = controller
        self.commands: list[str] = []

    def msg(self, command: str) -> stem.response.ControlMessage:
        self.commands.append(command)
        return self.controller.msg(command.replace("PoWDefensesEnabled=", "PoWDefensesEnabledX="))


@pytest.mark.tor
def test_old_tor_gets_the_service_without_pow_and_a_warning(
    controller: HavenController, caplog: pytest.LogCaptureFixture
) -> None:
    warnings: list[str] = []
    old_tor = TorWithoutPow(controller)
    spec = ServiceSpec("public", "127.0.0.1:8080", pow=PowSettings())
    with caplog.at_level(logging.WARNING, logger="tor_config.onion"):
        service = add_service(old_tor, spec, on_warning=warnings.append)
    assert not service.pow_enabled
    assert len(old_tor.commands) == 2
    assert "PoW" not in old_tor.commands[1]
    assert len(warnings) == 1
    assert "no proof-of-work defence" in warnings[0]
    assert "no proof-of-work defence" in caplog.text
    assert service.service_id in running_services(controller)
