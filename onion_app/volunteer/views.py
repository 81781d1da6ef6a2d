"""Volunteer views: the staff landing page for now."""

from __future__ import annotations

from flask import render_template

from onion_app.taxonomy import SKILLS
from onion_app.volunteer import blueprint


@blueprint.get("/")
def landing() -> str:
    return render_template("volunteer/landing.html", skills=SKILLS)
