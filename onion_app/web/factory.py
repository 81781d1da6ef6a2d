"""``create_app(role, config)``: one codebase, two apps.

The public app (requester onion) registers only the requester blueprint; the
staff app (volunteer and operator onion) only the staff ones. A staff URL does
not exist on the public onion: not hidden, absent.
"""

from __future__ import annotations

import io
import secrets
import traceback
from pathlib import Path
from typing import IO, Any

from flask import Flask, Request, request
from flask.logging import default_handler
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import BadHost, HTTPException
from werkzeug.routing import MapAdapter

from onion_app import i18n, resources
from onion_app.config import ROLES, Config
from onion_app.errors import ConfigError
from onion_app.web import (
    auth,
    content_types,
    error_pages,
    favicon,
    limits,
    page_cache,
    signing,
    staff_auth,
    stylesheets,
    uploads,
)
from onion_app.web.first_visit import FirstVisit
from onion_app.web.folding import FoldingEnvironment
from onion_app.web.limits import AccountWindow, TokenBucket
from onion_app.web.security import SecurityHeaders
from onion_app.web.sessions import SessionStore
from onion_app.web.state import AppState, Runtime, attach


class HavenRequest(Request):
    """A request whose uploaded files stay in memory, and whose form is read
    once.

    Werkzeug spools a file part to a temporary file on disk once it passes
    500 KB; the body is already bounded by ``MAX_CONTENT_LENGTH``, and
    nothing a visitor sends may reach the disk unsealed.

    A body Werkzeug refuses partway (a field over the form memory limit) is
    refused, and is then no form at all: Werkzeug's next look would parse
    what is left of it, and find fields the first did not, such as a
    language button after a huge field.
    """

    def _load_form_data(self) -> None:
        try:
            super()._load_form_data()
        except HTTPException:
            empty = self.parameter_storage_class()
            self.__dict__.update(stream=io.BytesIO(), form=empty, files=empty)
            raise

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None,
                         content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()


class SigningOnce(SecureCookieSessionInterface):
    """Flask's signed cookie session, its signer made once per app, not twice
    per request, and its keys derived once (:mod:`.signing`): the key it
    signs with is fixed when the app is made."""

    def get_signing_serializer(self, app: Flask) -> Any:
        found = app.extensions.get("haven.session_signer")
        if found is None:
            stock = super().get_signing_serializer(app)
            if stock is None:  # no secret key: Flask's own answer, a null session
                return None
            found = app.extensions["haven.session_signer"] = signing.prepared(stock)
        return found


class HavenFlask(Flask):
    """Flask, logging failures without anything a visitor sent.

    Flask's own ``log_exception`` writes the request path, and an exception's
    message can quote the data that broke it; Haven logs the endpoint, the
    exception's type and where in the code it happened, nothing else.
    """

    request_class = HavenRequest
    session_interface = SigningOnce()
    # Each language's templates compiled with its fixed words written in.
    jinja_environment = FoldingEnvironment

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        try:
            return super().create_url_adapter(request)
        except BadHost:
            if request is None:
                raise
        # A Host header Werkzeug cannot bind (``a..b``, an empty IDNA label)
        # left the request with no way to build a link, so its error page
        # failed: a 500 for a header anyone can send. Haven builds relative
        # links only and reads nothing else from the host; the header is
        # treated as absent, as the first visit's own path treats it.
        request.environ.pop("HTTP_HOST", None)
        request.__dict__.pop("host", None)
        return super().create_url_adapter(request)

    def log_exception(self, exc_info: Any) -> None:
        _kind, error, trace = exc_info
        frames = traceback.extract_tb(trace)
        where = " <- ".join(f"{Path(f.filename).name}:{f.lineno} {f.name}"
                            for f in reversed(frames[-6:]))
        self.logger.error("unexpected %s in %s at %s", type(error).__name__,
                          request.endpoint, where)


