"""A deterministic, rule-based farm adviser for when no model can answer.

It reads the farm records a request carries (crop, soil moisture, sowing and
harvest dates, forecast temperatures, in English or Azerbaijani) and turns
them into a few sentences of cautious advice on irrigation and harvest timing.
Without records it says that the model is unavailable and gives general
guidance. The same request always gets the same answer: no clock, no
randomness.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

# Soil moisture (% by volume) below which a field needs water soon, and above
# which more water risks waterlogging; coarse, crop-independent thresholds.
DRY_PERCENT = 20.0
ADEQUATE_PERCENT = 30.0
HEAT_CELSIUS = 35.0
FROST_CELSIUS = 0.0
# Irrigation usually ends about two weeks before harvest so the crop ripens
# and the soil carries machinery.
IRRIGATION_STOP_DAYS = 14

# Canonical crop: (English name, Azerbaijani name, pattern matching either).
CROPS = {
    "wheat": ("wheat", "buğda", r"wheat|buğda"),
    "cotton": ("cotton", "pambıq", r"cotton|pambı[qğ]"),
    "apple": ("apple", "alma", r"apple|alma\b|alma bağ"),
    "tomato": ("tomato", "pomidor", r"tomato|pomidor"),
    "grape": ("grape", "üzüm", r"grape|vineyard|üzüm"),
    "potato": ("potato", "kartof", r"potato|kartof"),
    "maize": ("maize", "qarğıdalı", r"maize|corn\b|qarğıdalı"),
    "barley": ("barley", "arpa", r"barley|\barpa\b"),
    "hazelnut": ("hazelnut", "fındıq", r"hazelnut|fındı[qğ]"),
    "rice": ("rice", "çəltik", r"\brice\b|çəltik"),
}
_NUMBER = r"(-?\d+(?:[.,]\d+)?)"
_DATE = r"(\d{4}-\d{2}-\d{2})"
_MOISTURE = re.compile(r"(?:soil moisture|torpaq rütubəti)\D{0,20}" + _NUMBER + r"\s*%")
_HARVEST = re.compile(r"(?:harvest|yığım)\D{0,30}" + _DATE)
_TEMPERATURE = re.compile(_NUMBER + r"\s*°\s*c")
_AZERBAIJANI_LETTERS = re.compile(r"[əğıƏĞ]")


@dataclass(frozen=True)
class FarmFacts:
    """What the rules could read from a request's text."""

    language: str
    crop: str | None = None
    soil_moisture: float | None = None
    harvest: date | None = None
    highest_celsius: float | None = None
    lowest_celsius: float | None = None

    @property
    def empty(self) -> bool:
        return (
            self.soil_moisture is None
            and self.harvest is None
            and self.highest_celsius is None
            and self.lowest_celsius is None
        )


def read_facts(text: str) -> FarmFacts:
    """Pick out the crop, moisture, harvest date and temperatures in ``text``."""
    lowered = text.lower()
    temperatures = [_number(match) for match in _TEMPERATURE.findall(lowered)]
    return FarmFacts(
        language="az" if _AZERBAIJANI_LETTERS.search(text) else "en",
        crop=_first_crop(lowered),
        soil_moisture=_first(_MOISTURE, lowered, _number),
        harvest=_first(_HARVEST, lowered, _date),
        highest_celsius=max(temperatures, default=None),
        lowest_celsius=min(temperatures, default=None),
    )


def advise(text: str) -> str:
    """The rule-based answer to a request whose text is ``text``."""
    facts = read_facts(text)
    phrases = AZERBAIJANI if facts.language == "az" else ENGLISH
    if facts.empty:
        return f"{phrases['unavailable']} {phrases['general']} {phrases['retry']}"

    crop = _crop_name(facts)
    sentences = [phrases["intro"]]
    if facts.soil_moisture is not None:
        sentences.append(_moisture_advice(facts.soil_moisture, phrases, crop))
    if facts.highest_celsius is not None and facts.highest_celsius >= HEAT_CELSIUS:
        sentences.append(phrases["heat"].format(t=_fmt(facts.highest_celsius, phrases)))
    if facts.lowest_celsius is not None and facts.lowest_celsius <= FROST_CELSIUS:
        sentences.append(phrases["frost"].format(t=_fmt(facts.lowest_celsius, phrases)))
    if facts.harvest is not None:
        stop = facts.harvest - timedelta(days=IRRIGATION_STOP_DAYS)
        harvest = phrases["harvest"] if crop else phrases["harvest_no_crop"]
        sentences.append(
            _sentence(harvest.format(crop=crop, harvest=facts.harvest, stop=stop))
        )
    if len(sentences) == 1:
        sentences.append(phrases["general"])
    sentences.append(phrases["retry"])
    return " ".join(sentences)


def _moisture_advice(percent: float, phrases: dict[str, str], crop: str) -> str:
    if percent < DRY_PERCENT:
        key = "dry"
    elif percent < ADEQUATE_PERCENT:
        key = "moderate"
    else:
        key = "wet"
    target = phrases["target"].format(crop=crop) if crop else phrases["no_target"]
    return phrases[key].format(m=_fmt(percent, phrases), target=target)


