"""The requester's journey: codename, ask for help, read replies, delete."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from crypto.codename import generate_codename, normalize_codename
from crypto.envelope import ContentKey
from crypto.errors import InvalidCodename
from crypto.hybrid import ReaderPrivateKey
from crypto.requester import RequesterKeys
from onion_app.domain import attachments, matching, requester_keys, sealing, widening
from onion_app.domain.kdf_gate import Busy
from onion_app.domain.taxonomy import LANGUAGES, REGIONS, SKILLS, URGENCIES
from onion_app.errors import AccountExists, StoreBusy
from onion_app.i18n import current as current_language
from onion_app.i18n import gettext as _
from onion_app.i18n import lazy_gettext as _l
from onion_app.i18n import ngettext, number, switching
from onion_app.requester import OPEN_ENDPOINTS, blueprint
from onion_app.requester import codename as codename_check
from onion_app.requester.forms import LoginForm, PracticeForm, RequestForm, StartForm
from onion_app.store import requests as rows
from onion_app.store.connection import write_if_free
from onion_app.store.rows import RequestRow
from onion_app.web import auth, limits, uploads
from onion_app.web.content_types import accepts_files
from onion_app.web.forms import ConfirmForm, ReplyForm, refuse
from onion_app.web.limits import RateExceeded
from onion_app.web.paging import list_page, thread_page
from onion_app.web.sessions import Session
from onion_app.web.state import current_config, get_db, state

BUSY = _l("Many people are signing in right now. Nothing was lost: wait a minute, "
         "then type your codename again.")
LOGIN_FAILED = _l("That codename did not open an account. Check each word and try again.")
STORE_BUSY = _l("Haven is very busy right now. What you wrote is still here: send it again "
                 "in a minute.")
NEW_CODENAMES_BUSY = _l("Many people are asking for help right now. Keep the codename you wrote "
                        "down and type it again in a few minutes.")
NOT_A_CODENAME = _l("That is not a valid codename. A codename is seven words from Haven's list.")

Page = str | tuple[str, int] | Response



@blueprint.before_request
def account_still_there() -> Response | None:
    """Ends a session whose account is gone, even if a newer account got its id.

    The retention purge may delete a signed-in requester, and deletion may run
    in another process (the ``purge`` command), so the session is checked
    against the account's public key on every page rather than trusted.
    """
    me = auth.current()
    if me is None:
        return None
    if rows.requester_is(get_db(), me.account_id, _ref_key(me.account_ref)):
        return None
    # Only this session: the id may now be a newcomer's, signed in elsewhere.
    auth.end()
    g.haven_session = None
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    return auth.signed_out()


def _ref_key(account_ref: str) -> bytes:
    try:
        return bytes.fromhex(account_ref)
    except ValueError:
        return b""


def _keys(me: Session) -> RequesterKeys:
    if me.requester_keys is None:  # a requester session always holds its keys
        abort(404)
    return me.requester_keys


# Enough for a few pages of the list; past it the session starts again.
REQUEST_KEYS_KEPT = 64


def _key_for(me: Session, request_row: RequestRow) -> ReaderPrivateKey:
    """The requester's key for one request, derived in memory once a session."""
    version = request_row.requester_key_version
    if version is None:
        return requester_keys.request_key(_keys(me), request_row.public_id, version)
    kept = me.request_keys
    found = kept.get((request_row.public_id, version))
    if found is None:
        found = requester_keys.request_key(_keys(me), request_row.public_id, version)
        if len(kept) >= REQUEST_KEYS_KEPT:
            kept.clear()
        kept[(request_row.public_id, version)] = found
    return found


def _content_keys(me: Session, adding: int) -> dict[str, ContentKey]:
    """The content keys this session keeps, with room for ``adding`` more."""
    kept = me.content_keys
    if len(kept) + adding > REQUEST_KEYS_KEPT:
        kept.clear()
    return kept


def _forget_keys(me: Session, public_id: str) -> None:
    """Drops what the session keeps for a request that is gone."""
    me.content_keys.pop(public_id, None)
    for kept in [k for k in me.request_keys if k[0] == public_id]:
        me.request_keys.pop(kept, None)


