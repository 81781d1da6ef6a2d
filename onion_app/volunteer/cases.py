"""A volunteer's caseload: the dashboard, a request, and what they can do with it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from crypto.envelope import open_envelope
from crypto.errors import DecryptionError
from crypto.hybrid import ReaderPrivateKey
from onion_app.domain import attachments, sealing
from onion_app.domain.taxonomy import LANGUAGES, REGIONS, SKILLS, URGENCIES
from onion_app.i18n import gettext as _
from onion_app.i18n import with_user_text
from onion_app.store import caseload, staff
from onion_app.store import matching as store_matching
from onion_app.store import requests as rows
from onion_app.store.connection import write_if_free
from onion_app.store.rows import RequestRow
from onion_app.volunteer import blueprint, offline
from onion_app.volunteer.forms import FlagForm, ReferForm, UploadForm
from onion_app.web import auth, uploads
from onion_app.web.content_types import accepts_files
from onion_app.web.forms import ConfirmForm, ReplyForm, refuse
from onion_app.web.paging import thread_page
from onion_app.web.sessions import Session
from onion_app.web.staff_auth import signed_in_volunteer
from onion_app.web.state import current_config, get_db

Page = str | tuple[str, int] | Response


def _filters() -> caseload.Filters:
    """The filters and the page asked for; anything unknown is left out (an
    old ``page=N`` link, or an anchor not of this form, shows the newest page)."""
    skill = request.args.get("skill") or None
    status = request.args.get("status") or None
    return caseload.Filters(
        skill=skill if skill in SKILLS else None,
        status=status if status in caseload.STATUS_FILTERS else None,
        after=caseload.Anchor.parse(request.args.get("after")),
        before=caseload.Anchor.parse(request.args.get("before")),
        oldest=request.args.get("oldest") == "1",
    )


@blueprint.get("/dashboard")
@auth.login_required
def dashboard(me: Session) -> str:
    filters = _filters()
    conn = get_db()
    page = caseload.dashboard(conn, me.account_id, filters)
    listing = page.rows
    titles: dict[int, str] = {}
    if me.private_key is not None:
        sealed = caseload.sealed_for(conn, me.account_id, [r.id for r in listing])
        for row in listing:
            body, stanza = sealed[row.id]
            titles[row.id] = sealing.RequestText.decode(open_envelope(
                body, stanza, me.private_key, sealing.request_ad(row.public_id),
                max_size=sealing.REQUEST_MAX_SIZE)).title
    return render_template(
        "volunteer/dashboard.html", requests=listing, titles=titles, page=page,
        count_limit=caseload.COUNT_LIMIT,
        filters=filters, me=signed_in_volunteer(me), skills=SKILLS,
        languages=LANGUAGES, urgencies=URGENCIES, today=rows.today(),
        status_filters=caseload.STATUS_FILTERS)


def _case(me: Session, public_id: str) -> RequestRow:
    found = caseload.request_for(get_db(), me.account_id, public_id)
    if found is None:
        abort(404)  # not sealed to you and not there look the same
    return found


def _key(me: Session) -> ReaderPrivateKey:
    if me.private_key is None:
        abort(404)  # offline-only volunteers use the bundle pages
    return me.private_key


@blueprint.get("/cases/<public_id>")
@auth.login_required
def case(me: Session, public_id: str) -> Page:
    return _case_page(me, _case(me, public_id), ReplyForm(), 200)


def _case_page(me: Session, row: RequestRow, reply: ReplyForm, status: int,
               files: uploads.Outcome | None = None) -> tuple[str, int]:
    conn = get_db()
    text = thread = None
    attached: dict[str, list[attachments.FileLabel]] = {}
    page = thread_page(rows.message_count(conn, row.id))
    if me.private_key is not None:
        text = sealing.open_request(conn, row.id, row.public_id, me.private_key)
        thread = sealing.open_thread(conn, row.id, me.private_key, offset=page.offset,
                                     limit=page.size)
        attached = attachments.labels(conn, row.id, row.public_id, me.private_key)
    # Best effort: reading a case must not wait for, or fail on, the write lock.
    write_if_free(conn, lambda c: caseload.mark_seen(c, me.account_id, row.id))
    refer = ReferForm()
    refer.volunteer.choices = _referral_choices(row)
    return render_template(
        "volunteer/case.html", row=row, text=text, thread=thread, page=page, reply=reply,
        refer=refer,
        button=ConfirmForm(), me=signed_in_volunteer(me), offline=me.private_key is None,
        skills=SKILLS, languages=LANGUAGES, regions=REGIONS, urgencies=URGENCIES,
        files=files, attached=attached,
        files_per_message=current_config().attachments_per_message,
        file_max_mib=current_config().attachment_max_bytes // (1024 * 1024),
    ), status


@blueprint.get("/cases/<public_id>/files/<file_id>")
@auth.login_required
def download(me: Session, public_id: str, file_id: str) -> Response:
    row = _case(me, public_id)
    uploads.give_back_turn()
    found = attachments.open_file(get_db(), row.id, row.public_id, file_id, _key(me))
    if found is None:
        abort(404)
    return uploads.download(found)


@blueprint.post("/cases/<public_id>/reply")
@accepts_files
@auth.login_required
def reply(me: Session, public_id: str) -> Page:
    row = _case(me, public_id)
    _key(me)
    form = ReplyForm()
    if not form.validate_on_submit():
        return _case_page(me, row, form, 400)
    if row.status != "open":
        refuse(form.text, _("This request is no longer open; it takes no more replies."))
        return _case_page(me, row, form, 400)
    files = uploads.receive(uploads.owner_of(me.kind, me.account_id, me.account_ref))
    if not files.ready:
        return _case_page(me, row, form, 429 if files.busy else 400, files=files)
    conn = get_db()
    sealing.post_message(conn, row.id, form.text.data or "", from_requester=False,
                         author_volunteer_id=me.account_id, files=files.files)
    conn.commit()
    flash(_("Your reply is sealed to the requester and every volunteer on this request."),
          "ok")
    return redirect(url_for("volunteer.case", public_id=public_id))


def _referral_choices(row: RequestRow) -> list[tuple[str, str]]:
    """Who this request may go to; nobody once it has K matched readers, so one
    reader cannot hand a request to every volunteer there is. A triage reader
    may pass it to anyone who shares one of its languages, whatever their
    skills: nobody matches it, which is why triage reads it."""
    conn = get_db()
    limit = current_config().match_limit
    if store_matching.matched_readers(conn, row.id) >= limit:
        return []
    return [(c.public_id, c.handle)
            for c in staff.referral_candidates(conn, row.id, any_skill=row.for_triage)]


def _action(me: Session, public_id: str) -> RequestRow:
    row = _case(me, public_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return row


@blueprint.post("/cases/<public_id>/claim")
@auth.login_required
def claim(me: Session, public_id: str) -> Response:
    row = _action(me, public_id)
    conn = get_db()
    if caseload.claim(conn, row.id, me.account_id):
        staff.audit(conn, me.account_id, "claimed", request=row.id)
        flash(_("You are helping with this request. The requester now sees your handle."),
              "ok")
    else:
        flash(_("Someone else is already helping with this request."), "error")
    conn.commit()
    return redirect(url_for("volunteer.case", public_id=public_id))


@blueprint.post("/cases/<public_id>/release")
@auth.login_required
def release(me: Session, public_id: str) -> Response:
    row = _action(me, public_id)
    conn = get_db()
    if caseload.release(conn, row.id, me.account_id):
        staff.audit(conn, me.account_id, "released", request=row.id)
        flash(_("You released this request; another volunteer can claim it."), "ok")
    conn.commit()
    return redirect(url_for("volunteer.case", public_id=public_id))


@blueprint.route("/cases/<public_id>/resolve", methods=["GET", "POST"])
@auth.login_required
def resolve(me: Session, public_id: str) -> Page:
    """A page of its own that asks first: resolving closes the requester's
    thread, and a mis-tap beside "I'm helping" must not do that."""
    row = _case(me, public_id)
    if row.status != "open" or row.claimed_by != me.account_id:
        # Only the volunteer helping (or the requester) may close a thread:
        # a reader who never took it on cannot end it for everyone.
        flash(_("Only the volunteer helping with this request can mark it resolved."), "error")
        return redirect(url_for("volunteer.case", public_id=public_id))
    # The field only the confirmation page sends: a one-click form on a case
    # page kept open from an older Haven does not resolve.
    if not ConfirmForm().validate_on_submit() or request.form.get("confirm") != "resolve":
        return render_template("volunteer/confirm_resolve.html", row=row)
    conn = get_db()
    caseload.resolve(conn, row.id)
    staff.audit(conn, me.account_id, "resolved", request=row.id)
    conn.commit()
    flash(_("Marked resolved."), "ok")
    return redirect(url_for("volunteer.case", public_id=public_id))


@blueprint.route("/cases/<public_id>/flag", methods=["GET", "POST"])
@auth.login_required
def flag(me: Session, public_id: str) -> Page:
    """Flagging asks on a page of its own, with no reason chosen in advance."""
    row = _case(me, public_id)
    form = FlagForm()
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return render_template("volunteer/confirm_flag.html", row=row, form=form), status
    conn = get_db()
    staff.flag(conn, row.id, me.account_id, form.reason.data or "other")
    staff.audit(conn, me.account_id, f"flagged ({form.reason.data})", request=row.id)
    conn.commit()
    flash(_("Flagged for the operators. They see the flag, never the request."), "ok")
    return redirect(url_for("volunteer.dashboard"))


@blueprint.post("/cases/<public_id>/refer")
@auth.login_required
def refer(me: Session, public_id: str) -> Page:
    row = _case(me, public_id)
    key = _key(me)
    conn = get_db()
    form = ReferForm()
    form.volunteer.choices = _referral_choices(row)
    if not form.validate_on_submit():
        flash(_("Choose one of the volunteers listed."), "error")
        return redirect(url_for("volunteer.case", public_id=public_id))
    target = staff.by_public_id(conn, form.volunteer.data or "")
    if target is None:
        abort(404)
    try:
        sealing.share_with(conn, row.id, public_id, key,
                           sealing.stored_reader_key(target.public_key, target.mlkem_public_key),
                           target.id)
    except DecryptionError:
        abort(404)
    staff.audit(conn, me.account_id, "referred", request=row.id, volunteer=target.id)
    conn.commit()
    flash(with_user_text("%(handle)s can now read this request and its messages.",
                         handle=target.handle), "ok")
    return redirect(url_for("volunteer.case", public_id=public_id))


@blueprint.post("/cases/<public_id>/upload")
@accepts_files
@auth.login_required
def upload_reply(me: Session, public_id: str) -> Page:
    row = _case(me, public_id)
    form = UploadForm()
    if not form.validate_on_submit():
        return offline.page(row, form, 400)
    conn = get_db()
    problem = offline.store_reply(conn, me, row, form.bundle.data.read(offline.MAX_UPLOAD + 1))
    if problem:
        form.bundle.errors = [problem]
        return offline.page(row, form, 400)
    staff.audit(conn, me.account_id, "uploaded a sealed reply", request=row.id)
    conn.commit()
    flash(_("Your sealed reply is posted."), "ok")
    return redirect(url_for("volunteer.case", public_id=public_id))
