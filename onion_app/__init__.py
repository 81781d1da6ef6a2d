"""Haven's web application: the Flask factory, one blueprint per role, storage.

Boundary: the only package that knows HTTP. It uses ``crypto`` for every secret
and reaches tor only through ``tor_config``.
"""

from onion_app.web.factory import create_app

__all__ = ["create_app"]
