"""How far tor has bootstrapped, and a bounded wait that reports progress.

Onion services can be added at any percent: tor publishes them once it has
bootstrapped.  With no network tor stays at 0 % for good, so a caller
must never wait on this without a bound, and may well not wait at all.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import stem
import stem.control

from tor_config.errors import ControlError

DEFAULT_POLL = 0.5
_FIELD = re.compile(r'(PROGRESS|TAG|SUMMARY)=("(?:[^"\\]|\\.)*"|\S+)')


@dataclass(frozen=True)
class BootstrapProgress:
    """One bootstrap phase as tor reports it.

    :var int percent: 0 to 100
    :var str tag: tor's short name for the phase, e.g. ``conn_done``
    :var str summary: tor's words for it, e.g. ``Connected to a relay``
    """

    percent: int
    tag: str
    summary: str

    @property
    def done(self) -> bool:
        """True once tor has bootstrapped fully (100 %)."""
        return self.percent >= 100

    def __str__(self) -> str:
        return f"{self.percent}% ({self.tag}): {self.summary}"


def parse_bootstrap_phase(text: str) -> BootstrapProgress:
    """Parse ``GETINFO status/bootstrap-phase``.

    :param text: e.g. ``NOTICE BOOTSTRAP PROGRESS=0 TAG=starting SUMMARY="Starting"``

    :returns: the :class:`BootstrapProgress` it describes

    :raises ControlError: if it has no PROGRESS field
    """
    fields = {key: value.strip('"') for key, value in _FIELD.findall(text)}
    progress = fields.get("PROGRESS", "")
    if not progress.isdigit():
        raise ControlError(f"unexpected bootstrap status from tor: {text!r}")
    return BootstrapProgress(int(progress), fields.get("TAG", ""), fields.get("SUMMARY", ""))


def bootstrap_progress(controller: stem.control.Controller) -> BootstrapProgress:
    """Ask tor how far it has bootstrapped.

    :returns: the current :class:`BootstrapProgress`

    :raises ControlError: if the control connection fails
    """
    try:
        text = controller.get_info("status/bootstrap-phase")
    except stem.ControllerError as exc:
        raise ControlError(f"cannot read tor's bootstrap status: {exc}") from exc
    return parse_bootstrap_phase(str(text))


def wait_for_bootstrap(
    controller: stem.control.Controller,
    timeout: float,
    on_progress: Callable[[BootstrapProgress], None] | None = None,
    poll: float = DEFAULT_POLL,
) -> BootstrapProgress:
    """Wait until tor has bootstrapped or ``timeout`` seconds have passed.

    ``on_progress`` is called with the first reading and then with every
    change, so a terminal can show ``Bootstrapped 45% (loading_descriptors)``.

    :param timeout: the most seconds to wait; 0 reads once and returns
    :param on_progress: called with each new :class:`BootstrapProgress`
    :param poll: seconds between readings

    :returns: the last reading; check ``.done``, since running out of time is
      an ordinary outcome (no network, censored network) and not an error

    :raises ControlError: if the control connection fails
    """
    deadline = time.monotonic() + timeout
    last: BootstrapProgress | None = None
    while True:
        current = bootstrap_progress(controller)
        if current != last and on_progress is not None:
            on_progress(current)
        last = current
        remaining = deadline - time.monotonic()
        if current.done or remaining <= 0:
            return current
        time.sleep(min(poll, remaining))
