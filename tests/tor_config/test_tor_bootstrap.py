"""Bootstrap progress: parsing tor's words, and a bounded wait on an offline tor."""

from __future__ import annotations

import pytest

from tor_config.bootstrap import (
    BootstrapProgress,
    bootstrap_progress,
    parse_bootstrap_phase,
    wait_for_bootstrap,
)
from tor_config.control import HavenController
from tor_config.errors import ControlError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'NOTICE BOOTSTRAP PROGRESS=0 TAG=starting SUMMARY="Starting"',
            BootstrapProgress(0, "starting", "Starting"),
        ),
        (
            'NOTICE BOOTSTRAP PROGRESS=45 TAG=requesting_descriptors '
            'SUMMARY="Asking for relay descriptors" WARNING="x" COUNT=1',
            BootstrapProgress(45, "requesting_descriptors", "Asking for relay descriptors"),
        ),
        (
            'NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY="Done"',
            BootstrapProgress(100, "done", "Done"),
        ),
    ],
)
def test_parse_bootstrap_phase(text: str, expected: BootstrapProgress) -> None:
    assert parse_bootstrap_phase(text) == expected
    assert parse_bootstrap_phase(text).done is (expected.percent == 100)


def test_unparseable_bootstrap_phase() -> None:
    with pytest.raises(ControlError, match="unexpected bootstrap status"):
        parse_bootstrap_phase("NOTICE BOOTSTRAP TAG=starting")


def test_progress_reads_like_tors_log_line() -> None:
    assert str(BootstrapProgress(5, "conn", "Connecting")) == "5% (conn): Connecting"


@pytest.mark.tor
def test_offline_tor_stays_at_zero(controller: HavenController) -> None:
    assert bootstrap_progress(controller) == BootstrapProgress(0, "starting", "Starting")


@pytest.mark.tor
def test_bounded_wait_reports_progress_and_returns(controller: HavenController) -> None:
    seen: list[BootstrapProgress] = []
    last = wait_for_bootstrap(controller, timeout=0.6, on_progress=seen.append, poll=0.1)
    assert not last.done
    # Reported once: the phase never changed while we waited.
    assert seen == [BootstrapProgress(0, "starting", "Starting")]


@pytest.mark.tor
def test_zero_timeout_reads_once(controller: HavenController) -> None:
    assert wait_for_bootstrap(controller, timeout=0).percent == 0


@pytest.mark.tor
def test_closed_controller_is_a_control_error(controller: HavenController) -> None:
    controller.close()
    with pytest.raises(ControlError, match="bootstrap status"):
        bootstrap_progress(controller)
