"""The torrc block for a system tor, checked by tor itself."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tor_config.errors import InvalidServiceSpec
from tor_config.onion import ServiceSpec
from tor_config.torrc import render_torrc


def test_block_has_each_services_options(specs: list[ServiceSpec]) -> None:
    text = render_torrc(specs, Path("/var/lib/tor"))
    lines = text.splitlines()
    assert "Sandbox 1" in lines
    assert "SafeLogging 1" in lines
    public = lines.index("HiddenServiceDir /var/lib/tor/haven-public")
    staff = lines.index("HiddenServiceDir /var/lib/tor/haven-staff")
    assert lines[public + 1] == f"HiddenServicePort 80 {specs[0].target}"
    assert lines[public + 2 : public + 7] == [
        "HiddenServiceMaxStreams 20",
        "HiddenServiceMaxStreamsCloseCircuit 1",
        "HiddenServicePoWDefensesEnabled 1",
        "HiddenServicePoWQueueRate 250",
        "HiddenServicePoWQueueBurst 2500",
    ]
    assert lines[staff + 1] == f"HiddenServicePort 80 {specs[1].target}"
    assert "PoW" not in "\n".join(lines[staff:])
    assert "MaxStreams" not in "\n".join(lines[staff:])
    assert "/var/lib/tor/haven-staff/authorized_clients/<device>.auth" in text
    assert text.endswith("\n")


def test_relative_service_root_is_refused(specs: list[ServiceSpec]) -> None:
    with pytest.raises(InvalidServiceSpec, match="absolute"):
        render_torrc(specs, Path("tor"))


def verify(torrc: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    empty = tmp_path / "empty"
    empty.write_text("")
    return subprocess.run(
        ["tor", "--verify-config", "-f", str(torrc), "--defaults-torrc", str(empty)],
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.mark.tor
def test_tor_accepts_the_block(specs: list[ServiceSpec], tmp_path: Path) -> None:
    torrc = tmp_path / "torrc"
    torrc.write_text(
        render_torrc(specs, tmp_path / "hs") + f"DataDirectory {tmp_path / 'data'}\n"
    )
    result = verify(torrc, tmp_path)
    assert result.returncode == 0, result.stdout
    assert "Configuration was valid" in result.stdout


@pytest.mark.tor
def test_tor_would_catch_a_misspelt_option(specs: list[ServiceSpec], tmp_path: Path) -> None:
    # The check above can fail: a block with one wrong option name is refused.
    torrc = tmp_path / "torrc"
    block = render_torrc(specs, tmp_path / "hs").replace("QueueBurst", "QueueBurts")
    torrc.write_text(block + f"DataDirectory {tmp_path / 'data'}\n")
    result = verify(torrc, tmp_path)
    assert result.returncode != 0
    assert "Unknown option 'HiddenServicePoWQueueBurts'" in result.stdout
