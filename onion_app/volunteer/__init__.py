"""The volunteer's pages on the staff onion: accounts, caseload, offline mode."""

from flask import Blueprint

blueprint = Blueprint("volunteer", __name__)

from onion_app.volunteer import cases, offline, views  # noqa: E402, F401  (registers the routes)