@blueprint.get("/")
def landing() -> str:
    # The address to check is the one in the visitor's own address bar: a
    # page repeating the Host header would show whatever a client sent (and
    # the landing page is cached for every visitor).
    return render_template("requester/landing.html", skills=SKILLS)


@blueprint.app_context_processor
def operator_words() -> dict[str, object]:
    """The operator's own words for the requester's pages, and the practice reminder."""
    config = current_config()
    me = auth.current()
    return {"about_text": config.about, "emergency_text": config.emergency,
            "practise": bool(me is not None and me.practice)}


@blueprint.route("/start", methods=["GET", "POST"])
def start() -> Page:
    form = StartForm()
    secret = current_app.config["SECRET_KEY"]
    if not form.is_submitted():
        codename = generate_codename()
        session["pending"] = requester_keys.pending_tag(secret, codename)
        form.shown.data = codename
        return _start_page(form, codename)
    shown = form.shown.data or ""
    if session.get("pending") != requester_keys.pending_tag(secret, shown):
        # Not the codename this session was shown (expired session, or made up).
        flash(_("That page expired. Here is a new codename."), "error")
        return redirect(url_for("requester.start"))
    if switching():
        return _start_page(form, shown)
    if not form.validate():
        return _start_page(form, shown, 400)
    # What was typed stays in the box: the page shows the codename itself anyway.
    mismatch = codename_check.compare(form.codename.data or "", shown)
    if mismatch is not None:
        refuse(form.codename, _mismatch_text(mismatch))
        return _start_page(form, shown, 400)
    # The same codename is shown again when refused: it is on paper already.
    codenames = state().codenames
    try:
        codenames.take()
    except RateExceeded as error:
        limits.retry_after(error.retry_after)
        refuse(form.codename, NEW_CODENAMES_BUSY)
        return _start_page(form, shown, 429)
    try:
        keys = requester_keys.derive(get_db, current_config(), shown, state().kdf_gate)
    except Busy:
        codenames.give_back()
        refuse(form.codename, BUSY)
        return _start_page(form, shown, 429)
    conn = get_db()
    try:
        requester_id = rows.create_requester(conn, keys.lookup_id, bytes(keys.public_key))
    except AccountExists:
        # The same form sent twice (a double click on a slow circuit): the
        # account exists and whoever sent this holds its codename.
        existing = rows.find_requester(conn, keys.lookup_id)
        if existing is None:
            raise
        requester_id = existing.id
    conn.commit()
    session.pop("pending", None)
    auth.start("requester", requester_id, None, requester_keys=keys,
               account_ref=bytes(keys.public_key).hex())
    started = auth.store().get(session.get("sid"))
    if started is not None:
        started.practice = codename_check.word_digests(shown)
    flash(_("Your account is ready. Keep your codename on paper, somewhere safe."), "ok")
    return redirect(url_for("requester.new_request"))


def _start_page(form: StartForm, codename: str, status: int = 200) -> tuple[str, int]:
    return render_template("requester/start.html", form=form,
                           words=codename.split()), status


def _mismatch_text(mismatch: codename_check.Mismatch) -> str:
    """Which words of a typed codename to look at again, by number."""
    if mismatch.count_differs:
        return ngettext("You typed %(num)s word; a codename has seven. "
                        "Check from word %(first)s on.",
                        "You typed %(num)s words; a codename has seven. "
                        "Check from word %(first)s on.",
                        mismatch.typed, first=number(mismatch.words[0]))
    listed = _(", ").join(number(n) for n in mismatch.words)
    return ngettext("Word %(words)s does not match. Check it on your paper.",
                    "Words %(words)s do not match. Check them on your paper.",
                    len(mismatch.words), words=listed)


