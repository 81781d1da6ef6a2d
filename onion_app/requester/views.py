"""Requester views: the landing page for now."""

from __future__ import annotations

from flask import render_template

from onion_app.requester import blueprint
from onion_app.taxonomy import SKILLS


@blueprint.get("/")
def landing() -> str:
    return render_template("requester/landing.html", skills=SKILLS)
