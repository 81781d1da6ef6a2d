"""Everything Haven asks of tor: launching or attaching, the two onion services,
client authorization, the proof-of-work defence, status and the watchdog.

Boundary: talks to tor through stem and never imports flask or ``onion_app``;
keys it must keep are handed to and from the caller, which stores them.
"""