def _not_on_the_list(positions: tuple[int, ...]) -> str:
    listed = _(", ").join(number(n) for n in positions)
    return ngettext("Word %(words)s is not one of Haven's words. Check it on your paper.",
                    "Words %(words)s are not Haven's words. Check them on your paper.",
                    len(positions), words=listed)


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Page:
    form = LoginForm()
    if switching() or not form.validate_on_submit():
        return _login_page(form, 400 if form.errors else 200)
    typed = form.codename.data or ""
    try:
        normalize_codename(typed)
    except InvalidCodename:
        unknown = codename_check.unknown_words(typed)
        refuse(form.codename, _not_on_the_list(unknown) if unknown else NOT_A_CODENAME)
        return _login_page(form, 400)
    try:
        keys = requester_keys.derive(get_db, current_config(), typed, state().kdf_gate)
    except Busy:
        refuse(form.codename, BUSY)
        return _login_page(form, 429)
    conn = get_db()
    found = rows.find_requester(conn, keys.lookup_id)
    if found is None:
        refuse(form.codename, LOGIN_FAILED)
        return _login_page(form, 400)
    requester_id = int(found.id)
    # Hybrid keys first, so that volunteers matched now are sealed to hybrid.
    sealing.upgrade_requester(conn, requester_id, keys)
    widening.at_requester_sign_in(conn, requester_id, keys, matching.Policy.of(current_config()),
                                  state().runtime.today())
    conn.commit()
    auth.start("requester", requester_id, None, requester_keys=keys,
               account_ref=bytes(keys.public_key).hex())
    return redirect(url_for("requester.my_requests"))


def _login_page(form: LoginForm, status: int) -> tuple[str, int]:
    # Masked unless asked (?show=1): a link, so it works without JavaScript.
    return render_template("requester/login.html", form=form,
                           show=request.args.get("show") == "1"), status


@blueprint.route("/practice", methods=["GET", "POST"])
@auth.login_required
def practice(me: Session) -> Page:
    """Types the codename once more from paper, while it is still easy to fix."""
    form = PracticeForm()
    show = request.args.get("show") == "1"
    if not me.practice:
        return redirect(url_for("requester.my_requests"))
    if switching() or not form.validate_on_submit():
        return render_template("requester/practice.html", form=form,
                               show=show), 400 if form.errors else 200
    mismatch = codename_check.compare_digests(form.codename.data or "", me.practice)
    if mismatch is not None:
        refuse(form.codename, _mismatch_text(mismatch))
        return render_template("requester/practice.html", form=form, show=show), 400
    me.practice = ()
    flash(_("Right: your paper copy works. Keep it hidden."), "ok")
    return redirect(url_for("requester.my_requests"))


@blueprint.post("/logout")
def logout() -> Response:
    auth.end()
    flash(_("You are signed out. Close Tor Browser's window to clear this visit."), "ok")
    return redirect(url_for("requester.landing"))


@blueprint.get("/requests")
@auth.login_required
def my_requests(me: Session) -> str:
    conn = get_db()
    page = list_page(rows.count_requests_of(conn, me.account_id))
    listing = rows.requests_of(conn, me.account_id, offset=page.offset, limit=page.size)
    # A list of titles is what a person looks for; only this page's are
    # opened, however many there are: in one query, and each body with the
    # content key the session kept from its first opening.
    texts = sealing.open_requests(conn, listing, lambda row: _key_for(me, row),
                                  _content_keys(me, len(listing)))
    titles = {request_id: text.title for request_id, text in texts.items()}
    return render_template("requester/requests.html", requests=listing, titles=titles,
                           urgencies=URGENCIES, page=page)


