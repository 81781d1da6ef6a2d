"""The volunteer's pages on the staff onion."""

from flask import Blueprint

blueprint = Blueprint("volunteer", __name__)

from onion_app.volunteer import views  # noqa: E402, F401  (registers the routes)
