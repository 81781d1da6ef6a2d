"""The fixed vocabularies matching works on: skills and languages.

Stored in the database by their short codes, shown by their labels. Labels are
translated when shown (lazily: these tables are built before any request);
language names are not, each being written in its own language and script.
"""

from __future__ import annotations

from onion_app.i18n import lazy_gettext as _l

SKILLS: dict[str, str] = {
    "press": _l("Press and media"),
    "campaigns": _l("PR and campaigns"),
    "legal": _l("Legal help and asylum"),
    "translation": _l("Translation"),
    "writing": _l("Writing and editing"),
    "art": _l("Art, music and film"),
    "security": _l("Technology and digital security"),
    "policy": _l("Policy and government contacts"),
    "care": _l("Medical and psychological support"),
    "fundraising": _l("Fundraising"),
    "research": _l("Research and documentation"),
}

# Each language named in its own script, as a requester would look for it.
LANGUAGES: dict[str, str] = {
    "ar": "العربية",
    "fa": "فارسی",
    "ru": "Русский",
    "zh": "中文",
    "tr": "Türkçe",
    "uk": "Українська",
    "be": "Беларуская",
    "my": "မြန်မာ",
    "vi": "Tiếng Việt",
    "es": "Español",
    "fr": "Français",
    "en": "English",
    "de": "Deutsch",
    "ku": "Kurdî",
    "az": "Azərbaycanca",
    "kk": "Қазақша",
    "uz": "Oʻzbekcha",  # noqa: RUF001  (the Uzbek okina letter, not a quote)
    "am": "አማርኛ",
    "ti": "ትግርኛ",
    "ur": "اردو",
    "hi": "हिन्दी",
    "pt": "Português",
}

# Coarse on purpose: enough to route a request to someone who knows the
# context, too coarse to narrow down who sent it.
REGIONS: dict[str, str] = {
    "unsaid": _l("Prefer not to say"),
    "mena": _l("Middle East and North Africa"),
    "africa": _l("Africa south of the Sahara"),
    "eastern-europe": _l("Eastern Europe, Russia and the Caucasus"),
    "central-asia": _l("Central Asia"),
    "south-asia": _l("South Asia"),
    "east-asia": _l("East Asia"),
    "southeast-asia": _l("Southeast Asia"),
    "americas": _l("Latin America and the Caribbean"),
    "elsewhere": _l("Somewhere else"),
}

URGENCIES: dict[str, str] = {
    "normal": _l("Normal"),
    "urgent": _l("Urgent"),
    "critical": _l("Life or liberty at risk"),
}

AVAILABILITY: dict[str, str] = {
    "monthly": _l("A few hours a month"),
    "weekly": _l("A few hours a week"),
    "daily": _l("Some time most days"),
}
