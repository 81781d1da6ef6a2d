"""Everything Haven asks of tor: launching or attaching, the two onion services,
client authorization, the proof-of-work defence, status and the watchdog.

Boundary: talks to tor through stem and never imports flask or ``onion_app``;
keys it must keep are handed to and from the caller, which stores them.
It does not import ``crypto`` either: client-authorization keys come from
PyNaCl directly.

Modules, one idea each: ``errors`` (the exception tree), ``keys`` (key and
address formats), ``control`` (control addresses, connect, attach),
``process`` (Haven's own tor), ``bootstrap``, ``pow``, ``onion`` (specs,
ADD_ONION, publish with a KeyStore), ``client_auth`` (device key pairs),
``status`` (gathered, its JSON form, its description), ``watchdog``,
``torrc`` (for a system tor) and ``socks`` (one outgoing connection through
tor, for the notification mail).
"""
