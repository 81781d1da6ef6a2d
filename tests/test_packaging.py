"""The built wheel on its own: templates, catalogues and static files travel in it.

One wheel is built per session from a copy of the sources (so the test writes
nothing into the checkout, and no ``.mo`` left there by ``make translations``
can stand in for the ones the build must compile), installed with
``--target`` into a folder of its own, and started with ``--local`` from a
folder outside the checkout. Python runs with ``-S`` and a ``PYTHONPATH`` of
that folder plus this venv's site-packages: the dependencies come from the
venv, but the editable install's path hook (a ``.pth`` file, which ``-S``
leaves unread) cannot lead back to the checkout.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from onion_app.web.stylesheets import without_comments

ROOT = Path(__file__).resolve().parent.parent
# What the build reads: the build configuration and the sources it packages.
BUILD_INPUTS = ("setup.py", "setup.cfg", "pyproject.toml", "MANIFEST.in", "README.md",
                "onion_app", "crypto", "tor_config", "templates", "translations")


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources and installed into its own folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
        else:
            shutil.copy2(path, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps",
                    "--no-build-isolation", "--no-index", "-q", "-w", str(work / "dist")],
                   cwd=source, check=True, capture_output=True, timeout=120)
    (wheel,) = (work / "dist").glob("haven-*.whl")
    target = work / "target"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                    "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=120)
    return target


def _env(target: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAVEN_", "PYTHON"))}
    venv = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    env["PYTHONPATH"] = os.pathsep.join([str(target), *venv])
    env.update(HAVEN_PUBLIC_PORT="0", HAVEN_STAFF_PORT="0")
    return env


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """A folder outside the checkout to start Haven in; its instance/ lands here."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    assert not folder.resolve().is_relative_to(ROOT)
    return folder


def test_the_package_imported_is_the_installed_one(installed: Path, elsewhere: Path) -> None:
    found = subprocess.run(
        [sys.executable, "-S", "-c",
         "import sys, onion_app, onion_app.resources as r; "
         "print(onion_app.__file__); print(r.templates_dir()); print(r.translations_dir()); "
         "print(*sys.path, sep='\\n')"],
        cwd=elsewhere, env=_env(installed), capture_output=True, text=True, check=True,
        timeout=60).stdout.splitlines()
    package, templates, translations, *path = (Path(line) for line in found)
    assert package.is_relative_to(installed)
    assert templates == installed / "onion_app" / "templates"
    assert translations == installed / "onion_app" / "translations"
    # "" on the path is the folder python started in: elsewhere, not the checkout.
    # (The venv's site-packages may sit inside the checkout; the checkout's own
    # folder, where the editable install points, must not be on the path.)
    assert ROOT not in [(elsewhere / p).resolve() for p in path]


@pytest.fixture
def served(installed: Path, elsewhere: Path) -> Iterator[dict[str, str]]:
    """The installed console script, ``haven --local``, until the test ends."""
    script = installed / "bin" / "haven"
    process = subprocess.Popen([sys.executable, "-S", str(script), "--local"], cwd=elsewhere,
                               env=_env(installed), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    addresses: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            match = re.match(r"(public|staff) .*: (http://127\.0\.0\.1:\d+/)$", line.strip())
            if match:
                addresses[match.group(1)] = match.group(2)
            if len(addresses) == 2:
                break
        assert len(addresses) == 2, "the installed haven did not print both addresses"
        yield addresses
    finally:
        process.terminate()
        process.communicate(timeout=20)
    assert (elsewhere / "instance").is_dir()


def _translation(locale: str, domain: str, msgid: str) -> str:
    with (ROOT / "translations" / locale / "LC_MESSAGES" / f"{domain}.po").open("rb") as f:
        translated = read_po(f)[msgid].string
    assert isinstance(translated, str)
    assert translated
    assert translated != msgid
    return translated


def _get(opener: urllib.request.OpenerDirector, url: str) -> str:
    with opener.open(url, timeout=10) as response:
        assert response.status == 200
        page: str = response.read().decode()
    return page


def test_installed_wheel_serves_english_persian_and_the_stylesheet(
        served: dict[str, str]) -> None:
    # A cookie jar, as a browser: the language picker sets a cookie and redirects.
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    public = served["public"]

    english = _get(browser, public)
    assert 'lang="en" dir="ltr"' in english
    assert "<h1>Safe help from people who care</h1>" in english
    assert "/static/haven.css" in english

    persian = _get(browser, f"{public}language/fa?next=/")
    assert 'lang="fa" dir="rtl"' in persian
    assert f"<h1>{_translation('fa', 'messages', 'Safe help from people who care')}</h1>" \
        in persian
    assert "Safe help from people who care" not in persian

    stylesheet = _get(browser, f"{public}static/haven.css")  # urllib asks for no gzip
    assert stylesheet == without_comments(
        (ROOT / "onion_app" / "static" / "haven.css").read_bytes()).decode()


def test_installed_wheel_serves_the_staff_catalogue(served: dict[str, str]) -> None:
    browser = urllib.request.build_opener(
        urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    arabic = _get(browser, f"{served['staff']}language/ar?next=/")
    assert 'lang="ar" dir="rtl"' in arabic
    assert _translation("ar", "staff", "Haven for volunteers") in arabic
