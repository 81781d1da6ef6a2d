"""Operator views: vet volunteers, moderate by metadata, read counts and the audit log."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from onion_app.domain.taxonomy import AVAILABILITY, LANGUAGES, SKILLS, URGENCIES
from onion_app.i18n import N_, with_user_text
from onion_app.i18n import gettext as _
from onion_app.operator import blueprint
from onion_app.operator.forms import VetForm
from onion_app.store import oversight, staff
from onion_app.store import requests as rows
from onion_app.web import auth
from onion_app.web.forms import ConfirmForm
from onion_app.web.paging import list_page, page_number
from onion_app.web.sessions import Session
from onion_app.web.staff_auth import operator_required, signed_in_volunteer
from onion_app.web.state import current_config, get_db, state

Page = str | tuple[str, int] | Response

# Rows on a page of the operator's lists, so that a full page of the heaviest
# rows stays under 10 KB with the stylesheets as sent, in every staff language
# (test_staff_page_weight), however many people apply. A volunteer's row can
# name every skill and carry two buttons: six fit in Russian, the heaviest.
VOLUNTEERS_PAGE_SIZE = 6
APPLICATIONS_PAGE_SIZE = 8
# A request's row names its skills and languages and, when flagged, the
# reasons and a delete button.
REQUESTS_PAGE_SIZE = 10

# What each volunteer action does: the status it needs, what it sets, its log line.
ACTIONS: dict[str, tuple[str, dict[str, int | str], str]] = {
    "suspend": ("vetted", {"status": "suspended"}, "suspended"),
    "reinstate": ("suspended", {"status": "vetted"}, "reinstated"),
    "grant": ("vetted", {"is_operator": 1}, "made operator"),
    "revoke": ("vetted", {"is_operator": 0}, "removed operator"),
}
# What the operator is told afterwards (the log line above stays in English: it
# is a record, read by every operator whatever their language).
DONE = {
    "suspend": N_("%(handle)s is suspended."),
    "reinstate": N_("%(handle)s is reinstated."),
    "grant": N_("%(handle)s is now an operator."),
    "revoke": N_("%(handle)s is no longer an operator."),
}



@blueprint.get("/")
@operator_required
def overview(me: Session) -> str:
    return render_template("operator/overview.html", counts=oversight.counts(get_db()),
                           skills=SKILLS, languages=LANGUAGES)


@blueprint.get("/supply")
@operator_required
def supply(me: Session) -> str:
    """Whom to recruit: demand against supply by skill and language, counts only."""
    days = current_config().widen_after_days
    found = oversight.supply_and_demand(get_db(), state().runtime.today(), days)
    # The widest gaps first, and only so many: every page stays under 10 KB.
    return render_template("operator/supply.html", found=found, skills=SKILLS,
                           languages=LANGUAGES, shown=40)


@blueprint.get("/applications")
@operator_required
def applications(me: Session) -> str:
    conn = get_db()
    page = list_page(staff.count(conn, "applied"), size=APPLICATIONS_PAGE_SIZE)
    return render_template("operator/applications.html", page=page, skills=SKILLS,
                           applicants=staff.listing(conn, "applied", offset=page.offset,
                                                    limit=page.size))


@blueprint.route("/applications/<public_id>", methods=["GET", "POST"])
@operator_required
def application(me: Session, public_id: str) -> Page:
    conn = get_db()
    row = staff.by_public_id(conn, public_id)
    if row is None or row.status != "applied":
        abort(404)
    form = VetForm()
    decision = request.form.get("decision")
    if form.validate_on_submit() and decision in ("approve", "reject"):
        status = "vetted" if decision == "approve" else "rejected"
        staff.update(conn, row.id, status=status, vetting_note=form.note.data or "")
        staff.audit(conn, me.account_id, "approved" if status == "vetted" else "rejected",
                    volunteer=row.id)
        conn.commit()
        done = (N_("%(handle)s is approved.") if status == "vetted"
                else N_("%(handle)s is rejected."))
        flash(with_user_text(done, handle=row.handle), "ok")
        return redirect(url_for("operator.applications"))
    return render_template("operator/application.html", row=row, form=form, skills=SKILLS,
                           languages=LANGUAGES, availability=AVAILABILITY), \
        400 if form.errors else 200


@blueprint.get("/volunteers")
@operator_required
def volunteers(me: Session) -> str:
    conn = get_db()
    page = list_page(staff.count(conn), size=VOLUNTEERS_PAGE_SIZE)
    return render_template("operator/volunteers.html", page=page, form=ConfirmForm(),
                           volunteers=staff.listing(conn, offset=page.offset, limit=page.size),
                           me=signed_in_volunteer(me), skills=SKILLS)


@blueprint.post("/volunteers/<public_id>/<action>")
@operator_required
def volunteer_action(me: Session, public_id: str, action: str) -> Response:
    if action not in ACTIONS or not ConfirmForm().validate_on_submit():
        abort(404)
    conn = get_db()
    row = staff.by_public_id(conn, public_id)
    needs, changes, line = ACTIONS[action]
    if row is None or row.status != needs:
        abort(404)
    if row.id == me.account_id:
        flash(_("You cannot do that to your own account; ask another operator."), "error")
        return redirect(_volunteers_page())
    staff.update(conn, row.id, **changes)
    staff.audit(conn, me.account_id, line, volunteer=row.id)
    conn.commit()
    if action == "suspend":
        auth.end_account("volunteer", row.id)
    flash(with_user_text(DONE[action], handle=row.handle), "ok")
    return redirect(_volunteers_page())


def _volunteers_page() -> str:
    """Back to the page of the list the action was taken on."""
    number = page_number()
    return url_for("operator.volunteers", page=number if number > 1 else None)


@blueprint.get("/requests")
@operator_required
def requests(me: Session) -> str:
    flagged = request.args.get("flagged") == "1"
    number = page_number()
    listing, total = oversight.requests_metadata(get_db(), flagged_only=flagged, page=number,
                                                 page_size=REQUESTS_PAGE_SIZE)
    return render_template("operator/requests.html", total=total, requests=listing,
                           flagged=flagged, page=number, page_size=REQUESTS_PAGE_SIZE,
                           form=ConfirmForm(), skills=SKILLS, languages=LANGUAGES,
                           urgencies=URGENCIES)


@blueprint.post("/requests/<public_id>/delete")
@operator_required
def delete_request(me: Session, public_id: str) -> Response:
    conn = get_db()
    row = oversight.request_by_public_id(conn, public_id)
    if row is None or not ConfirmForm().validate_on_submit():
        abort(404)
    if not oversight.is_flagged(conn, row.id):
        flash(_("Only a flagged request can be deleted by an operator."), "error")
        return redirect(url_for("operator.requests"))
    rows.delete_request(conn, row.id)
    # The request is gone, so the line names none: a deleted request must not
    # stay in the log, linked to whoever flagged or deleted it.
    staff.audit(conn, me.account_id, "deleted a flagged request")
    conn.commit()
    flash(_("The flagged request is deleted."), "ok")
    return redirect(url_for("operator.requests", flagged=1))


@blueprint.get("/audit")
@operator_required
def audit(me: Session) -> str:
    page = page_number()
    lines = staff.audit_lines(get_db(), 100, (page - 1) * 100)
    return render_template("operator/audit.html", lines=lines, page=page)
