"""Haven's domain: sealing and matching, keys, retention, staff devices, TOTP,
the notification mail (digests, OpenPGP, the relay).

Boundary: no HTTP (no Flask request state) and no SQL; it works on
connections and rows the store hands it, and seals through ``crypto``.
"""
