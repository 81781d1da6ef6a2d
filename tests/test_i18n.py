"""Haven in every language it offers: complete catalogues, every string marked,
every page in every language with the right ``lang`` and ``dir``, and a
language choice that survives a submission and a login."""

from __future__ import annotations

import io
import logging
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask

from onion_app.i18n import PUBLIC_LANGUAGES, STAFF_LANGUAGES, TRANSLATIONS, Language
from onion_app.i18n import catalogues as haven_catalogues
from tests import journey as requester
from tests.pages import Page, public_pages, staff_pages, staff_world
from tests.test_security import check_headers
from translations import catalogues

HTML_TAG = re.compile(r'<html lang="([^"]+)" dir="([^"]+)">')
PSEUDO = "zh_Hans"  # its dates and numbers carry no Latin letters


class VisibleText(HTMLParser):
    """The text a reader sees that Haven wrote: what a person typed (marked
    ``dir="auto"`` or isolated in ``<bdi>``), code, and text in another
    language (``lang``: language names, the codename) are left out."""

    VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                      "source", "wbr"})
    OTHERS = frozenset({"bdi", "code", "pre", "textarea"})
    LABELS = ("aria-label", "alt", "title", "placeholder")

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.parts: list[str] = []
        self.labels: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        self.labels += [found[name] or "" for name in self.LABELS if name in found]
        if tag in self.VOID:
            return
        other_language = "lang" in found and tag != "html"
        skipped = (tag in self.OTHERS or found.get("dir") == "auto" or other_language
                   or (self.stack and self.stack[-1]))
        self.stack.append(bool(skipped))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)

    @classmethod
    def of(cls, page: str) -> VisibleText:
        parser = cls()
        parser.feed(page)
        return parser

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def _unmarked(text: str) -> str:
    """What is left of pseudo-translated text once every ⟦translation⟧ is gone."""
    previous = None
    while previous != text:
        previous, text = text, re.sub(r"\u27e6[^\u27e6\u27e7]*\u27e7", " ", text)
    return " ".join(re.findall(r"[A-Za-z][A-Za-z'-]*", text.replace("Haven", "")))


def _pseudo_catalogues(folder: Path) -> Path:
    """Every message of the sources as ⟦message⟧, compiled for PSEUDO."""
    for domain, template in catalogues.extract().items():
        catalog = Catalog(locale=PSEUDO, domain=domain)
        for message in template:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            pseudo = tuple(f"\u27e6{ids[-1]}\u27e7" for _ in range(catalog.num_plurals))
            catalog.add(message.id, pseudo if message.pluralizable else f"\u27e6{ids[0]}\u27e7",
                        flags=message.flags)
        target = folder / PSEUDO / "LC_MESSAGES" / f"{domain}.mo"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("wb") as f:
            write_mo(f, catalog)
    return folder


def _speak_pseudo(app: Flask, folder: Path) -> None:
    babel = app.extensions["babel"]
    babel.translation_directories = [str(folder)] * len(babel.translation_directories)
    # Haven's own catalogues, which its pages read, from the same folder.
    domains = app.extensions["haven.catalogues"].domains
    haven_catalogues.init_app(app, folder, domains)


def _check_all_marked(pages: list[Page]) -> None:
    for name, status, page in pages:
        assert status < 500, name
        assert HTML_TAG.search(page).groups() == ("zh-Hans", "ltr"), name  # type: ignore[union-attr]
        seen = VisibleText.of(page)
        assert _unmarked(seen.text) == "", (name, seen.text)
        for label in seen.labels:
            assert _unmarked(label) == "", (name, label)


def test_every_public_string_is_marked_for_translation(public_app: Flask,
                                                       tmp_path: Path) -> None:
    _speak_pseudo(public_app, _pseudo_catalogues(tmp_path))
    _check_all_marked(public_pages(public_app, "zh"))