def _crop_name(facts: FarmFacts) -> str:
    if facts.crop is None:
        return ""
    english, azerbaijani, _ = CROPS[facts.crop]
    return azerbaijani if facts.language == "az" else english


def _first_crop(text: str) -> str | None:
    found = []
    for crop, (_, _, pattern) in CROPS.items():
        match = re.search(pattern, text)
        if match:
            found.append((match.start(), crop))
    return min(found)[1] if found else None


def _first(pattern: re.Pattern, text: str, convert):
    for match in pattern.finditer(text):
        value = convert(match.group(1))
        if value is not None:
            return value
    return None


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _fmt(value: float, phrases: dict[str, str]) -> str:
    return f"{value:g}".replace(".", phrases["decimal_mark"])


ENGLISH = {
    "unavailable": (
        "The language model is unavailable right now, so this answer comes "
        "from fixed rules rather than from your question's details."
    ),
    "intro": (
        "The language model is unavailable right now; this advice comes from "
        "fixed rules applied to your farm records."
    ),
    "general": (
        "General guidance: check soil moisture before irrigating, irrigate early "
        "in the morning or in the evening rather than at midday, and ask your "
        "local agronomist about anything specific to your fields."
    ),
    "dry": (
        "Soil moisture is {m}%, which is dry: irrigate {target} within a day, "
        "early in the morning or in the evening."
    ),
    "moderate": (
        "Soil moisture is {m}%: plan to irrigate {target} in the next two to "
        "three days and measure again before you do."
    ),
    "wet": (
        "Soil moisture is {m}%, which is enough: do not irrigate {target} yet, "
        "to avoid waterlogging."
    ),
    "heat": (
        "Heat up to {t} °C is forecast: irrigate early in the morning or in the "
        "evening, not at midday, and check soil moisture every day."
    ),
    "frost": (
        "Frost down to {t} °C is forecast: protect blossoms and seedlings "
        "tonight, for example with sprinklers running through the night or "
        "with covers."
    ),
    "harvest": (
        "the {crop} harvest is expected on {harvest}: stop irrigating about two "
        "weeks before, from {stop}, so the crop ripens and the soil can carry "
        "machinery."
    ),
    "harvest_no_crop": (
        "the harvest is expected on {harvest}: stop irrigating about two weeks "
        "before, from {stop}, so the crop ripens and the soil can carry machinery."
    ),
    "target": "the {crop}",
    "decimal_mark": ".",
    "no_target": "the field",
    "retry": "Ask again later for a full answer from the model.",
}

AZERBAIJANI = {
    "unavailable": (
        "Dil modeli hazırda əlçatan deyil, ona görə bu cavab sualınızın "
        "təfərrüatlarına deyil, sabit qaydalara əsaslanır."
    ),
    "intro": (
        "Dil modeli hazırda əlçatan deyil; bu tövsiyə təsərrüfat qeydlərinizə "
        "tətbiq olunan sabit qaydalardandır."
    ),
    "general": (
        "Ümumi tövsiyə: suvarmadan əvvəl torpaq rütubətini yoxlayın, günorta "
        "deyil, səhər tezdən və ya axşam suvarın, sahələrinizə aid suallar üçün "
        "yerli aqronoma müraciət edin."
    ),
    "dry": (
        "Torpaq rütubəti {m}%-dir, torpaq qurudur: {target} bir gün "
        "ərzində, səhər tezdən və ya axşam suvarın."
    ),
    "moderate": (
        "Torpaq rütubəti {m}%-dir: {target} suvarmağı növbəti iki-üç "
        "günə planlaşdırın və ondan əvvəl rütubəti yenidən ölçün."
    ),
    "wet": (
        "Torpaq rütubəti {m}%-dir, bu kifayətdir: {target} hələ "
        "suvarmayın ki, torpaq bataqlaşmasın."
    ),
    "heat": (
        "{t} °C-dək isti gözlənilir: günorta deyil, səhər tezdən və ya axşam "
        "suvarın və torpaq rütubətini hər gün yoxlayın."
    ),
    "frost": (
        "{t} °C-dək şaxta gözlənilir: bu gecə çiçəkləri və şitilləri qoruyun, "
        "məsələn, gecə boyu çiləyici suvarma və ya örtüklə."
    ),
    "harvest": (
        "{crop} yığımı {harvest} tarixinə gözlənilir: suvarmanı təxminən iki "
        "həftə əvvəl, {stop} tarixindən dayandırın ki, məhsul yetişsin və torpaq "
        "texnikanı götürsün."
    ),
    "harvest_no_crop": (
        "yığım {harvest} tarixinə gözlənilir: suvarmanı təxminən iki həftə "
        "əvvəl, {stop} tarixindən dayandırın ki, məhsul yetişsin və torpaq "
        "texnikanı götürsün."
    ),
    "target": "{crop} sahəsini",
    "decimal_mark": ",",
    "no_target": "sahəni",
    "retry": "Modelin tam cavabı üçün bir az sonra yenidən soruşun.",
}
