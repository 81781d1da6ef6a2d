"""Serving Haven and the operator's command line: ``python run.py``.

Boundary: the top floor. It starts waitress and tor (through ``tor_config``),
owns the process's one :class:`~onion_app.web.state.Runtime`, and holds the
one command registry; nothing below imports it.
"""
