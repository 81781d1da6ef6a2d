"""The notifications section of a volunteer's account page: opt in to the
daily digest, choose how it reads, give an OpenPGP key, or stop it.

The address is shown to its volunteer only, on this page; the digest itself
is :mod:`onion_app.domain.digests`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from flask import flash, redirect, url_for
from werkzeug.wrappers import Response
from wtforms import BooleanField, Field, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.3
from wtforms.validators import DataRequired, Length, ValidationError

from onion_app.config import is_address
from onion_app.domain import digests, openpgp
from onion_app.i18n import gettext as _
from onion_app.i18n import lazy_gettext as _l
from onion_app.store import notifications as store
from onion_app.store.notifications import Subscription
from onion_app.volunteer import blueprint
from onion_app.volunteer.views import Page
from onion_app.web import auth
from onion_app.web.forms import ConfirmForm, HavenForm, refuse
from onion_app.web.sessions import Session
from onion_app.web.staff_auth import signed_in_volunteer
from onion_app.web.state import get_db, state

CHOICE_LABELS = {
    "daily": _l("Every day, the same words"),
    "news": _l("Only on days with news"),
}


def _plain_address(form: HavenForm, field: Field) -> None:
    if field.data and not is_address(field.data):
        raise ValidationError(_l("Enter an address like name@example.org."))


class NotifyForm(HavenForm):
    # A text input, as haven.css styles them; inputmode gives phones an address keyboard.
    address = StringField(_l("Email address"), filters=[lambda v: v.strip() if v else v],
                          validators=[DataRequired(_l("Enter an address like name@example.org.")),
                                      Length(max=254), _plain_address],
                          render_kw={"autocomplete": "email", "inputmode": "email",
                                     "dir": "ltr", "spellcheck": "false",
                                     "autocapitalize": "none"})
    choice = RadioField(_l("When to write"), default="daily",
                        choices=[SelectChoice(value, label)
                                 for value, label in CHOICE_LABELS.items()])
    pgp_key = TextAreaField(_l("Your OpenPGP public key (optional)"),
                            validators=[Length(max=openpgp.MAX_KEY_CHARS)],
                            render_kw={"dir": "ltr", "rows": 4, "spellcheck": "false"})
    forget_key = BooleanField(_l("Forget my key and send without encryption"))


@dataclass(frozen=True)
class Section:
    """What the account page shows in its notifications section."""

    form: NotifyForm
    subscription: Subscription | None
    relay: bool
    hour: int


def section(volunteer_id: int, form: NotifyForm | None = None) -> Section:
    """The section for one volunteer, with their settings in the form."""
    subscription = store.subscription(get_db(), volunteer_id)
    if form is None:
        form = NotifyForm(formdata=None)
        if subscription is not None:
            form.address.data = subscription.address
            form.choice.data = subscription.choice
    config = state().config
    return Section(form, subscription, config.smtp_url is not None,
                   config.notify_hour)


@blueprint.post("/account/notifications")
@auth.login_required
def save_notifications(me: Session) -> Page:
    row = signed_in_volunteer(me)
    form = NotifyForm()
    conn = get_db()
    current = store.subscription(conn, row.id)
    if form.validate_on_submit():
        key: tuple[str, str] | None = None
        if current is not None and current.pgp_key and current.pgp_fingerprint \
                and not form.forget_key.data:
            key = (current.pgp_fingerprint, current.pgp_key)
        try:
            if (form.pgp_key.data or "").strip():
                key = openpgp.check_key(form.pgp_key.data or "")
        except openpgp.UnusableKey:
            refuse(form.pgp_key, _("Paste one OpenPGP public key that can encrypt: not a "
                                   "private key, not expired or revoked."))
        else:
            store.subscribe(conn, row.id, address=form.address.data or "",
                            choice=form.choice.data,
                            pgp_fingerprint=key[0] if key else None,
                            pgp_key=key[1] if key else None,
                            counted_through=digests.first_uncounted_day(datetime.date.today()))
            conn.commit()
            flash(_("Your mail settings are saved."), "ok")
            return redirect(url_for("volunteer.account"))
    # Imported here: the account page imports this module for its section.
    from onion_app.volunteer.account import _account_page

    return _account_page(me, row, status=400, notify=section(row.id, form))


@blueprint.post("/account/notifications/stop")
@auth.login_required
def stop_notifications(me: Session) -> Response:
    if ConfirmForm().validate_on_submit():
        conn = get_db()
        store.unsubscribe(conn, me.account_id)
        conn.commit()
        flash(_("No more mail: your address and key are forgotten."), "ok")
    return redirect(url_for("volunteer.account"))
