"""Volunteer accounts on the staff onion: apply, log in, enrol TOTP, account."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from nacl.public import PrivateKey
from werkzeug.wrappers import Response

from crypto.errors import InvalidPublicKey, WrongPassphrase
from crypto.hybrid import HybridPublicKey, ReaderPublicKey
from crypto.keytext import decode_public_key, encode_public_key
from onion_app.domain import applications, handles, sealing, totp, volunteer_keys
from onion_app.domain.kdf_gate import Busy
from onion_app.domain.taxonomy import SKILLS
from onion_app.errors import KeyTaken
from onion_app.i18n import gettext as _
from onion_app.i18n import lazy_gettext as _l
from onion_app.store import staff
from onion_app.store.requests import today
from onion_app.store.rows import Volunteer
from onion_app.volunteer import blueprint
from onion_app.volunteer.forms import (
    ApplyForm,
    CodeForm,
    KeyCheckForm,
    LoginForm,
    PassphraseChangeForm,
    PublicKeyForm,
    TotpResetForm,
)
from onion_app.web import auth
from onion_app.web.forms import ConfirmForm, refuse
from onion_app.web.sessions import ENROLLING, Session
from onion_app.web.staff_auth import signed_in_volunteer
from onion_app.web.state import get_db, state

LOGIN_FAILED = _l("Those details did not match, or your application is still waiting for an "
                  "operator. Check them and try again.")
BUSY = _l("Many people are signing in right now. Wait a minute, then try again.")
# Session keys: the token of an offline application waiting for its key
# proof, and what the thank-you page after an application shows.
KEY_CHECK = "key_check"
APPLIED = "applied"
HELD = _l("Too many attempts on this account. Wait a few minutes, then try again.")

Page = str | tuple[str, int] | Response


@blueprint.get("/")
def landing() -> str:
    return render_template("volunteer/landing.html", skills=SKILLS)


@blueprint.route("/apply", methods=["GET", "POST"])
def apply() -> Page:
    form = ApplyForm()
    if not form.validate_on_submit():
        return _apply_page(form, 400 if form.errors else 200)
    handle = form.handle.data or ""
    passphrase = form.passphrase.data or ""
    problem = volunteer_keys.passphrase_problem(passphrase, handle)
    if problem:
        refuse(form.passphrase, problem)
    elif passphrase != form.confirm.data:
        refuse(form.confirm, _("The two passphrases differ. Type them again."))
    if form.errors:
        return _apply_page(form, 400)
    try:
        keys = volunteer_keys.keys_for(passphrase, form.offline_key.data, state().stretching)
    except InvalidPublicKey:
        refuse(form.offline_key, _("That is not a Haven public key. Copy the whole line that "
                                   "%(command)s printed, starting %(prefix)s.",
                                   command="python -m crypto keygen", prefix="haven-pk2:"))
        return _apply_page(form, 400)
    except Busy:
        flash(str(BUSY), "error")
        return _apply_page(form, 429)
    application = staff.Application(
        handle=handle, public_key=keys.public_key, wrapped_key=keys.wrapped_key,
        mlkem_public_key=keys.mlkem_public_key,
        passphrase_hash=keys.passphrase_hash, skills=frozenset(form.skills.data or ()),
        languages=frozenset(form.languages.data or ()),
        availability=form.availability.data or "weekly", bio=form.bio.data or "",
        references=form.references.data or "", handle_skeleton=handles.skeleton(handle))
    if keys.wrapped_key is None:
        # A pasted key could be anyone's: it is taken only once the applicant
        # opens a code sealed to it, which needs the private key.
        proofs = state().key_proofs
        proofs.drop(session.get(KEY_CHECK))
        session[KEY_CHECK] = proofs.start(application, _public_key(application))
        return redirect(url_for("volunteer.key_check"), 303)
    return _submit(application) or _key_taken(application)


def _submit(application: staff.Application) -> Response | None:
    """Stores the application (or, for a taken handle, only tells the
    operators) and sends the applicant on to the same thank-you page either way.

    :returns: the redirect, or None if the key is another account's
    """
    conn = get_db()
    try:
        applications.submit(conn, application)
    except KeyTaken:
        conn.rollback()
        return None
    conn.commit()
    session[APPLIED] = {"handle": application.handle,
                        "offline": application.wrapped_key is None}
    return redirect(url_for("volunteer.applied"), 303)


def _key_taken(application: staff.Application) -> tuple[str, int]:
    """The application again, as typed, with the key refused."""
    form = ApplyForm(formdata=None, handle=application.handle,
                     skills=sorted(application.skills), languages=sorted(application.languages),
                     availability=application.availability, bio=application.bio,
                     references=application.references,
                     offline_key=encode_public_key(_public_key(application)))
    refuse(form.offline_key, _("This key belongs to another Haven account. Make a new key "
                               "with %(command)s and give its public key.",
                               command="python -m crypto keygen"))
    return _apply_page(form, 409)


def _public_key(application: staff.Application) -> ReaderPublicKey:
    """An application's public key as given: hybrid when it has an ML-KEM half."""
    return sealing.stored_reader_key(application.public_key, application.mlkem_public_key)


