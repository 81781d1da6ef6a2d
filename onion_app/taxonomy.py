"""The fixed vocabularies matching works on: skills and languages.

Stored in the database by their short codes, shown by their labels.
"""

from __future__ import annotations

SKILLS: dict[str, str] = {
    "press": "Press and media",
    "campaigns": "PR and campaigns",
    "legal": "Legal help and asylum",
    "translation": "Translation",
    "writing": "Writing and editing",
    "art": "Art, music and film",
    "security": "Technology and digital security",
    "policy": "Policy and government contacts",
    "care": "Medical and psychological support",
    "fundraising": "Fundraising",
    "research": "Research and documentation",
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
    "unsaid": "Prefer not to say",
    "mena": "Middle East and North Africa",
    "africa": "Africa south of the Sahara",
    "eastern-europe": "Eastern Europe, Russia and the Caucasus",
    "central-asia": "Central Asia",
    "south-asia": "South Asia",
    "east-asia": "East Asia",
    "southeast-asia": "Southeast Asia",
    "americas": "Latin America and the Caribbean",
    "elsewhere": "Somewhere else",
}

URGENCIES: dict[str, str] = {
    "normal": "Normal",
    "urgent": "Urgent",
    "critical": "Life or liberty at risk",
}

AVAILABILITY: dict[str, str] = {
    "monthly": "A few hours a month",
    "weekly": "A few hours a week",
    "daily": "Some time most days",
}
