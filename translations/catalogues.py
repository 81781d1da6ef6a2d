"""Haven's message catalogues: extract, update, compile and check them.

    python translations/catalogues.py extract   # sources -> .pot, and every .po brought up to date
    python translations/catalogues.py compile [PO...]  # .po -> .mo (make does this for run, test)
    python translations/catalogues.py check     # what is missing, stale or broken; exit 1 if any
    python translations/catalogues.py init LOCALE [staff]  # a new language's empty catalogue

Two domains: ``messages`` holds everything a requester can see (and what both
apps share: the page frame, error pages, the skill names); ``staff`` holds only
what volunteers and operators see. The public app needs a complete
``messages``; the staff app needs both. TRANSLATING.md explains the workflow.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
HERE = ROOT / "translations"
sys.path.insert(0, str(ROOT))

from onion_app.i18n import PUBLIC_LANGUAGES, STAFF_CODES, TRANSLATIONS  # noqa: E402

DOMAINS = ("messages", "staff")
# The staff domain's sources; everything else a person can see is "messages".
STAFF_SOURCES = ("templates/volunteer/", "templates/operator/", "onion_app/volunteer/",
                 "onion_app/operator/", "onion_app/domain/volunteer_keys.py",
                 "onion_app/web/staff_auth.py")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_text": None,
            "with_user_text": None}
COMMENT_TAGS = ["Translators:"]
HEADER = """\
# {language} translation of Haven ({domain} catalogue).
# Machine-translated for Haven by an AI language model (Claude, Anthropic).
# AWAITING REVIEW BY A NATIVE SPEAKER: until then treat every string as a
# draft. TRANSLATING.md says how to review it and record the review here.
#"""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a catalogue, said so a translator can act on it."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


def locales(domain: str) -> list[str]:
    """The locales that must have a complete catalogue of ``domain``."""
    offered = [lang for lang in PUBLIC_LANGUAGES if lang.code != "en"]
    if domain == "staff":
        offered = [lang for lang in offered if lang.code in STAFF_CODES]
    return [lang.locale for lang in offered]


def _sources() -> Iterator[tuple[Path, str]]:
    for path in sorted((ROOT / "onion_app").rglob("*.py")):
        yield path, "python"
    for path in sorted((ROOT / "templates").rglob("*.html")):
        yield path, "jinja2"


def _domain_of(path: Path) -> str:
    relative = path.relative_to(ROOT).as_posix()
    return "staff" if relative.startswith(STAFF_SOURCES) else "messages"


def extract() -> dict[str, Catalog]:
    """The templates (``.pot``) as the sources say they should be, by domain."""
    templates = {domain: Catalog(project="Haven", domain=domain, charset="utf-8",
                                 msgid_bugs_address="", copyright_holder="Haven",
                                 fuzzy=False) for domain in DOMAINS}
    for path, method in _sources():
        options = {"trimmed": "true", "extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        found = extract_from_file(
            "jinja2.ext:babel_extract" if method == "jinja2" else method, str(path),
            keywords=KEYWORDS, comment_tags=COMMENT_TAGS, options=options,
            strip_comment_tags=True)
        location = path.relative_to(ROOT).as_posix()
        for lineno, message, comments, context in found:
            templates[_domain_of(path)].add(message, None, [(location, lineno)],
                                            auto_comments=comments, context=context)
    # A string both sides show is translated once, in "messages".
    shared = {m.id for m in templates["messages"] if m.id}
    for message in list(templates["staff"]):
        if message.id and message.id in shared:
            templates["staff"].delete(message.id, message.context)
    return templates


def _pot(domain: str) -> Path:
    return HERE / f"{domain}.pot"


def _po(locale: str, domain: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / f"{domain}.po"


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale=locale)


def _write(catalog: Catalog, path: Path, **options: bool) -> None:
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, omit_header=False, **options)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def write_templates_and_update() -> None:
    """``extract``: writes each ``.pot`` and merges it into every ``.po``."""
    for domain, template in extract().items():
        _write(template, _pot(domain), sort_output=True, no_location=False)
        for locale in locales(domain):
            path = _po(locale, domain)
            if not path.exists():
                continue
            catalog = _read(path, locale)
            catalog.update(template, no_fuzzy_matching=True)
            _write(catalog, path, sort_output=True, ignore_obsolete=True)
            print(f"updated {path.relative_to(ROOT)}")