def _apply_page(form: ApplyForm, status: int) -> tuple[str, int]:
    form.passphrase.data = form.confirm.data = ""  # secrets never go back out
    return render_template("volunteer/apply.html", form=form), status


@blueprint.route("/apply/key", methods=["GET", "POST"])
def key_check() -> Page:
    proofs = state().key_proofs
    token = session.get(KEY_CHECK)
    pending = proofs.get(token)
    if token is None or pending is None:
        flash(_("That application waited too long, or the server restarted. "
                "Please fill it in again."), "error")
        return redirect(url_for("volunteer.apply"))
    form = KeyCheckForm()
    if form.validate_on_submit():
        application = proofs.answer(token, form.answer.data or "")
        if application is not None:
            session.pop(KEY_CHECK, None)
            return _submit(application) or _key_taken(application)
        if proofs.get(token) is None:
            session.pop(KEY_CHECK, None)
            flash(_("Too many wrong answers. Apply again, and give the public key of the key "
                    "file you open the challenge with."), "error")
            return redirect(url_for("volunteer.apply"))
        refuse(form.answer, _("That is not the code sealed to your key. Paste exactly what "
                              "the command printed."))
    return render_template("volunteer/key_check.html", form=form,
                           challenge=pending.challenge), 400 if form.errors else 200


@blueprint.get("/apply/key/challenge.json")
def key_challenge() -> Response:
    pending = state().key_proofs.get(session.get(KEY_CHECK))
    if pending is None:
        return Response(status=404)
    response = Response(pending.challenge, mimetype="application/json")
    response.headers["Content-Disposition"] = 'attachment; filename="haven-challenge.json"'
    return response


@blueprint.get("/apply/sent")
def applied() -> Page:
    sent = session.get(APPLIED)
    if not isinstance(sent, dict):
        return redirect(url_for("volunteer.apply"))
    return render_template("volunteer/applied.html", handle=sent.get("handle", ""),
                           offline=bool(sent.get("offline")))


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Page:
    form = LoginForm()
    if not form.validate_on_submit():
        return _login_page(form, 400 if form.errors else 200)
    handle = form.handle.data or ""
    throttle = state().throttle
    if throttle.held(handle):
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
            auth.start(ENROLLING, int(row.id), key, pending_totp=totp.new_secret(),
                       account_ref=row.public_id)
            return redirect(url_for("volunteer.enrol"))
        checker = state().codes
        if not checker.check(int(row.id), row.totp_secret, form.code.data or ""):
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
    staff.update(conn, int(row.id), last_active_on=today())
    conn.commit()
    auth.start("volunteer", int(row.id), key, account_ref=row.public_id)
    return redirect(url_for("volunteer.dashboard"))


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
            return redirect(url_for("volunteer.dashboard"))
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
        return Response(status=404)
    row = staff.by_id(get_db(), pending.account_id)
    if row is None or row.public_id != pending.account_ref:
        return Response(status=404)
    return Response(totp.qr_png(secret, row.handle), mimetype="image/png")


@blueprint.post("/logout")
def logout() -> Response:
    auth.end()
    flash(_("You are signed out."), "ok")
    return redirect(url_for("volunteer.landing"))


@blueprint.route("/account", methods=["GET"])
@auth.login_required
def account(me: Session) -> str:
    row = signed_in_volunteer(me)
    return render_template("volunteer/account.html", me=row, offline=me.private_key is None,
                           skills=SKILLS, key_form=PublicKeyForm(),
                           passphrase_form=PassphraseChangeForm(), totp_form=TotpResetForm(),
                           button=ConfirmForm())


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
                  key_form: PublicKeyForm | None = None) -> tuple[str, int]:
    return render_template("volunteer/account.html", me=row, offline=me.private_key is None,
                           skills=SKILLS, key_form=key_form or PublicKeyForm(),
                           passphrase_form=passphrase_form or PassphraseChangeForm(),
                           totp_form=totp_form or TotpResetForm(),
                           button=ConfirmForm()), status


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
