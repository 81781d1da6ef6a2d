"""Applying to volunteer: the form, the proof of an offline key, the thank-you page.

Redirect-after-post throughout, so a reload never sends an application twice.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, session, url_for
from werkzeug.wrappers import Response

from crypto.errors import InvalidPublicKey
from crypto.hybrid import ReaderPublicKey
from crypto.keytext import encode_public_key
from onion_app.domain import applications, handles, sealing, volunteer_keys
from onion_app.domain.kdf_gate import Busy
from onion_app.errors import KeyTaken
from onion_app.i18n import gettext as _
from onion_app.store import staff
from onion_app.volunteer import blueprint
from onion_app.volunteer.forms import ApplyForm, KeyCheckForm
from onion_app.volunteer.views import BUSY, Page
from onion_app.web.forms import refuse
from onion_app.web.state import get_db, state

# Session keys: the token of an offline application waiting for its key
# proof, and what the thank-you page after an application shows.
KEY_CHECK = "key_check"
APPLIED = "applied"


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
        references=form.references.data or "", handle_skeleton=handles.skeleton(handle),
        triage=bool(form.triage.data))
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
                     references=application.references, triage=application.triage,
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
        abort(404)
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
