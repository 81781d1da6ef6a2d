"""The operator's forms."""

from __future__ import annotations

from wtforms import TextAreaField
from wtforms.validators import Length

from onion_app.i18n import lazy_gettext as _l
from onion_app.i18n import lazy_text
from onion_app.web.forms import HavenForm

NOTE_MAX = 1_000


class VetForm(HavenForm):
    note = TextAreaField(_l("A note for the record (optional)"), render_kw={"dir": "auto"},
                         validators=[
        Length(max=NOTE_MAX, message=lazy_text(
            "Keep the note to %(max)s characters or fewer.", max=NOTE_MAX))])

