"""crypto/ stays a pure library. Named test_crypto_boundary.py so it cannot collide
with another package's boundary test (test folders here have no __init__.py)."""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

import pytest

import crypto.errors

PACKAGE = Path(__file__).resolve().parents[2] / "crypto"
MODULES = sorted(PACKAGE.glob("*.py"))
FORBIDDEN = {"flask", "onion_app", "tor_config", "sqlcipher3", "stem"}
ALLOWED_THIRD_PARTY = {"nacl", "crypto", "cryptography"}
# pyca/cryptography is here for ML-KEM-768 only (libsodium has none), and only
# in the one module that wraps it; everything else stays libsodium's.
CRYPTOGRAPHY_MODULES = {"hybrid.py"}
CRYPTOGRAPHY_ALLOWED = {
    "cryptography.exceptions",
    "cryptography.hazmat.primitives.asymmetric.mlkem",
}


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imported_full(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def _imported(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_the_package_has_modules() -> None:
    assert len(MODULES) >= 10


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_imports_only_pynacl_and_the_standard_library(path: Path) -> None:
    imported = _imported(_tree(path))
    assert not imported & FORBIDDEN
    assert imported <= set(sys.stdlib_module_names) | ALLOWED_THIRD_PARTY


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_pyca_cryptography_only_for_mlkem(path: Path) -> None:
    from_pyca = {n for n in _imported_full(_tree(path)) if n.split(".")[0] == "cryptography"}
    if path.name in CRYPTOGRAPHY_MODULES:
        assert from_pyca <= CRYPTOGRAPHY_ALLOWED
        assert "cryptography.hazmat.primitives.asymmetric.mlkem" in from_pyca
    else:
        assert not from_pyca


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_assert_and_no_print_outside_the_cli(path: Path) -> None:
    tree = _tree(path)
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Assert)]
    if path.name != "cli.py":
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
        assert not [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == "print"]


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_modules_and_functions_stay_small(path: Path) -> None:
    tree = _tree(path)
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 400
    assert ast.get_docstring(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.end_lineno is not None:
            assert node.end_lineno - node.lineno < 50, node.name


def test_the_package_docstring_states_the_boundary() -> None:
    docstring = ast.get_docstring(_tree(PACKAGE / "__init__.py")) or ""
    assert "never imports" in docstring
    assert "flask" in docstring


def test_every_exception_is_documented_and_rooted() -> None:
    classes = [c for _, c in inspect.getmembers(crypto.errors, inspect.isclass)]
    assert len(classes) >= 8
    for cls in classes:
        assert cls.__module__ == "crypto.errors"
        assert issubclass(cls, crypto.errors.CryptoError)
        assert cls.__doc__
    assert issubclass(crypto.errors.WrongPassphrase, crypto.errors.DecryptionError)
    assert issubclass(crypto.errors.InvalidInput, ValueError)