def test_every_staff_string_is_marked_for_translation(staff_app: Flask, public_app: Flask,
                                                      tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import onion_app.i18n as language

    # The staff app does not offer Chinese; for this test it speaks the pseudo catalogue.
    pseudo = Language("zh", PSEUDO, "zh-Hans", "pseudo")
    monkeypatch.setitem(staff_app.extensions["haven.languages"].languages, "zh", pseudo)
    assert language  # the table patched above is the one the app reads
    _speak_pseudo(staff_app, _pseudo_catalogues(tmp_path))
    world = staff_world(staff_app, public_app)
    _check_all_marked(staff_pages(staff_app, world, "zh"))


def _english_leaks(seen: str, lang: Language, domains: tuple[str, ...]) -> list[str]:
    """Source strings of two words or more that appear untranslated on a page."""
    leaks = []
    for domain in domains:
        path = TRANSLATIONS / lang.locale / "LC_MESSAGES" / f"{domain}.po"
        with path.open("rb") as f:
            catalog = read_po(f)
        for message in catalog:
            if not isinstance(message.id, str) or "%" in message.id or "<" in message.id:
                continue
            if len(message.id.split()) >= 2 and message.string != message.id \
                    and message.id in seen:
                leaks.append(message.id)
    return leaks


@pytest.mark.parametrize("lang", PUBLIC_LANGUAGES, ids=lambda lang: lang.code)
def test_every_public_page_in_every_language(public_app: Flask, lang: Language) -> None:
    for name, status, page in public_pages(public_app, lang.code):
        assert status in (200, 400, 401, 404), (name, status)
        assert HTML_TAG.search(page).groups() == (lang.tag, lang.direction), name  # type: ignore[union-attr]
        assert page.count("<h1") == 1, name
        if lang.code != "en":
            seen = VisibleText.of(page)
            assert _english_leaks(seen.text + " " + " ".join(seen.labels), lang,
                                  ("messages",)) == [], name


@pytest.fixture
def world(staff_app: Flask, public_app: Flask) -> object:
    return staff_world(staff_app, public_app)


def test_every_staff_page_in_every_staff_language(staff_app: Flask, world: object) -> None:
    for lang in STAFF_LANGUAGES:
        for name, status, page in staff_pages(staff_app, world, lang.code):  # type: ignore[arg-type]
            assert status in (200, 400, 404), (lang.code, name, status)
            assert HTML_TAG.search(page).groups() == (lang.tag, lang.direction), name  # type: ignore[union-attr]
            assert page.count("<h1") == 1, name
            if lang.code != "en":
                seen = VisibleText.of(page)
                leaks = _english_leaks(seen.text + " " + " ".join(seen.labels), lang,
                                       ("messages", "staff"))
                assert leaks == [], (lang.code, name)


def test_catalogues_are_complete_and_current() -> None:
    problems = catalogues.check()
    assert problems == [], "\n".join(map(str, problems[:40]))


def test_compiled_catalogues_match_their_sources() -> None:
    sources = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/*.po"))
    assert sources
    for po in sources:
        compiled = po.with_suffix(".mo")
        assert compiled.exists(), f"{compiled} missing: run make translations"
        with po.open("rb") as f:
            catalog = read_po(f)
        expected = io.BytesIO()
        write_mo(expected, catalog, use_fuzzy=False)
        assert compiled.read_bytes() == expected.getvalue(), \
            f"{compiled} is older than {po.name}: run make translations"


# The chooser.

def test_every_page_offers_every_language_in_its_own_script(public_app: Flask) -> None:
    page = public_app.test_client().get("/").get_data(as_text=True)
    nav = page[page.index('<nav class="languages"'):page.index("</nav>")]
    for lang in PUBLIC_LANGUAGES:
        # dir only where it differs from left to right, to keep pages light.
        direction = ' dir="rtl"' if lang.rtl else ""
        assert (f'lang="{lang.tag}"{direction}'
                f'{" aria-current=" + chr(34) + "true" + chr(34) if lang.code == "en" else ""}'
                f">{lang.name}</a>") in nav
        assert f'href="/language/{lang.code}?next=/"' in nav


def test_choosing_sets_a_private_session_cookie(public_app: Flask,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    response = public_app.test_client().get("/language/fa?next=/login")
    assert response.status_code == 302
    assert response.location == "/login"
    check_headers(response)
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("haven_public_language=fa;")
    assert "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie
    assert "Expires" not in cookie
    assert "Max-Age" not in cookie
    assert not [r for r in caplog.records if "fa" in r.getMessage() or "login" in r.getMessage()]


@pytest.mark.parametrize("target", [
    "https://elsewhere.example/", "//elsewhere.example/x", "/\\elsewhere.example",
    "\\\\elsewhere.example", "elsewhere.example", "javascript:alert(1)", "/x\r\nSet-Cookie: a=b",
    " /requests", "/" + "a" * 3000, "",
])
def test_choosing_never_leaves_the_site(public_app: Flask, target: str) -> None:
    response = public_app.test_client().get("/language/ar", query_string={"next": target})
    assert response.status_code == 302
    assert response.location == "/"


def test_a_same_site_path_and_query_are_kept(staff_app: Flask) -> None:
    response = staff_app.test_client().get(
        "/language/ru", query_string={"next": "/dashboard?skill=legal&page=2"})
    assert response.location == "/dashboard?skill=legal&page=2"


def test_only_offered_languages_can_be_chosen(public_app: Flask, staff_app: Flask) -> None:
    assert public_app.test_client().get("/language/xx").status_code == 404
    assert staff_app.test_client().get("/language/tr").status_code == 404  # public only
    assert staff_app.test_client().get("/language/ar").status_code == 302


def test_accept_language_is_only_a_fallback(public_app: Flask) -> None:
    client = public_app.test_client()
    fallback = client.get("/", headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    assert 'lang="fa" dir="rtl"' in fallback.get_data(as_text=True)
    client.get("/language/ru")
    chosen = client.get("/", headers={"Accept-Language": "fa-IR,fa;q=0.9"})
    assert 'lang="ru" dir="ltr"' in chosen.get_data(as_text=True)
    tor = public_app.test_client().get("/", headers={"Accept-Language": "en-US,en;q=0.5"})
    assert 'lang="en" dir="ltr"' in tor.get_data(as_text=True)


def test_a_bad_cookie_falls_back_quietly(public_app: Flask) -> None:
    client = public_app.test_client()
    client.set_cookie("haven_public_language", "../../etc")
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="en"' in response.get_data(as_text=True)


def test_the_choice_survives_a_submission_and_a_login(public_app: Flask) -> None:
    client = public_app.test_client()
    page = client.get("/language/fa?next=/start", follow_redirects=True).get_data(as_text=True)
    assert 'lang="fa" dir="rtl"' in page
    codename = requester.new_account(client)
    public_id = requester.submitted_id(client, title="Passport taken")
    thread = client.get(f"/requests/{public_id}").get_data(as_text=True)
    assert 'lang="fa" dir="rtl"' in thread
    assert "درخواست شما رمزگذاری و فرستاده شد" in thread  # the flash, in Persian
    requester.logout(client)
    assert 'lang="fa"' in client.get("/login").get_data(as_text=True)
    signed_in = requester.login(client, codename)
    assert signed_in.status_code == 302
    listing = client.get(signed_in.location).get_data(as_text=True)
    assert 'lang="fa" dir="rtl"' in listing
    assert "Passport taken" in listing


def test_a_latin_codename_stays_left_to_right_on_a_persian_page(public_app: Flask) -> None:
    client = public_app.test_client()
    client.get("/language/fa")
    page = client.get("/start").get_data(as_text=True)
    assert re.search(r'<ol class="codename" lang="en" dir="ltr">(<li>[a-z-]+</li>){7}</ol>', page)
    assert re.search(r'<textarea [^>]*dir="ltr"[^>]*name="codename"|name="codename"[^>]*dir="ltr"',
                     page)


def test_numbers_and_days_follow_the_reader(public_app: Flask) -> None:
    client = public_app.test_client()
    client.get("/language/fa")
    requester.new_account(client)
    requester.submitted_id(client)
    listing = client.get("/requests").get_data(as_text=True)
    assert re.search(r"<td>[\u06f0-\u06f9]+ [^<]+ [\u06f0-\u06f9]{4}</td>", listing)  # a day
    form = client.get("/requests/new").get_data(as_text=True)
    assert "\u06f1\u06f2\u06f0" in form  # "at most 120 characters", in Persian digits


def _form_in(client: object, code: str) -> str:
    client.get(f"/language/{code}")  # type: ignore[attr-defined]
    return client.get("/requests/new").get_data(as_text=True)  # type: ignore[attr-defined]


def test_two_languages_alternate_on_one_process(public_app: Flask) -> None:
    """The first reader after a start must not fix the digits for everyone:
    Jinja compiles a template once per process, and a filter on a literal
    (``120|number``) used to be folded then, in the first reader's language."""
    persian, english = public_app.test_client(), public_app.test_client()
    for client in (persian, english):
        requester.new_account(client)
    for _ in range(2):
        assert "\u06f1\u06f2\u06f0" in _form_in(persian, "fa")  # 120 in Persian digits
        english_form = _form_in(english, "en")
        assert "At most 120 characters" in english_form
        assert not re.search("[\u06f0-\u06f9\u0660-\u0669]", english_form)


def test_every_formatting_filter_is_evaluated_per_request(public_app: Flask,
                                                           staff_app: Flask) -> None:
    """Any filter beyond Jinja's own may depend on the reader's language, so
    none may be one that Jinja can fold into a template at compile time."""
    from jinja2.defaults import DEFAULT_FILTERS
    from jinja2.utils import _PassArg

    for app in (public_app, staff_app):
        ours = {name: func for name, func in app.jinja_env.filters.items()
                if name not in DEFAULT_FILTERS}
        assert {"number", "day", "days_ago", "duration", "digits"} <= set(ours)
        folded = [name for name, func in ours.items()
                  if _PassArg.from_obj(func) is not _PassArg.context]
        assert folded == []


@pytest.mark.parametrize("back", ["/", "/requests/new", "/requests?page=2&x=%2F",
                                  "/language/en?next=/", "/a b/ü?q=1#f"])
def test_the_language_links_are_what_url_for_builds(public_app: Flask, back: str) -> None:
    from flask import url_for

    from onion_app.i18n.chooser import choice_links, offered

    with public_app.test_request_context("/"):
        built = [(lang, url_for("language.choose", code=lang.code, next=back))
                 for lang in offered().values()]
        assert choice_links(back) == built


class _Catalogue:
    """A catalogue whose translations hold what real ones may: markup, a
    literal percent sign, placeholders, plural forms and contexts."""

    WORDS: ClassVar[dict[str, str]] = {"Plain": "Simple", "Marked": "With <b>markup</b> &amp; more",
             "Sure": "100%% sure", "Hello %(name)s": "Salut %(name)s",
             "Someone is helping: <bdi>%(handle)s</bdi>": "Aide: <bdi>%(handle)s</bdi>"}

    def ugettext(self, message: str) -> str:
        return self.WORDS.get(message, message)

    def ungettext(self, singular: str, plural: str, count: int) -> str:
        return f"[{singular}]" if count == 1 else f"[{plural}] %%"

    def upgettext(self, context: str, message: str) -> str:
        return f"{context}|{message}"

    def unpgettext(self, context: str, singular: str, plural: str, count: int) -> str:
        return f"{context}|{singular if count == 1 else plural}"


TEMPLATE_TEXT = [
    "{{ _('Plain') }} {{ gettext('Plain') }} {{ _('Unknown') }}",
    "{{ _('Marked') }}",
    "{{ _('Sure') }}",
    "{{ _('Hello %(name)s', name=who) }}",
    "{% trans handle=who %}Someone is helping: <bdi>{{ handle }}</bdi>{% endtrans %}",
    "{% trans count=n, num=n|string %}{{ num }} request.{% pluralize %}{{ num }} requests."
    "{% endtrans %}",
    "{{ ngettext('%(num)s device', '%(num)s devices', n) }}"
    " {{ ngettext('%(num)s device', '%(num)s devices', 1, num='one') }}",
    "{{ pgettext('menu', 'Open') }} {{ npgettext('menu', 'file', 'files', n) }}",
    "{{ _('Plain')|length }} {{ _('Hello %(name)s', name=who)|upper }}",
]


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("text", TEMPLATE_TEXT)
def test_template_translations_are_what_jinjas_own_would_give(text: str,
                                                               autoescape: bool) -> None:
    """Haven's template callables give, to the byte, what Jinja's newstyle
    gettext gives over the same catalogue: markup kept, variables escaped,
    "%%" made "%", ``num`` filled in."""
    from jinja2 import Environment

    from onion_app.i18n.text import CATALOGUE, TEMPLATE_CALLABLES

    catalogue = _Catalogue()
    # Both ways, as Jinja's own wrappers are written for both.
    jinjas = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)  # noqa: S701
    jinjas.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=catalogue.ugettext, ngettext=catalogue.ungettext,
        pgettext=catalogue.upgettext, npgettext=catalogue.unpgettext, newstyle=True)
    havens = Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)  # noqa: S701
    havens.newstyle_gettext = True  # type: ignore[attr-defined]
    havens.globals.update(TEMPLATE_CALLABLES)
    for env in (jinjas, havens):
        env.policies["ext.i18n.trimmed"] = True
    values = {"who": "<i>Ana & co</i>", "n": 3}
    expected = jinjas.from_string(text).render(values)
    assert havens.from_string(text).render({**values, CATALOGUE: catalogue}) == expected


def test_template_translations_follow_each_request(public_app: Flask) -> None:
    """Through the app: the request's own catalogue, in a page's context or
    (a macro imported without one) looked up from the request."""
    from flask import render_template_string

    from onion_app.i18n import translations

    text = "{% macro m() %}{{ _('Language') }}{% endmacro %}{{ _('Language') }}/{{ m() }}"
    for code in ("en", "fa"):
        with public_app.test_request_context(
                "/", headers={"Cookie": f"haven_public_language={code}"}):
            word = translations().ugettext("Language")
            assert render_template_string(text) == f"{word}/{word}"
            # Rendered without Flask's context processors: from the request.
            assert public_app.jinja_env.from_string(text).render() == f"{word}/{word}"
    assert word == "زبان"
