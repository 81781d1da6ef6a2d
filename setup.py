"""Haven's build: setup.cfg holds the metadata; this adds the resources.

``templates/`` and ``translations/`` live at the top of the repository (a
translator or designer finds them without knowing the package layout), so
setup.cfg's ``package_data`` cannot name them. Building the package copies
the templates into ``onion_app/templates`` and compiles every catalogue into
``onion_app/translations``, where :mod:`onion_app.resources` looks first. The
copies exist only in the build, never in the source tree, and an editable
install skips them: it reads the checkout's folders directly.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent


def compile_catalogues(source: Path, target: Path) -> list[Path]:
    """Every ``<locale>/LC_MESSAGES/<domain>.po`` under ``source`` to a ``.mo`` under ``target``.

    The same conversion as ``translations/catalogues.py compile`` (fuzzy
    entries left out), but with Babel alone: the build environment has
    Babel and setuptools, not Flask, so the catalogues module cannot be
    imported here.

    :returns: the files written
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(source.glob("*/LC_MESSAGES/*.po")):
        mo = target / po.relative_to(source).with_suffix(".mo")
        mo.parent.mkdir(parents=True, exist_ok=True)
        with po.open("rb") as f:
            catalog = read_po(f)
        with mo.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(mo)
    return written


class BuildWithResources(build_py):
    """``build_py``, plus the templates and compiled catalogues inside ``onion_app``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        package = Path(self.build_lib) / "onion_app"
        # A build/ folder left from an earlier build may hold a template since
        # deleted or renamed; start each copy from nothing.
        for name in ("templates", "translations"):
            shutil.rmtree(package / name, ignore_errors=True)
        shutil.copytree(ROOT / "templates", package / "templates")
        if not compile_catalogues(ROOT / "translations", package / "translations"):
            raise RuntimeError("no catalogues under translations/: the wheel would speak "
                               "only English")


setup(cmdclass={"build_py": BuildWithResources})
