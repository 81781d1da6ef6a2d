"""The requester's pages on the public onion."""

from flask import Blueprint

blueprint = Blueprint("requester", __name__)

from onion_app.requester import views  # noqa: E402, F401  (registers the routes)
