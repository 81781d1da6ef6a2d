"""Haven's cryptography: codenames, derived and wrapped keys, the multi-reader envelope.

Boundary: a pure library over PyNaCl and the standard library. It never imports
flask, the database, ``onion_app`` or ``tor_config``, so a volunteer can run it
alone on their own machine (``python -m crypto``).
"""
