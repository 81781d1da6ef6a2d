"""The requester's pages on the public onion.

Boundary: imports the layers below it (web, i18n, domain, store), never the
volunteer or operator packages.
"""

from flask import Blueprint

blueprint = Blueprint("requester", __name__)

#: What an anonymous visitor may reach; everything else needs a session.
OPEN_ENDPOINTS = frozenset({"requester.landing", "requester.start", "requester.login",
                            "requester.logout", "language.choose"})

from onion_app.requester import views  # noqa: E402, F401  (registers the routes)
