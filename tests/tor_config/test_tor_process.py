"""Launching and stopping Haven's own tor."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from tor_helpers import OFFLINE

from tor_config.errors import TorLaunchError, TorNotFound
from tor_config.process import LaunchedTor, TorProcess, launch_tor, torrc_lines


def test_torrc_has_haven_options(tmp_path: Path) -> None:
    lines = torrc_lines(tmp_path, {"DisableNetwork": "1", "Nickname": ["a"]})
    assert f"DataDirectory {tmp_path / 'data'}" in lines
    assert f"ControlSocket {tmp_path / 'control.sock'}" in lines
    assert f"Log notice file {tmp_path / 'tor.log'}" in lines
    for line in ("CookieAuthentication 1", "SocksPort 0", "SafeLogging 1", "DisableNetwork 1"):
        assert line in lines
    assert f"__OwningControllerProcess {os.getpid()}" in lines


@pytest.mark.parametrize(
    "options",
    [{"DisableNetwork": "1\nControlPort 0.0.0.0:9051"}, {"Bad Name": "1"}, {"": "1"}],
)
def test_torrc_refuses_smuggled_lines(tmp_path: Path, options: dict[str, str]) -> None:
    with pytest.raises(TorLaunchError, match="refusing torrc option"):
        torrc_lines(tmp_path, options)


@pytest.mark.tor
def test_launch_makes_private_folder_and_socket(shared_tor: TorProcess) -> None:
    assert shared_tor.is_running()
    assert stat.S_IMODE(shared_tor.directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((shared_tor.directory / "data").stat().st_mode) == 0o700
    assert stat.S_ISSOCK(shared_tor.control_socket.stat().st_mode)
    assert "Opened Control listener" in shared_tor.log_path.read_text()


@pytest.mark.tor
def test_tor_took_our_options(shared_tor: TorProcess) -> None:
    with shared_tor.connect() as controller:
        assert controller.get_conf("__OwningControllerProcess") == str(os.getpid())
        assert controller.get_conf("SocksPort") == "0"
        assert controller.get_conf("DisableNetwork") == "1"


@pytest.mark.tor
def test_stop_ends_tor(tor: TorProcess) -> None:
    tor.stop()
    assert not tor.is_running()
    tor.stop()  # a second stop is harmless


@pytest.mark.tor
def test_bad_option_fails_with_tors_words(short_dir: Path) -> None:
    with pytest.raises(TorLaunchError, match="exited during start-up") as caught:
        launch_tor(short_dir / "tor", extra_options={"NoSuchOption": "1"})
    assert "Unknown option 'NoSuchOption'" in caught.value.log_tail


@pytest.mark.tor
def test_second_tor_on_same_folder_is_refused(shared_tor: TorProcess) -> None:
    with pytest.raises(TorLaunchError, match="already running"):
        launch_tor(shared_tor.directory, extra_options=OFFLINE)
    with shared_tor.connect() as controller:
        assert controller.get_pid() == shared_tor.pid


@pytest.mark.tor
def test_stale_socket_of_a_killed_tor_is_replaced(tor: TorProcess) -> None:
    tor.process.kill()
    tor.process.wait(timeout=10)
    assert tor.control_socket.exists()
    again = launch_tor(tor.directory, extra_options=OFFLINE)
    try:
        with again.connect() as controller:
            assert controller.get_pid() == again.pid
    finally:
        again.stop()


@pytest.mark.tor
def test_launch_waits_within_its_bound(short_dir: Path) -> None:
    with pytest.raises(TorLaunchError, match="did not answer in 0 s"):
        launch_tor(short_dir / "tor", extra_options=OFFLINE, timeout=0)


def test_missing_tor_is_reported(short_dir: Path) -> None:
    with pytest.raises(TorNotFound, match="apt-get install tor"):
        launch_tor(short_dir, tor_cmd="no-such-tor-binary")


def test_too_long_socket_path_is_reported(short_dir: Path) -> None:
    deep = short_dir / ("d" * 100)
    with pytest.raises(TorLaunchError, match="longer than 107 bytes"):
        launch_tor(deep, extra_options=OFFLINE)


@pytest.mark.tor
def test_launched_tor_relaunches_when_dead(short_dir: Path) -> None:
    source = LaunchedTor(short_dir / "tor", extra_options=OFFLINE)
    try:
        with source.open() as controller:
            first = controller.get_pid()
        assert source.process is not None
        source.process.process.kill()
        source.process.process.wait(timeout=10)
        assert not source.is_running()
        with source.open() as controller:
            assert controller.get_pid() != first
        assert source.is_running()
    finally:
        source.stop()


@pytest.mark.tor
def test_closing_a_control_connection_leaves_tor_running(shared_tor: TorProcess) -> None:
    # stem alone would send TAKEOWNERSHIP here, and tor would exit on close.
    for _ in range(2):
        with shared_tor.connect() as controller:
            assert controller.get_conf("__OwningControllerProcess") == str(os.getpid())
    assert shared_tor.is_running()
    with shared_tor.connect() as controller:
        assert controller.is_alive()


@pytest.mark.tor
def test_an_orphaned_tor_is_found_and_stopped(short_dir: Path) -> None:
    from tor_config.process import stop_orphan

    orphan = launch_tor(short_dir / "tor", extra_options=OFFLINE)
    try:
        with pytest.raises(TorLaunchError, match="already running"):
            launch_tor(short_dir / "tor", extra_options=OFFLINE)
        assert stop_orphan(short_dir / "tor")
        assert not orphan.is_running()
        again = launch_tor(short_dir / "tor", extra_options=OFFLINE)
        again.stop()
    finally:
        orphan.stop()
    assert not stop_orphan(short_dir / "tor")  # nothing left to stop


def test_stop_orphan_leaves_a_stranger_alone(short_dir: Path) -> None:
    import subprocess

    from tor_config.process import stop_orphan

    stranger = subprocess.Popen(["sleep", "30"])
    try:
        (short_dir / "tor").mkdir()
        (short_dir / "tor" / "tor.pid").write_text(f"{stranger.pid}\n")
        assert not stop_orphan(short_dir / "tor")
        assert stranger.poll() is None
    finally:
        stranger.kill()
        stranger.wait()
