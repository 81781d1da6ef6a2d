"""Web plumbing: the app factory, sessions, deny-by-default, security headers,
error pages, limits, shared forms and the per-request database connection.

Boundary: knows HTTP (Flask) and the layers below it (i18n, domain, store);
never imports a role package, except the factory, which registers them.
"""
