"""The operator's pages on the staff onion: vetting, moderation, counts, audit.

Nothing here can open a request: no view imports the sealing code, and the
queries it uses (``store.oversight``) read metadata only.

Boundary: imports the layers below it (web, i18n, domain, store), never the
requester or volunteer packages.
"""

from flask import Blueprint

blueprint = Blueprint("operator", __name__, url_prefix="/operator")

from onion_app.operator import tor_status, views  # noqa: E402, F401  (registers the routes)