def init(locale: str, domain: str = "messages") -> Path:
    """An empty catalogue of ``domain`` for a new ``locale``, with the review header."""
    template = _read(_pot(domain))
    catalog = Catalog(locale=locale, domain=domain, project="Haven", charset="utf-8",
                      fuzzy=False, last_translator="machine translation, awaiting review",
                      language_team="none yet: see TRANSLATING.md")
    catalog.update(template, no_fuzzy_matching=True)
    catalog.header_comment = HEADER.format(language=catalog.locale.english_name, domain=domain)
    path = _po(locale, domain)
    _write(catalog, path, sort_output=True)
    return path


def compile_all(only: list[Path] | None = None) -> list[Path]:
    """``compile``: each ``.po`` (or those given) to its ``.mo``. :returns: the files written"""
    written = []
    for path in only or sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po")):
        catalog = _read(path)
        target = path.with_suffix(".mo")
        with target.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(target)
    return written


_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|%%")


def _strings(message: Message) -> list[str]:
    value = message.string
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _ids(message: Message) -> list[str]:
    value = message.id
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _message_problems(where: str, message: Message) -> Iterator[Problem]:
    label = _ids(message)[0][:60]
    strings = _strings(message)
    if message.fuzzy:
        yield Problem(where, f"fuzzy, needs a translator's check: {label!r}")
    if not all(s and s.strip() for s in strings):
        yield Problem(where, f"untranslated: {label!r}")
        return
    tags = sorted(_TAG.findall(_ids(message)[0]))
    # Every form must keep the source's markup; the placeholders must be the
    # same set (a singular may leave out %(num)s, as in "one day").
    source_holders = {p for msgid in _ids(message) for p in _PLACEHOLDER.findall(msgid)}
    for s in strings:
        if sorted(_TAG.findall(s)) != tags:
            yield Problem(where, f"markup differs from the source in {label!r}: {s!r}")
        extra = set(_PLACEHOLDER.findall(s)) - source_holders
        if extra:
            yield Problem(where, f"unknown placeholder {sorted(extra)} in {label!r}")
    if len(strings) == 1 and not message.pluralizable:
        missing = source_holders - set(_PLACEHOLDER.findall(strings[0]))
        if missing:
            yield Problem(where, f"placeholder {sorted(missing)} left out of {label!r}")


def check() -> list[Problem]:
    """Everything that stands between the catalogues and a complete translation."""
    problems: list[Problem] = []
    for domain, template in extract().items():
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in template if m.id}
        pot = _pot(domain)
        if not pot.exists() or {(m.id if isinstance(m.id, str) else m.id[0])
                                for m in _read(pot) if m.id} != wanted:
            problems.append(Problem(str(pot.relative_to(ROOT)),
                                    "out of date with the sources: run `make extract`"))
        for locale in locales(domain):
            path = _po(locale, domain)
            where = str(path.relative_to(ROOT))
            if not path.exists():
                problems.append(Problem(where, "missing: run translations/catalogues.py init"))
                continue
            catalog = _read(path, locale)
            have = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}
            for msgid in sorted(wanted - have):
                problems.append(Problem(where, f"missing message {msgid[:60]!r}"))
            for message in catalog:
                if not message.id:
                    continue
                problems.extend(_message_problems(where, message))
                for error in message.check(catalog):
                    problems.append(Problem(where, f"{error} in {_ids(message)[0][:60]!r}"))
            if "AWAITING REVIEW" not in (catalog.header_comment or ""):
                problems.append(Problem(where, "header does not say who produced it and "
                                               "whether a native speaker reviewed it"))
    return problems


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "extract":
        write_templates_and_update()
    elif command == "compile":
        for path in compile_all([Path(p).resolve() for p in argv[1:]] or None):
            print(f"compiled {path.relative_to(ROOT)}")
    elif command == "check":
        problems = check()
        for problem in problems:
            print(problem)
        return 1 if problems else 0
    elif command == "init" and len(argv) in (2, 3):
        print(f"created {init(argv[1], argv[2] if len(argv) == 3 else 'messages')}")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
