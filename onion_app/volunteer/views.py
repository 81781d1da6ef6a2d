"""Volunteers on the staff onion: the landing page, signing in, TOTP enrolment, signing out.

Applying is in :mod:`.applying`, the account page in :mod:`.account`.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from nacl.public import PrivateKey
from werkzeug.wrappers import Response

from crypto.errors import WrongPassphrase
from crypto.hybrid import ReaderPrivateKey
from onion_app.domain import matching, sealing, totp, volunteer_keys, widening
from onion_app.domain.kdf_gate import Busy
from onion_app.domain.taxonomy import SKILLS
from onion_app.i18n import gettext as _
from onion_app.i18n import lazy_gettext as _l
from onion_app.store import staff
from onion_app.store.requests import today
from onion_app.store.rows import Volunteer
from onion_app.volunteer import blueprint
from onion_app.volunteer.forms import (
    CodeForm,
    LoginForm,
)
from onion_app.web import auth, limits
from onion_app.web.forms import refuse
from onion_app.web.sessions import ENROLLING, Session
from onion_app.web.state import current_config, get_db, state

LOGIN_FAILED = _l("Those details did not match, or your application is still waiting for an "
                  "operator. Check them and try again.")
BUSY = _l("Many people are signing in right now. Wait a minute, then try again.")
HELD = _l("Too many attempts on this account. Wait a few minutes, then try again.")

Page = str | tuple[str, int] | Response


@blueprint.get("/")
def landing() -> str:
    # A new Haven has no operator, so nobody could approve an application:
    # say how the first one is made (on the server, never by a web form).
    return render_template("volunteer/landing.html", skills=SKILLS,
                           no_operator=not staff.operator_exists(get_db()))


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Page:
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form, 400 if form.errors else 200)
    handle = form.handle.data or ""
    throttle = state().throttle
    if throttle.held(handle):
        limits.retry_after(throttle.seconds_held(handle))
        flash(str(HELD), "error")
        return _login_page(form, 429)
    conn = get_db()
    try:
        row = volunteer_keys.check_passphrase(conn, handle, form.passphrase.data or "",
                                              state().stretching)
        if row is None or row.status != "vetted":
            return _login_failed(form, handle)
        if not row.totp_confirmed:
            key = volunteer_keys.unlock(row, form.passphrase.data or "", state().stretching)
            auth.start(ENROLLING, row.id, key, pending_totp=totp.new_secret(),
                       account_ref=row.public_id)
            return redirect(url_for("volunteer.enrol"))
        checker = state().codes
        if not checker.check(row.id, row.totp_secret, form.code.data or ""):
            return _login_failed(form, handle)
        key = volunteer_keys.unlock(row, form.passphrase.data or "", state().stretching)
        if isinstance(key, PrivateKey):
            # A key from before hybrid stanzas: it gains its ML-KEM half now, the
            # one moment the server holds the passphrase, and what was sealed to
            # this volunteer with X25519 alone is re-sealed hybrid.
            key = volunteer_keys.gain_mlkem_key(conn, row, key, form.passphrase.data or "",
                                                state().stretching)
            sealing.upgrade_own_stanzas(conn, key)
    except Busy:
        flash(str(BUSY), "error")
        return _login_page(form, 429)
    except WrongPassphrase:  # verifier and wrapped key disagree: treat as a failure
        return _login_failed(form, handle)
    throttle.succeeded(handle)
    if row.wrapped_key is None and row.mlkem_public_key is None:
        flash(_("Your public key has no ML-KEM half, so what is sealed to you could be read "
                "by a future quantum computer. Upgrade it on your account page."), "info")
    staff.update(conn, row.id, last_active_on=today())
    if key is not None:
        # Any reader's sign-in shares what they can open with new matches.
        signed_in: ReaderPrivateKey = key
        widening.at_sign_in(conn, lambda _ref: signed_in, matching.Policy.of(current_config()),
                            state().runtime.today(), volunteer_id=row.id)
    conn.commit()
    auth.start("volunteer", row.id, key, account_ref=row.public_id)
    return redirect(_home(row))


def _home(row: Volunteer) -> str:
    """Where a person lands after signing in: an operator with applications
    waiting goes to them (a new Haven's first operator has no requests at
    all); everyone else to their requests."""
    if row.is_operator and staff.count(get_db(), "applied"):
        return url_for("operator.applications")
    return url_for("volunteer.dashboard")


def _login_page(form: LoginForm, status: int) -> tuple[str, int]:
    form.passphrase.data = ""
    form.code.data = ""
    return render_template("volunteer/login.html", form=form), status


def _login_failed(form: LoginForm, handle: str) -> tuple[str, int]:
    # A waiting application gets the same answer as a wrong passphrase: a
    # page of its own would tell whoever applied under a taken handle that
    # their application was not stored, and so that the handle exists.
    throttle = state().throttle
    conn = get_db()
    # Only a real account's handle goes in the log: what someone typed in the
    # handle box could be anything, their passphrase included.
    held = throttle.failed(handle)
    account = staff.by_handle(conn, handle) if held else None
    if account is not None:
        staff.audit(conn, "system", "login held after repeated failures", volunteer=account.id)
        conn.commit()
    refuse(form.handle, LOGIN_FAILED)
    return _login_page(form, 400)


def _enrolling() -> Session | None:
    found = auth.store().get(session.get("sid"))
    return found if found is not None and found.kind == ENROLLING else None


@blueprint.route("/enrol", methods=["GET", "POST"])
def enrol() -> Page:
    pending = _enrolling()
    secret = pending.pending_totp if pending is not None else None
    if pending is None or not secret:
        return redirect(url_for("volunteer.login"))
    form = CodeForm()
    conn = get_db()
    row = staff.by_id(conn, pending.account_id)
    if row is None or row.public_id != pending.account_ref:
        auth.end()
        return redirect(url_for("volunteer.login"))
    if form.validate_on_submit():
        checker = state().codes
        if checker.check(pending.account_id, secret, form.code.data or ""):
            staff.update(conn, pending.account_id, totp_secret=secret, totp_confirmed=1,
                         last_active_on=today())
            staff.audit(conn, row.id, "enrolled TOTP")
            conn.commit()
            auth.start("volunteer", pending.account_id, pending.private_key,
                       account_ref=row.public_id)
            flash(_("Your authenticator is set up. Welcome to Haven."), "ok")
            if row.is_operator:  # vetting is what an operator is here for
                return redirect(url_for("operator.applications"))
            return redirect(_home(row))
        refuse(form.code, _("That code did not match. Check the clock on your phone and try "
                            "the next code."))
    form.code.data = ""
    return render_template("volunteer/enrol.html", form=form, secret=secret,
                           handle=row.handle), 400 if form.errors else 200


@blueprint.get("/enrol/qr.png")
def enrol_qr() -> Response:
    pending = _enrolling()
    secret = pending.pending_totp if pending is not None else None
    if pending is None or not secret:
        abort(404)
    row = staff.by_id(get_db(), pending.account_id)
    if row is None or row.public_id != pending.account_ref:
        abort(404)
    return Response(totp.qr_png(secret, row.handle), mimetype="image/png")


@blueprint.post("/logout")
def logout() -> Response:
    auth.end()
    flash(_("You are signed out."), "ok")
    return redirect(url_for("volunteer.landing"))
