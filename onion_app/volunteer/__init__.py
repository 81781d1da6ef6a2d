"""The volunteer's pages on the staff onion: accounts, caseload, offline mode.

Boundary: imports the layers below it (web, i18n, domain, store), never the
requester or operator packages.
"""

from flask import Blueprint

blueprint = Blueprint("volunteer", __name__)

#: What an anonymous visitor of the staff onion may reach (the operator's
#: pages are all behind a session too).
OPEN_ENDPOINTS = frozenset({"volunteer.landing", "volunteer.apply", "volunteer.key_check",
                            "volunteer.key_challenge", "volunteer.applied", "volunteer.login",
                            "volunteer.enrol", "volunteer.enrol_qr", "volunteer.logout",
                            "language.choose"})

from onion_app.volunteer import (  # noqa: E402, F401  (registers the routes)
    account,
    applying,
    cases,
    notifications,
    offline,
    views,
)
