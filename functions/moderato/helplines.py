"""Helplines and the suggested reply to a self-harm post: configuration data, validated at load.

The reply is a draft for a human to send (the review console shows it, the crisis alert quotes it);
Moderato never posts it. Numbers are per country (``config/helplines.json``); the country comes from
the brand's configuration when the post is in that country's language, else from the post's language.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError, model_validator

from moderato.models import Case
from moderato.safety_codes import SELF_HARM
from moderato.settings import ConfigurationError

_DEFAULT_FILE = Path(__file__).parent / "config" / "helplines.json"
_PLACEHOLDERS = ("{lines}", "{emergency}")


class Helpline(BaseModel):
    name: str = Field(min_length=1)
    number: str = Field(pattern=r"^[0-9][0-9 ]{1,19}$")


class CountryLines(BaseModel):
    language: str = Field(description="The language the lines answer in.")
    emergency: str = Field(pattern=r"^[0-9]{3}$")
    lines: list[Helpline] = Field(min_length=1)


class BrandHelplines(BaseModel):
    country: str
    countries_by_language: dict[str, str] = Field(default_factory=dict)


class HelplineConfig(BaseModel):
    countries: dict[str, CountryLines]
    default_country_by_language: dict[str, str]
    fallback_country: str
    brands: dict[str, BrandHelplines] = Field(default_factory=dict)
    templates: dict[str, str]

    @model_validator(mode="after")
    def _consistent(self) -> HelplineConfig:
        named = [self.fallback_country, *self.default_country_by_language.values()]
        for brand in self.brands.values():
            named += [brand.country, *brand.countries_by_language.values()]
        unknown = sorted(set(named) - set(self.countries))
        if unknown:
            raise ValueError(f"countries without helplines: {', '.join(unknown)}")
        for language, template in self.templates.items():
            if not all(p in template for p in _PLACEHOLDERS):
                raise ValueError(f"template {language!r} must contain {' and '.join(_PLACEHOLDERS)}")
        missing = sorted({c.language for c in self.countries.values()} - set(self.templates))
        if missing or "en" not in self.templates:
            raise ValueError(f"templates missing for: {', '.join(missing or ['en'])}")
        return self

    def country_for(self, brand: str | None, language: str | None) -> str:
        language = language if language in self.templates else None  # "mixed", "unknown", another language
        config = self.brands.get(brand or "")
        if config is not None:
            if language in config.countries_by_language:
                return config.countries_by_language[language or ""]
            if language is None or self.countries[config.country].language == language:
                return config.country
        return self.default_country_by_language.get(language or "", self.fallback_country)

    def reply(self, brand: str | None, language: str | None) -> str:
        country = self.countries[self.country_for(brand, language)]
        template = self.templates.get(language or "") or self.templates.get(country.language) or self.templates["en"]
        numbers: dict[str, list[str]] = {}
        for line in country.lines:  # one name, its numbers together: "TelefonSeelsorge: 0800 111 0 111 / ..."
            numbers.setdefault(line.name, []).append(line.number)
        lines = "; ".join(f"{name}: {' / '.join(found)}" for name, found in numbers.items())
        return template.replace("{lines}", lines).replace("{emergency}", country.emergency)


def load_helplines(path: str | Path | None = None) -> HelplineConfig:
    source = Path(path or os.environ.get("MODERATO_HELPLINES_FILE") or _DEFAULT_FILE)
    try:
        return HelplineConfig.model_validate_json(source.read_text(encoding="utf-8"))
    except (OSError, ValueError, ValidationError) as error:
        raise ConfigurationError(f"cannot load helplines from {source}: {error}") from error


@lru_cache(maxsize=1)
def default_helplines() -> HelplineConfig:
    return load_helplines()


def suggested_reply(case: Case, config: HelplineConfig | None = None) -> str | None:
    """The helpline reply for a self-harm case, in the post's language; None for any other case."""
    if SELF_HARM not in case.safety:
        return None
    return (config or default_helplines()).reply(case.post.brand, case.language)


# Loaded when triage starts: a broken helpline file must stop the function at start, not fail on the
# first self-harm post.
default_helplines()
