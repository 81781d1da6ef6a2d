"""The floors of the house, checked by reading the source (AST), not by trust.

- ``tor_config`` never imports ``onion_app``, ``crypto`` or flask;
- ``onion_app.store`` never imports a view, flask, or another layer above it;
- no role package (requester, volunteer, operator) imports another;
- SQL lives only in ``onion_app.store``: no SQL text, no ``execute`` and no
  driver import anywhere else in ``onion_app``;
- each package states its boundary in its docstring.

Every rule is tried on a deliberately bad snippet too, so a rule that cannot
fail would fail here.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "onion_app"
ROLES = ("requester", "volunteer", "operator")
# SQL keywords as Haven writes them, in capitals: prose ("Create the
# database", "Select the skills") is not SQL.
SQL = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|BEGIN|VACUUM"
                 r"|ATTACH|DETACH|WITH)\b")
DRIVER_CALLS = frozenset({"execute", "executemany", "executescript"})


def _modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def _imports(source: str) -> set[str]:
    """Every module a source imports, dotted in full (``from a import b`` gives
    ``a`` and ``a.b``, since ``b`` may be a module)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _reaches(imported: set[str], forbidden: str) -> bool:
    return any(name == forbidden or name.startswith(forbidden + ".") for name in imported)


def _sql_in(source: str) -> list[str]:
    """SQL text and driver calls in a source, as findings."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.match(
                node.value):
            found.append(f"SQL text {node.value.strip()[:30]!r} at line {node.lineno}")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in DRIVER_CALLS):
            found.append(f".{node.func.attr}() at line {node.lineno}")
    if _reaches(_imports(source), "sqlcipher3") or _reaches(_imports(source), "sqlite3"):
        found.append("imports the database driver")
    return found


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# The rules --------------------------------------------------------------------

def tor_config_problems(source: str) -> list[str]:
    imported = _imports(source)
    return [name for name in ("onion_app", "crypto", "flask", "werkzeug")
            if _reaches(imported, name)]


def store_problems(source: str) -> list[str]:
    imported = _imports(source)
    above = ("flask", "werkzeug", "onion_app.web", "onion_app.i18n", "onion_app.domain",
             "onion_app.serving", *(f"onion_app.{role}" for role in ROLES))
    return [name for name in above if _reaches(imported, name)]


def role_problems(role: str, source: str) -> list[str]:
    imported = _imports(source)
    return [other for other in ROLES
            if other != role and _reaches(imported, f"onion_app.{other}")]


# The real tree ----------------------------------------------------------------

@pytest.mark.parametrize("path", _modules(ROOT / "tor_config"), ids=_rel)
def test_tor_config_knows_nothing_of_the_app(path: Path) -> None:
    assert tor_config_problems(path.read_text("utf-8")) == []


@pytest.mark.parametrize("path", _modules(APP / "store"), ids=_rel)
def test_the_store_knows_no_http_and_no_layer_above(path: Path) -> None:
    assert store_problems(path.read_text("utf-8")) == []


@pytest.mark.parametrize(("role", "path"),
                         [(role, path) for role in ROLES for path in _modules(APP / role)],
                         ids=lambda value: value if isinstance(value, str) else _rel(value))
def test_role_packages_stand_alone(role: str, path: Path) -> None:
    assert role_problems(role, path.read_text("utf-8")) == []


@pytest.mark.parametrize("path", [p for p in _modules(APP) if "store" not in p.parts],
                         ids=_rel)
def test_sql_lives_only_in_the_store(path: Path) -> None:
    assert _sql_in(path.read_text("utf-8")) == []


def test_the_store_does_hold_the_sql() -> None:
    # If the SQL check read nothing, the test above would pass for nothing.
    assert _sql_in((APP / "store" / "requests.py").read_text("utf-8"))


@pytest.mark.parametrize("package", ["onion_app", "onion_app/web", "onion_app/i18n",
                                     "onion_app/domain", "onion_app/store", "onion_app/serving",
                                     "onion_app/requester", "onion_app/volunteer",
                                     "onion_app/operator", "tor_config", "crypto"])
def test_each_package_states_its_boundary(package: str) -> None:
    docstring = ast.get_docstring(ast.parse((ROOT / package / "__init__.py").read_text("utf-8")))
    assert docstring is not None
    assert "boundary" in docstring.lower() or "never" in docstring.lower(), docstring


# Each rule fails on a bad import -----------------------------------------------

@pytest.mark.parametrize("bad", [
    "import flask",
    "from onion_app.store import rows",
    "from crypto.keys import fingerprint",
    "import onion_app.web.factory as factory",
])
def test_the_tor_config_rule_catches_a_bad_import(bad: str) -> None:
    assert tor_config_problems(bad) != []


@pytest.mark.parametrize("bad", [
    "from flask import g",
    "from onion_app.web.state import get_db",
    "from onion_app.requester import views",
    "from onion_app import volunteer",
    "import onion_app.domain.sealing",
])
def test_the_store_rule_catches_a_bad_import(bad: str) -> None:
    assert store_problems(bad) != []


@pytest.mark.parametrize(("role", "bad"), [
    ("volunteer", "from onion_app.requester.forms import ReplyForm"),
    ("operator", "from onion_app.volunteer import cases"),
    ("requester", "import onion_app.operator.views"),
    ("operator", "from onion_app import volunteer"),
])
def test_the_role_rule_catches_a_bad_import(role: str, bad: str) -> None:
    assert role_problems(role, bad) != []


@pytest.mark.parametrize("bad", [
    'conn.execute("DELETE FROM requests WHERE id = ?", (1,))',
    'query = """\n  SELECT 1 FROM messages"""',
    "import sqlcipher3",
    "cursor.executemany(text, rows)",
])
def test_the_sql_rule_catches_sql(bad: str) -> None:
    assert _sql_in(bad) != []


def test_the_rules_let_good_imports_through() -> None:
    assert tor_config_problems("import stem.control\nfrom tor_config import keys") == []
    assert store_problems("from onion_app.errors import StoreError\nimport sqlcipher3") == []
    assert role_problems("volunteer", "from onion_app.web.forms import ReplyForm") == []
    assert _sql_in('flash("Select the skills you offer.")') == []