@blueprint.route("/requests/new", methods=["GET", "POST"])
@accepts_files
@auth.login_required
def new_request(me: Session) -> Page:
    form = RequestForm()
    config = current_config()
    if not form.is_submitted():
        # The interface language is the one the requester surely reads.
        form.languages.data = [current_language().code]
    if switching() or not form.validate_on_submit():
        return _request_form(form, 400 if form.errors else 200)
    # Files are cleaned before the write lock is taken: that takes seconds.
    files = uploads.receive(_owner(me))
    if not files.ready:
        return _request_form(form, 429 if files.busy else 400, files)
    conn = get_db()
    try:
        # The cap is checked and the request stored under one write lock:
        # twelve submissions at once must not all see four open requests.
        rows.begin_write(conn)
    except StoreBusy:
        flash(str(STORE_BUSY), "error")
        return _request_form(form, 429)
    if rows.count_open_requests(conn, me.account_id) >= config.open_requests_per_requester:
        conn.rollback()
        cap = config.open_requests_per_requester
        flash(ngettext("You already have %(num)s open request. Close it if you no longer need "
                       "it, then send this again; what you wrote is still here.",
                       "You already have %(num)s open requests. Close one you no longer need, "
                       "then send this again; what you wrote is still here.",
                       cap), "error")
        return _request_form(form, 429)
    try:
        # Per codename first: a codename at its day's limit must not use up
        # a site-wide token it cannot spend.
        state().requests_per_codename.take(me.account_id)
    except RateExceeded as error:
        conn.rollback()
        limits.retry_after(error.retry_after)
        flash(ngettext("You have sent %(num)s new request today, the most Haven takes from one "
                       "codename in a day. What you wrote is still here: send it tomorrow.",
                       "You have sent %(num)s new requests today, the most Haven takes from one "
                       "codename in a day. What you wrote is still here: send it tomorrow.",
                       config.requests_per_codename_per_day), "error")
        return _request_form(form, 429)
    try:
        state().submissions.take()
    except RateExceeded as error:
        conn.rollback()
        state().requests_per_codename.give_back(me.account_id)
        limits.retry_after(error.retry_after)
        flash(_("Haven is receiving very many requests right now. What you wrote is still "
                "here: wait a few minutes and send it again."), "error")
        return _request_form(form, 429)
    new = sealing.NewRequest(
        text=sealing.RequestText((form.title.data or "").strip(), form.story.data or "",
                                 form.help.data or ""),
        skills=frozenset(form.skills.data or ()), languages=frozenset(form.languages.data or ()),
        region=form.region.data, urgency=form.urgency.data,
    )
    public_id = sealing.submit_request(conn, me.account_id, _keys(me), new,
                                       matching.Policy.of(config), files.files)
    conn.commit()
    flash(_("Your request is sealed and sent: it is stored on Haven, locked so that only you "
            "and the volunteers it is shared with can open it."), "ok")
    return redirect(url_for("requester.view_request", public_id=public_id))


def _request_form(form: RequestForm, status: int,
                  files: uploads.Outcome | None = None) -> tuple[str, int]:
    return render_template("requester/new_request.html", form=form, files=files,
                           **_file_limits()), status


def _owner(me: Session) -> str:
    return uploads.owner_of(me.kind, me.account_id, me.account_ref)


