"""The languages Haven's pages speak, and which onion offers which.

Adding a language: add it to :data:`PUBLIC_LANGUAGES` (TRANSLATING.md says the
rest). Plain data, no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass

from onion_app import resources

TRANSLATIONS = resources.translations_dir()

@dataclass(frozen=True)
class Language:
    """A language Haven's pages speak."""

    code: str  #: in the chooser's URL and the cookie
    locale: str  #: Babel's identifier, and the catalogue's folder name
    tag: str  #: BCP 47, for ``lang`` attributes
    name: str  #: the language's name in itself
    rtl: bool = False

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


ENGLISH = Language("en", "en", "en", "English")

# The public onion speaks the requesters' languages; each needs a complete
# "messages" catalogue. The staff onion also needs the "staff" catalogue, so
# it offers the languages that have one (TRANSLATING.md says how to add one).
PUBLIC_LANGUAGES: tuple[Language, ...] = (
    ENGLISH,
    Language("ar", "ar", "ar", "العربية", rtl=True),
    Language("fa", "fa", "fa", "فارسی", rtl=True),
    Language("ru", "ru", "ru", "Русский"),
    Language("zh", "zh_Hans", "zh-Hans", "简体中文"),
    Language("tr", "tr", "tr", "Türkçe"),
    Language("uk", "uk", "uk", "Українська"),
    Language("es", "es", "es", "Español"),
    Language("fr", "fr", "fr", "Français"),
)
STAFF_CODES = ("en", "ar", "ru", "es")
STAFF_LANGUAGES: tuple[Language, ...] = tuple(
    lang for lang in PUBLIC_LANGUAGES if lang.code in STAFF_CODES)

DOMAINS = {"public": ("messages",), "staff": ("messages", "staff")}
