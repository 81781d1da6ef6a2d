"""Tor's onion-service proof-of-work defence (tor 0.4.8 and later).

With the defence on, tor puts a client puzzle in the service's descriptor and,
when it is overloaded, serves introduction requests in order of the work the
client did, so a flood of cheap requests cannot crowd out real requesters.
When the service is not under attack the suggested effort is zero and honest
clients do no work at all.

ADD_ONION takes it as ``PoWDefensesEnabled=1 PoWQueueRate=N PoWQueueBurst=N``
(checked against tor 0.4.9.11; stem 1.8.2 has no parameter for it).  A tor
that predates it answers 512 naming the keyword, since unknown keywords are
rejected; :func:`is_pow_refusal` recognises that reply.
"""

from __future__ import annotations

from dataclasses import dataclass

from tor_config.errors import InvalidServiceSpec

# Tor's own defaults for HiddenServicePoWQueueRate and HiddenServicePoWQueueBurst
# (``man tor``, 0.4.9): 250 introductions dispatched per second from the
# priority queue, bursts of up to 2500.  They are sized for a busy service;
# Haven's ceiling (about 2,000 bare pages/s on two cores) is well above the
# rate, so the queue, not the app, is what sheds a flood.
DEFAULT_QUEUE_RATE = 250
DEFAULT_QUEUE_BURST = 2500

# Tor parses both values as unsigned 32-bit integers; 2**32 is refused.
_MAX_QUEUE_VALUE = 2**32 - 1

_POW_KEYWORDS = ("PoWDefensesEnabled", "PoWQueueRate", "PoWQueueBurst")


@dataclass(frozen=True)
class PowSettings:
    """How tor paces introduction requests once the defence is on.

    :var int queue_rate: requests per second dispatched from the priority
      queue; 0 means no limit
    :var int queue_burst: the most requests dispatched at once
    """

    queue_rate: int = DEFAULT_QUEUE_RATE
    queue_burst: int = DEFAULT_QUEUE_BURST

    def __post_init__(self) -> None:
        for name in ("queue_rate", "queue_burst"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise InvalidServiceSpec(f"PoW {name} must be an integer")
            if not 0 <= value <= _MAX_QUEUE_VALUE:
                raise InvalidServiceSpec(f"PoW {name} must be between 0 and {_MAX_QUEUE_VALUE}")


def pow_keywords(settings: PowSettings) -> list[str]:
    """Return the ADD_ONION keyword arguments that turn the defence on.

    :returns: e.g. ``['PoWDefensesEnabled=1', 'PoWQueueRate=250', 'PoWQueueBurst=2500']``
    """
    return [
        "PoWDefensesEnabled=1",
        f"PoWQueueRate={settings.queue_rate}",
        f"PoWQueueBurst={settings.queue_burst}",
    ]


def is_pow_refusal(code: str, message: str) -> bool:
    """Tell whether an ADD_ONION reply means "this tor has no PoW defence".

    Such a tor answers 512 (or 513) and names the keyword it does not know,
    e.g. ``512 Bad arguments to ADD_ONION: Unrecognized keyword argument
    "PoWDefensesEnabled"``.  A complaint about a PoW *value* (``512 Invalid
    PoWQueueRate``) is not a refusal of the feature: it stays an error.

    :returns: True if the reply rejects one of the PoW keywords as unknown
    """
    if code not in ("512", "513"):
        return False
    unknown = "nrecognized" in message or "nknown" in message
    return unknown and any(word in message for word in _POW_KEYWORDS)