def _file_limits() -> dict[str, int]:
    config = current_config()
    return {"files_per_message": config.attachments_per_message,
            "file_max_mib": config.attachment_max_bytes // (1024 * 1024)}


def _mine(me: Session, public_id: str) -> RequestRow:
    found = rows.request_of(get_db(), me.account_id, public_id)
    if found is None:
        abort(404)  # someone else's request and no request look the same
    return found


@blueprint.get("/requests/<public_id>")
@auth.login_required
def view_request(me: Session, public_id: str) -> Page:
    return _thread_page(me, _mine(me, public_id), ReplyForm(), 200)


def _thread_page(me: Session, request_row: RequestRow, reply: ReplyForm,
                 status: int, files: uploads.Outcome | None = None) -> tuple[str, int]:
    conn = get_db()
    key = _key_for(me, request_row)
    text = sealing.open_request(conn, request_row.id, request_row.public_id, key,
                                _content_keys(me, 1))
    page = thread_page(rows.message_count(conn, request_row.id))
    thread = sealing.open_thread(conn, request_row.id, key, offset=page.offset,
                                 limit=page.size)
    if status == 200:
        # Only a plain reading marks replies seen: a page that refuses a reply
        # (the database busy, say) must not need the write lock to show it.
        # Best effort too: reading must not wait for, or fail on, the lock.
        write_if_free(conn, lambda c: rows.mark_seen_by_requester(c, request_row.id))
    return render_template(
        "requester/request.html", request_row=request_row, text=text, thread=thread,
        page=page, reply=reply, confirm=ConfirmForm(), skills=SKILLS, languages=LANGUAGES,
        regions=REGIONS, urgencies=URGENCIES, files=files,
        attached=attachments.labels(conn, request_row.id, request_row.public_id, key),
        **_file_limits(),
    ), status


@blueprint.get("/requests/<public_id>/files/<file_id>")
@auth.login_required
def download(me: Session, public_id: str, file_id: str) -> Response:
    request_row = _mine(me, public_id)
    uploads.give_back_turn()
    found = attachments.open_file(get_db(), request_row.id, request_row.public_id, file_id,
                                  _key_for(me, request_row))
    if found is None:
        abort(404)
    return uploads.download(found)


@blueprint.post("/requests/<public_id>/reply")
@accepts_files
@auth.login_required
def reply(me: Session, public_id: str) -> Page:
    request_row = _mine(me, public_id)
    form = ReplyForm()
    if switching():
        return _thread_page(me, request_row, form, 200)
    if not form.validate_on_submit():
        return _thread_page(me, request_row, form, 400)
    if request_row.status != "open":
        flash(_("This request is closed; it takes no more replies."), "error")
        return _thread_page(me, request_row, form, 400)
    files = uploads.receive(_owner(me))
    if not files.ready:
        return _thread_page(me, request_row, form, 429 if files.busy else 400, files)
    conn = get_db()
    cap = current_config().messages_per_requester_per_day
    try:
        # Checked and counted under one write lock (see new_request).
        rows.begin_write(conn)
    except StoreBusy:
        refuse(form.text, STORE_BUSY)
        return _thread_page(me, request_row, form, 429)
    if rows.requester_messages_today(conn, me.account_id) >= cap:
        conn.rollback()
        refuse(form.text, ngettext(
            "You have sent %(num)s message today, the most Haven takes in a day. Your text is "
            "still here: send it tomorrow.",
            "You have sent %(num)s messages today, the most Haven takes in a day. Your text is "
            "still here: send it tomorrow.", cap))
        return _thread_page(me, request_row, form, 429)
    sealing.post_message(conn, request_row.id, form.text.data or "", from_requester=True,
                         files=files.files)
    conn.commit()
    flash(_("Your reply is sealed and sent."), "ok")
    return redirect(url_for("requester.view_request", public_id=public_id))


@blueprint.post("/requests/<public_id>/close")
@auth.login_required
def close_request(me: Session, public_id: str) -> Response:
    request_row = _mine(me, public_id)
    if ConfirmForm().validate_on_submit():
        conn = get_db()
        rows.set_status(conn, request_row.id, "closed")
        conn.commit()
        flash(_("The request is closed. You can still read it, or delete it."), "ok")
    return redirect(url_for("requester.view_request", public_id=public_id))


@blueprint.post("/requests/<public_id>/reopen")
@auth.login_required
def reopen_request(me: Session, public_id: str) -> Response:
    request_row = _mine(me, public_id)
    if ConfirmForm().validate_on_submit() and request_row.status != "open":
        conn = get_db()
        cap = current_config().open_requests_per_requester
        try:
            rows.begin_write(conn)
        except StoreBusy:
            flash(str(STORE_BUSY), "error")
            return redirect(url_for("requester.view_request", public_id=public_id))
        if rows.count_open_requests(conn, me.account_id) >= cap:
            conn.rollback()
            flash(ngettext("You already have %(num)s open request. Close it first.",
                           "You already have %(num)s open requests. Close one first.",
                           cap), "error")
        else:
            rows.set_status(conn, request_row.id, "open")
            conn.commit()
            flash(_("The request is open again; its volunteers can answer."), "ok")
    return redirect(url_for("requester.view_request", public_id=public_id))


@blueprint.route("/requests/<public_id>/delete", methods=["GET", "POST"])
@auth.login_required
def delete_request(me: Session, public_id: str) -> Page:
    request_row = _mine(me, public_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        conn = get_db()
        rows.delete_request(conn, request_row.id)
        conn.commit()
        _forget_keys(me, public_id)
        flash(_("The request and its messages are deleted."), "ok")
        return redirect(url_for("requester.my_requests"))
    return render_template("requester/confirm_delete.html", form=form, request_row=request_row)


@blueprint.route("/account/delete", methods=["GET", "POST"])
@auth.login_required
def delete_account(me: Session) -> Page:
    form = ConfirmForm()
    if form.validate_on_submit():
        conn = get_db()
        rows.delete_requester(conn, me.account_id)
        conn.commit()
        auth.end_account("requester", me.account_id)
        auth.end()
        flash(_("Everything of this codename is deleted. The codename opens nothing now."),
              "ok")
        return redirect(url_for("requester.landing"))
    return render_template("requester/confirm_account_delete.html", form=form)