def create_app(role: str, config: Config, runtime: Runtime | None = None) -> Flask:
    """Builds the Flask app for one onion.

    :param role: ``"public"`` (requesters) or ``"staff"`` (volunteers, operators)
    :param config: the validated configuration, built once by the caller
    :param runtime: what the process shares between its apps (the database
        handle, the bound on key derivations); a new one when not given
    :returns: the app, with its WSGI entry wrapped in the security headers
    :raises ConfigError: for an unknown role
    """
    if role not in ROLES:
        raise ConfigError(f"role must be one of {', '.join(ROLES)}")
    app = HavenFlask(
        f"haven_{role}",
        template_folder=str(resources.templates_dir()),
        static_folder=str(resources.static_dir()),
        instance_path=str(config.instance_path),
    )
    app.config.update(
        TESTING=config.testing,
        # Random per process unless configured: a restart logs everyone out,
        # which is what DESIGN §4 asks of sessions anyway.
        SECRET_KEY=config.secret_key or secrets.token_bytes(32),
        SESSION_COOKIE_NAME=f"haven_{role}",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_PERMANENT=False,
        # A form with files may send more (content_types.refuse_other_bodies).
        MAX_CONTENT_LENGTH=config.max_content_length,
        # A requester on a slow circuit may take an hour over their story; the
        # token lives as long as the session, which has its own time limits.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_ENABLED=config.csrf_enabled,
        WTF_CSRF_SSL_STRICT=False,
        SEND_FILE_MAX_AGE_DEFAULT=86400,
        TEMPLATES_AUTO_RELOAD=False,
        HAVEN_FILES_BODY_LIMIT=config.max_request_body,
    )
    # Flask's own handler stamps each line with the time; the app's records go
    # to the process's handler instead (onion_app.serving.logs), which does not.
    app.logger.removeHandler(default_handler)
    # Block tags leave no blank lines behind: every page must stay under 10 KB
    # on a slow circuit, and indentation of template logic is not content.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    attach(app, _state_for(role, config, runtime or Runtime.for_config(config)))
    app.before_request(content_types.refuse_other_bodies)
    CSRFProtect(app)
    i18n.init_app(app, role)
    error_pages.register(app)
    limits.init_app(app)
    _register_blueprints(app, role)
    favicon.register(app)
    stylesheets.init_app(app)
    auth.init_app(app)
    uploads.init_app(app, config)
    if role == "staff":
        staff_auth.init_app(app)
    # Last: a page served from the cache ends the request's hooks early.
    page_cache.init_app(app, CACHED_PAGES[role])
    app.jinja_env.globals["haven_role"] = role
    first_pages = {rule.rule: rule.endpoint for rule in app.url_map.iter_rules()
                   if rule.endpoint in CACHED_PAGES[role] and not rule.arguments}
    app.wsgi_app = SecurityHeaders(  # type: ignore[method-assign]
        FirstVisit(app, app.wsgi_app, first_pages))
    return app


def _state_for(role: str, config: Config, runtime: Runtime) -> AppState:
    # The role package says which of its pages are open; imported here so the
    # public app never imports the staff packages (and the other way round).
    if role == "public":
        from onion_app.requester import OPEN_ENDPOINTS

        idle, lifetime = config.requester_idle_minutes, config.requester_lifetime_minutes
        login = "requester.login"
    else:
        from onion_app.volunteer import OPEN_ENDPOINTS

        idle, lifetime = config.volunteer_idle_minutes, config.volunteer_lifetime_minutes
        login = "volunteer.login"
    return AppState(
        role=role, config=config, runtime=runtime,
        sessions=SessionStore(idle * 60, lifetime * 60),
        idle_minutes=idle, lifetime_minutes=lifetime,
        open_endpoints=OPEN_ENDPOINTS | {favicon.ENDPOINT}, login_endpoint=login,
        # Bursts of ten minutes' worth of submissions and of half an hour's
        # worth of codenames: enough for a busy moment, and whoever empties one
        # waits for the next token (30 s and 3 min at the defaults), not an hour.
        submissions=TokenBucket(config.submissions_per_hour,
                                burst=max(1, config.submissions_per_hour // 6)),
        codenames=TokenBucket(config.codenames_per_hour,
                              burst=max(1, config.codenames_per_hour // 2)),
        requests_per_codename=AccountWindow(config.requests_per_codename_per_day))


# The anonymous pages every visitor starts from, served from a per-language
# cache to anyone not signed in (onion_app/web/page_cache.py).
CACHED_PAGES = {
    "public": frozenset({"requester.landing", "requester.login"}),
    "staff": frozenset({"volunteer.landing", "volunteer.login"}),
}


def _register_blueprints(app: Flask, role: str) -> None:
    # Imported here so that the public app never imports the staff packages
    # (and the other way round): a staff URL does not exist on the public onion.
    if role == "public":
        from onion_app.requester import blueprint as requester

        app.register_blueprint(requester)
    else:
        from onion_app.operator import blueprint as operator
        from onion_app.volunteer import blueprint as volunteer

        app.register_blueprint(volunteer)
        app.register_blueprint(operator)
