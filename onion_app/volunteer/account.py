"""A signed-in volunteer's account: passphrase, public key, TOTP, availability, deletion
(and the mail section, from :mod:`.notifications`).

Checks of the current passphrase inside a session go through the login
throttle, and a change ends every other session of the account.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from crypto.errors import InvalidPublicKey
from crypto.hybrid import HybridPublicKey
from crypto.keytext import decode_public_key
from onion_app.domain import totp, volunteer_keys
from onion_app.domain.kdf_gate import Busy
from onion_app.domain.taxonomy import SKILLS
from onion_app.i18n import gettext as _
from onion_app.store import staff
from onion_app.store.rows import Volunteer
from onion_app.volunteer import blueprint
from onion_app.volunteer.forms import (
    PassphraseChangeForm,
    PublicKeyForm,
    TotpResetForm,
)
from onion_app.volunteer.notifications import Section, section
from onion_app.volunteer.views import BUSY, HELD, Page
from onion_app.web import auth
from onion_app.web.forms import ConfirmForm, refuse
from onion_app.web.sessions import ENROLLING, Session
from onion_app.web.staff_auth import signed_in_volunteer
from onion_app.web.state import get_db, state


@blueprint.route("/account", methods=["GET"])
@auth.login_required
def account(me: Session) -> str:
    row = signed_in_volunteer(me)
    return render_template("volunteer/account.html", me=row, offline=me.private_key is None,
                           skills=SKILLS, key_form=PublicKeyForm(),
                           passphrase_form=PassphraseChangeForm(), totp_form=TotpResetForm(),
                           button=ConfirmForm(), notify=section(row.id))


def _current_passphrase_checks(row: Volunteer, passphrase: str) -> bool:
    """Checks the current passphrase inside a session, under the login throttle:
    a stolen session must not become a way to guess the passphrase unslowed.

    :raises Busy: if no key derivation slot is free
    """
    throttle = state().throttle
    if volunteer_keys.check_passphrase(get_db(), row.handle, passphrase,
                                       state().stretching) is None:
        _record_failure(row)
        return False
    throttle.succeeded(row.handle)
    return True


def _record_failure(row: Volunteer) -> None:
    if state().throttle.failed(row.handle):
        conn = get_db()
        staff.audit(conn, "system", "account held after repeated failures", volunteer=row.id)
        conn.commit()


@blueprint.post("/account/passphrase")
@auth.login_required
def change_passphrase(me: Session) -> Page:
    row = signed_in_volunteer(me)
    form = PassphraseChangeForm()
    if form.validate_on_submit():
        new = form.passphrase.data or ""
        conn = get_db()
        problem = volunteer_keys.passphrase_problem(new, row.handle)
        if state().throttle.held(row.handle):
            flash(str(HELD), "error")
            return _account_page(me, row, status=429, passphrase_form=_emptied(form))
        try:
            current_ok = _current_passphrase_checks(row, form.current.data or "")
        except Busy:
            flash(str(BUSY), "error")
            return _account_page(me, row, status=429, passphrase_form=_emptied(form))
        if not current_ok:
            refuse(form.current, _("That is not your current passphrase."))
        elif problem:
            refuse(form.passphrase, problem)
        elif new != form.confirm.data:
            refuse(form.confirm, _("The two new passphrases differ."))
        else:
            wrapped, verifier = volunteer_keys.rewrapped(row, form.current.data or "", new,
                                                         state().stretching)
            staff.update(conn, me.account_id, wrapped_key=wrapped, passphrase_hash=verifier)
            staff.audit(conn, row.id, "changed passphrase")
            conn.commit()
            # Whoever else holds a session holds the unlocked key: a change of
            # passphrase after a theft must shut them out, not wait for a timeout.
            auth.end_other_sessions(me)
            flash(_("Your passphrase is changed. Your key and every request stay as they were."),
                  "ok")
            return redirect(url_for("volunteer.account"))
    return _account_page(me, row, status=400, passphrase_form=_emptied(form))


def _emptied(form: PassphraseChangeForm) -> PassphraseChangeForm:
    for field in (form.current, form.passphrase, form.confirm):
        field.data = ""  # secrets never go back out
    return form


def _account_page(me: Session, row: Volunteer, *, status: int,
                  passphrase_form: PassphraseChangeForm | None = None,
                  totp_form: TotpResetForm | None = None,
                  key_form: PublicKeyForm | None = None,
                  notify: Section | None = None) -> tuple[str, int]:
    return render_template("volunteer/account.html", me=row, offline=me.private_key is None,
                           skills=SKILLS, key_form=key_form or PublicKeyForm(),
                           passphrase_form=passphrase_form or PassphraseChangeForm(),
                           totp_form=totp_form or TotpResetForm(),
                           button=ConfirmForm(), notify=notify or section(row.id)), status


@blueprint.post("/account/public-key")
@auth.login_required
def replace_public_key(me: Session) -> Page:
    """An offline volunteer gives the haven-pk2 key that ``python -m crypto
    upgrade`` printed: the same X25519 key with an ML-KEM-768 key beside it."""
    row = signed_in_volunteer(me)
    form = PublicKeyForm()
    if form.validate_on_submit() and row.wrapped_key is None:
        try:
            public = decode_public_key(form.public_key.data or "")
        except InvalidPublicKey:
            public = None
        # Only the same X25519 key is taken: the stanzas already stored for this
        # volunteer stay under its fingerprint and open with the same key file.
        if isinstance(public, HybridPublicKey) and bytes(public.x25519) == row.public_key:
            conn = get_db()
            staff.update(conn, me.account_id, mlkem_public_key=public.mlkem)
            staff.audit(conn, row.id, "added an ML-KEM key")
            conn.commit()
            flash(_("Haven now seals to your key with X25519 and ML-KEM together."), "ok")
            return redirect(url_for("volunteer.account"))
        refuse(form.public_key, _("That is not the upgraded form of your key. Run %(command)s "
                                  "on your key file and paste the line starting %(prefix)s.",
                                  command="python -m crypto upgrade", prefix="haven-pk2:"))
    return _account_page(me, row, status=400, key_form=form)


@blueprint.post("/account/totp")
@auth.login_required
def reset_totp(me: Session) -> Page:
    row = signed_in_volunteer(me)
    form = TotpResetForm()
    conn = get_db()
    checker = state().codes
    if form.validate_on_submit():
        if state().throttle.held(row.handle):
            flash(str(HELD), "error")
            form.current.data = form.code.data = ""
            return _account_page(me, row, status=429, totp_form=form)
        try:
            current_ok = _current_passphrase_checks(row, form.current.data or "")
        except Busy:
            flash(str(BUSY), "error")
            form.current.data = form.code.data = ""
            return _account_page(me, row, status=429, totp_form=form)
        if current_ok and checker.check(me.account_id, row.totp_secret, form.code.data or ""):
            # The old secret stays until a code from the new one confirms it: an
            # abandoned reset must not leave the account on a passphrase alone.
            staff.audit(conn, row.id, "began a TOTP reset")
            conn.commit()
            # A thief's session ends here, not once the new code is confirmed.
            auth.end_other_sessions(me)
            auth.start(ENROLLING, me.account_id, me.private_key, pending_totp=totp.new_secret(),
                       account_ref=row.public_id)
            return redirect(url_for("volunteer.enrol"))
        if current_ok:  # a wrong code counts as a failure as much as a wrong passphrase
            _record_failure(row)
    refuse(form.code, _("The passphrase or the code did not match."))
    form.current.data = form.code.data = ""
    return _account_page(me, row, status=400, totp_form=form)


@blueprint.post("/account/availability")
@auth.login_required
def toggle_availability(me: Session) -> Response:
    row = signed_in_volunteer(me)
    if ConfirmForm().validate_on_submit():
        conn = get_db()
        staff.update(conn, me.account_id, available=0 if row.available else 1)
        conn.commit()
        flash(_("You are paused: no new requests will be sealed to you.") if row.available
              else _("You are available again for new requests."), "ok")
    return redirect(url_for("volunteer.account"))


@blueprint.post("/account/triage")
@auth.login_required
def set_triage(me: Session) -> Response:
    """Takes up or gives up triage (a checkbox, so an unchecked box says "no")."""
    if ConfirmForm().validate_on_submit():
        conn = get_db()
        offered = request.form.get("triage") == "y"
        staff.update(conn, me.account_id, triage=int(offered))
        conn.commit()
        flash(_("You triage requests that nobody else matches.") if offered
              else _("You no longer triage requests."), "ok")
    return redirect(url_for("volunteer.account"))


@blueprint.route("/account/delete", methods=["GET", "POST"])
@auth.login_required
def delete_account(me: Session) -> Page:
    form = ConfirmForm()
    if form.validate_on_submit():
        conn = get_db()
        # Audited first, so the line's actor is this volunteer's token, which
        # the deletion then forgets: the line reads "a deleted volunteer".
        staff.audit(conn, me.account_id, "deleted own account")
        staff.delete_volunteer(conn, me.account_id)
        conn.commit()
        auth.end_account("volunteer", me.account_id)
        auth.end()
        flash(_("Your account is deleted. Requests you were helping with are open again."),
              "ok")
        return redirect(url_for("volunteer.landing"))
    return render_template("volunteer/confirm_delete.html", form=form)
