"""The operator's tor page: what ``python run.py status`` shows, on the staff onion.

It reads the status file the running server writes (days, never times) and
the addresses from the database; it opens no control connection of its own.
"""

from __future__ import annotations

from flask import render_template

from onion_app.operator import blueprint
from onion_app.serving.onions import ROLES, read_status
from onion_app.serving.running import running_pid
from onion_app.store import onion_keys
from onion_app.web.sessions import Session
from onion_app.web.staff_auth import operator_required
from onion_app.web.state import current_config, get_db
from tor_config.keys import onion_address, service_id_from_key


@blueprint.get("/tor")
@operator_required
def tor(me: Session) -> str:
    config = current_config()
    conn = get_db()
    keys = {role: onion_keys.service_key(conn, role) for role in ROLES}
    addresses = {role: onion_address(service_id_from_key(key)) if key else None
                 for role, key in keys.items()}
    devices = onion_keys.clients(conn)
    running = running_pid(config) is not None
    data = read_status(config) if running else None
    return render_template("operator/tor.html", addresses=addresses, devices=devices,
                           data=data, running=running)
