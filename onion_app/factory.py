"""``create_app(role, config)``: one codebase, two apps.

The public app (requester onion) registers only the requester blueprint; the
staff app (volunteer and operator onion) only the staff ones. A staff URL does
not exist on the public onion: not hidden, absent.
"""

from __future__ import annotations

import secrets
import traceback
from pathlib import Path
from typing import Any

from flask import Flask, abort, request
from flask_wtf.csrf import CSRFProtect

from onion_app import auth, error_pages, language, resources, store
from onion_app.config import ROLES, Config
from onion_app.errors import ConfigError
from onion_app.limits import KdfGate, RateWindow
from onion_app.security import SecurityHeaders

TEMPLATES = resources.templates_dir()


class HavenFlask(Flask):
    """Flask, logging failures without anything a visitor sent.

    Flask's own ``log_exception`` writes the request path, and an exception's
    message can quote the data that broke it; Haven logs the endpoint, the
    exception's type and where in the code it happened, nothing else.
    """

    def log_exception(self, exc_info: Any) -> None:
        _kind, error, trace = exc_info
        frames = traceback.extract_tb(trace)
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}"
                            for f in reversed(frames[-6:]))
        self.logger.error("unexpected %s in %s at %s", type(error).__name__,
                          request.endpoint, where)


def create_app(role: str, config: Config) -> Flask:
    """Builds the Flask app for one onion.

    :param role: ``"public"`` (requesters) or ``"staff"`` (volunteers, operators)
    :param config: the validated configuration, built once by the caller
    :returns: the app, with its WSGI entry wrapped in the security headers
    :raises ConfigError: for an unknown role
    """
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}")
    app = HavenFlask(
        f"haven_{role}",
        template_folder=str(TEMPLATES),
        static_folder=str(resources.static_dir()),
        instance_path=str(config.instance_path),
    )
    app.config.update(
        HAVEN=config,
        HAVEN_ROLE=role,
        TESTING=config.testing,
        # Random per process unless configured: a restart logs everyone out,
        # which is what DESIGN §4 asks of sessions anyway.
        SECRET_KEY=config.secret_key or secrets.token_bytes(32),
        SESSION_COOKIE_NAME=f"haven_{role}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_PERMANENT=False,
        MAX_CONTENT_LENGTH=config.max_content_length,
        # A requester on a slow circuit may take an hour over their story; the
        # token lives as long as the session, which has its own time limits.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_ENABLED=config.csrf_enabled,
        WTF_CSRF_SSL_STRICT=False,
        SEND_FILE_MAX_AGE_DEFAULT=86400,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.before_request(_files_only_where_expected)
    CSRFProtect(app)
    store.init_app(app)
    language.init_app(app, role)
    error_pages.register(app)
    _register_blueprints(app, role)
    app.jinja_env.globals["haven_role"] = role
    app.wsgi_app = SecurityHeaders(app.wsgi_app)  # type: ignore[method-assign]
    return app


# Flask-WTF folds uploaded files into form data, so a file sent where text
# is expected would reach a text validator; only these views take files.
FILE_ENDPOINTS = frozenset({"volunteer.upload_reply"})


def _files_only_where_expected() -> None:
    if request.files and request.endpoint not in FILE_ENDPOINTS:
        abort(400)


def _register_blueprints(app: Flask, role: str) -> None:
    config: Config = app.config["HAVEN"]
    if role == "public":
        from onion_app.requester import blueprint as requester
        from onion_app.requester.accounts import GATE
        from onion_app.requester.views import OPEN_ENDPOINTS, SUBMISSIONS

        app.register_blueprint(requester)
        auth.init_app(app, kind="requester", idle_minutes=config.requester_idle_minutes,
                      lifetime_minutes=config.requester_lifetime_minutes,
                      open_endpoints=OPEN_ENDPOINTS, login_endpoint="requester.login")
        app.extensions[GATE] = KdfGate(config.kdf_concurrency)
        app.extensions[SUBMISSIONS] = RateWindow(config.submissions_per_hour)
    else:
        from onion_app.operator import blueprint as operator
        from onion_app.requester.accounts import GATE
        from onion_app.volunteer import blueprint as volunteer
        from onion_app.volunteer import staff_auth
        from onion_app.volunteer.views import OPEN_ENDPOINTS as STAFF_OPEN

        app.register_blueprint(volunteer)
        app.register_blueprint(operator)
        auth.init_app(app, kind="volunteer", idle_minutes=config.volunteer_idle_minutes,
                      lifetime_minutes=config.volunteer_lifetime_minutes,
                      open_endpoints=STAFF_OPEN, login_endpoint="volunteer.login")
        staff_auth.init_app(app)
        app.extensions[GATE] = KdfGate(config.kdf_concurrency)
