"""Agronomic facts about Azerbaijan that shape the synthetic farms.

Everything the generator and the expectations know about geography, crops,
soils, irrigation, livestock and climate lives here, so a correction is made
once. The regions follow the economic regions of the 2021 division; figures are
approximate and chosen for plausibility, not for statistics. The public sources
behind them are listed in ``docs/data-sources.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class Box:
    """A latitude/longitude rectangle, in decimal degrees."""

    lat_min: float
    lat_max: float
    lon_min: float
    lon_max: float


@dataclass(frozen=True)
class District:
    """An administrative district: its town's position and elevation."""

    name: str
    latitude: float
    longitude: float
    elevation_m: int


@dataclass(frozen=True)
class Climate:
    """Sea-level climate of a region, used to shape one season of weather."""

    mean_temp_c: float
    temp_amplitude_c: float
    annual_precip_mm: float
    wettest_day_of_year: int
    precip_seasonality: float
    humidity_pct: float


@dataclass(frozen=True)
class Region:
    """An economic region: where it is, what grows there and how it is watered."""

    name: str
    box: Box
    districts: tuple[District, ...]
    farm_share: float
    crops: MappingProxyType[str, float]
    soils: MappingProxyType[str, float]
    irrigation: MappingProxyType[str, float]
    climate: Climate


@dataclass(frozen=True)
class Window:
    """A span of the calendar, ``(month, day)`` to ``(month, day)`` inclusive."""

    start: tuple[int, int]
    end: tuple[int, int]
    year_offset: int = 0


@dataclass(frozen=True)
class CropCalendar:
    """When a crop is sown (or, for a perennial, planted) and harvested."""

    sowing: Window
    harvest: Window
    perennial: bool = False


def _weights(**values: float) -> MappingProxyType[str, float]:
    return MappingProxyType(dict(values))


CROP_CALENDARS: MappingProxyType[str, CropCalendar] = MappingProxyType(
    {
        # Autumn-sown cereals are sown the year before the season's harvest.
        "winter_wheat": CropCalendar(
            Window((10, 1), (11, 20), -1), Window((6, 15), (7, 20))
        ),
        "barley": CropCalendar(Window((10, 1), (11, 15), -1), Window((6, 1), (7, 5))),
        "cotton": CropCalendar(Window((4, 10), (5, 15)), Window((9, 10), (11, 15))),
        "maize": CropCalendar(Window((4, 15), (6, 1)), Window((8, 25), (10, 20))),
        # Alfalfa is cut several times a season; the harvest is the first cut.
        "alfalfa": CropCalendar(Window((3, 10), (4, 30)), Window((5, 20), (6, 20))),
        "potato": CropCalendar(Window((3, 15), (5, 15)), Window((7, 1), (9, 30))),
        "tomato": CropCalendar(Window((4, 15), (5, 31)), Window((7, 1), (9, 30))),
        "rice": CropCalendar(Window((4, 25), (5, 31)), Window((9, 15), (10, 31))),
        # For orchards, vineyards and tea the sowing date is the planting date,
        # in the late autumn of a year before the season.
        "hazelnut": CropCalendar(
            Window((11, 1), (12, 15)), Window((8, 1), (9, 10)), perennial=True
        ),
        "apple": CropCalendar(
            Window((11, 1), (12, 15)), Window((8, 15), (10, 31)), perennial=True
        ),
        "grape": CropCalendar(
            Window((11, 1), (12, 15)), Window((8, 15), (10, 20)), perennial=True
        ),
        "pomegranate": CropCalendar(
            Window((11, 1), (12, 15)), Window((10, 1), (11, 20)), perennial=True
        ),
        "citrus": CropCalendar(
            Window((11, 1), (12, 15)), Window((11, 1), (12, 31)), perennial=True
        ),
        "tea": CropCalendar(
            Window((11, 1), (12, 15)), Window((5, 1), (9, 30)), perennial=True
        ),
    }
)
CROPS: tuple[str, ...] = tuple(CROP_CALENDARS)

# Perennials were planted between these many years before the season.
PLANTING_AGE_YEARS = (3, 30)

SOILS: tuple[str, ...] = (
    "grey",
    "grey_brown",
    "grey_meadow",
    "alluvial_meadow",
    "chestnut",
    "cinnamonic",
    "mountain_brown_forest",
    "yellow",
    "saline",
)
IRRIGATION: tuple[str, ...] = ("furrow", "flood", "sprinkler", "drip", "rainfed")

# Water held by the top 10 cm of each soil, in volumetric %: at the wilting
# point, at field capacity, and at saturation. Clay-rich soils hold more.
SOIL_WATER: MappingProxyType[str, tuple[float, float, float]] = MappingProxyType(
    {
        "grey": (12, 30, 45),
        "grey_brown": (11, 27, 42),
        "grey_meadow": (16, 35, 48),
        "alluvial_meadow": (17, 37, 50),
        "chestnut": (14, 31, 46),
        "cinnamonic": (15, 33, 47),
        "mountain_brown_forest": (18, 39, 52),
        "yellow": (21, 42, 54),
        "saline": (17, 33, 46),
    }
)
# When each method waters, and to what level, as fractions of the water a
# plant can use (0 = wilting point, 1 = field capacity). Flooding overshoots
# field capacity; rain-fed fields are never watered.
IRRIGATION_RULES: MappingProxyType[str, tuple[float, float]] = MappingProxyType(
    {
        "furrow": (0.45, 1.0),
        "flood": (0.7, 1.3),
        "sprinkler": (0.55, 0.95),
        "drip": (0.7, 0.9),
        "rainfed": (-1.0, 0.0),
    }
)
# Canals deliver water from April to September.
IRRIGATION_MONTHS: tuple[int, int] = (4, 9)
FARM_TYPES: tuple[str, ...] = ("crop", "mixed", "livestock")
FARM_TYPE_SHARES: tuple[float, ...] = (0.55, 0.35, 0.10)
SPECIES: tuple[str, ...] = ("cattle", "sheep", "goat", "buffalo")

# Chance that a farm of each type (rows) keeps each species (columns), and the
# mean herd size of a species when it is kept, by farm type.
SPECIES_PRESENCE: tuple[tuple[float, ...], ...] = (
    (0.25, 0.10, 0.10, 0.02),
    (0.80, 0.45, 0.30, 0.08),
    (0.70, 0.80, 0.45, 0.12),
)
HERD_MEAN: tuple[tuple[float, ...], ...] = (
    (2.0, 6.0, 3.0, 1.5),
    (5.0, 25.0, 8.0, 3.0),
    (30.0, 180.0, 40.0, 8.0),
)

PESTS_BY_CROP: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "winter_wheat": ("sunn_pest", "cereal_leaf_beetle"),
        "barley": ("sunn_pest", "cereal_leaf_beetle"),
        "cotton": ("cotton_bollworm", "spider_mite"),
        "maize": ("corn_borer", "cotton_bollworm"),
        "alfalfa": ("alfalfa_weevil",),
        "potato": ("colorado_potato_beetle",),
        "tomato": ("tomato_leafminer", "whitefly"),
        "rice": ("rice_stem_borer",),
        "hazelnut": ("brown_marmorated_stink_bug", "hazelnut_weevil"),
        "apple": ("codling_moth",),
        "grape": ("european_grapevine_moth",),
        "pomegranate": ("pomegranate_fruit_moth",),
        "citrus": ("whitefly",),
        "tea": ("spider_mite",),
    }
)
PESTS: tuple[str, ...] = tuple(
    sorted({pest for pests in PESTS_BY_CROP.values() for pest in pests})
)
SEVERITIES: tuple[str, ...] = ("low", "medium", "high")

_LOWLAND_SOILS = _weights(grey=3, grey_meadow=3, grey_brown=2, saline=1.5)
_CANAL_IRRIGATION = _weights(furrow=6, flood=2, sprinkler=1, drip=0.5, rainfed=0.5)
_FOOTHILL_IRRIGATION = _weights(furrow=3, sprinkler=2, drip=2, rainfed=3)

REGIONS: tuple[Region, ...] = (
    Region(
        "Absheron-Khizi",
        Box(40.30, 41.10, 48.90, 50.40),
        (
            District("Absheron", 40.45, 49.75, 20),
            District("Khizi", 40.91, 49.07, 350),
        ),
        farm_share=0.4,
        crops=_weights(tomato=3, grape=2, potato=1, winter_wheat=1, alfalfa=1),
        soils=_weights(grey_brown=3, chestnut=1, saline=1),
        irrigation=_weights(drip=4, furrow=2, sprinkler=1, rainfed=1),
        climate=Climate(14.8, 11.5, 240, 320, 0.5, 72),
    ),
    Region(
        "Mountainous Shirvan",
        Box(40.35, 41.05, 47.90, 49.20),
        (
            District("Shamakhi", 40.63, 48.64, 750),
            District("Ismayilli", 40.79, 48.15, 650),
            District("Agsu", 40.57, 48.40, 300),
            District("Gobustan", 40.53, 48.93, 750),
        ),
        farm_share=0.7,
        crops=_weights(grape=3, winter_wheat=3, barley=2, alfalfa=1, hazelnut=1),
        soils=_weights(chestnut=3, cinnamonic=2, mountain_brown_forest=1),
        irrigation=_FOOTHILL_IRRIGATION,
        climate=Climate(15.0, 11.5, 520, 130, 0.4, 70),
    ),
    Region(
        "Ganja-Dashkasan",
        Box(40.30, 40.90, 45.90, 46.70),
        (
            District("Ganja", 40.68, 46.36, 400),
            District("Goygol", 40.59, 46.32, 550),
            District("Dashkasan", 40.52, 46.08, 1150),
            District("Samukh", 40.76, 46.41, 200),
        ),
        farm_share=0.7,
        crops=_weights(grape=3, winter_wheat=2, potato=2, alfalfa=1, apple=1),
        soils=_weights(chestnut=2, cinnamonic=2, grey_brown=1),
        irrigation=_weights(furrow=4, sprinkler=1, drip=1, rainfed=2),
        climate=Climate(15.5, 12.0, 300, 140, 0.45, 66),
    ),
    Region(
        "Gazakh-Tovuz",
        Box(40.45, 41.30, 45.00, 46.20),
        (
            District("Gazakh", 41.09, 45.37, 400),
            District("Aghstafa", 41.12, 45.45, 330),
            District("Tovuz", 40.99, 45.63, 400),
            District("Shamkir", 40.83, 46.02, 400),
            District("Gadabay", 40.57, 45.81, 1450),
        ),
        farm_share=0.9,
        crops=_weights(
            grape=3, winter_wheat=3, potato=1.5, tomato=1, alfalfa=1, barley=1
        ),
        soils=_weights(chestnut=3, cinnamonic=2, mountain_brown_forest=1),
        irrigation=_weights(furrow=4, sprinkler=1, drip=1.5, rainfed=2),
        climate=Climate(15.5, 12.0, 420, 140, 0.45, 66),
    ),
    Region(
        "Shaki-Zagatala",
        Box(40.80, 41.90, 46.10, 48.10),
        (
            District("Balakan", 41.73, 46.40, 450),
            District("Zagatala", 41.63, 46.64, 550),
            District("Gakh", 41.42, 46.92, 500),
            District("Shaki", 41.19, 47.17, 700),
            District("Oghuz", 41.07, 47.46, 600),
            District("Gabala", 40.98, 47.85, 750),
        ),
        farm_share=1.0,
        crops=_weights(
            hazelnut=4, winter_wheat=2, maize=2, apple=1, alfalfa=1, potato=1
        ),
        soils=_weights(mountain_brown_forest=3, cinnamonic=2, alluvial_meadow=1),
        irrigation=_weights(rainfed=5, furrow=2, sprinkler=1, drip=1),
        climate=Climate(15.0, 11.0, 900, 150, 0.35, 74),
    ),
    Region(
        "Lankaran-Astara",
        Box(38.40, 39.60, 47.90, 49.00),
        (
            District("Lankaran", 38.75, 48.85, 0),
            District("Astara", 38.46, 48.87, 0),
            District("Lerik", 38.77, 48.41, 1100),
            District("Yardimli", 38.91, 48.24, 900),
            District("Masally", 39.03, 48.67, 50),
            District("Jalilabad", 39.21, 48.49, 50),
        ),
        farm_share=1.1,
        crops=_weights(
            tomato=3, citrus=3, tea=2, winter_wheat=2, rice=1, potato=1, alfalfa=1
        ),
        soils=_weights(yellow=3, alluvial_meadow=2, mountain_brown_forest=1),
        irrigation=_weights(rainfed=4, furrow=2, flood=1, drip=2),
        climate=Climate(14.8, 10.0, 1300, 290, 0.6, 80),
    ),
    Region(
        "Guba-Khachmaz",
        Box(40.80, 41.90, 48.00, 49.40),
        (
            District("Guba", 41.36, 48.51, 600),
            District("Gusar", 41.43, 48.43, 800),
            District("Khachmaz", 41.46, 48.80, 20),
            District("Shabran", 41.22, 48.99, 50),
            District("Siyazan", 41.08, 49.11, 0),
        ),
        farm_share=0.9,
        crops=_weights(apple=4, potato=2, winter_wheat=2, tomato=1, alfalfa=1),
        soils=_weights(chestnut=2, mountain_brown_forest=2, alluvial_meadow=1),
        irrigation=_weights(furrow=3, drip=2, sprinkler=1, rainfed=2),
        climate=Climate(13.5, 11.0, 500, 300, 0.4, 76),
    ),
    Region(
        "Central Aran",
        Box(40.10, 40.95, 46.95, 48.40),
        (
            District("Yevlakh", 40.62, 47.15, 20),
            District("Agdash", 40.65, 47.48, 50),
            District("Goychay", 40.65, 47.74, 100),
            District("Ujar", 40.52, 47.65, 20),
            District("Zardab", 40.22, 47.71, 0),
            District("Kurdamir", 40.34, 48.16, 0),
        ),
        farm_share=1.3,
        crops=_weights(
            cotton=3, winter_wheat=3, alfalfa=2, pomegranate=2, barley=1, tomato=1
        ),
        soils=_LOWLAND_SOILS,
        irrigation=_CANAL_IRRIGATION,
        climate=Climate(14.8, 12.5, 330, 120, 0.45, 68),
    ),
    Region(
        "Mil-Mughan",
        Box(39.50, 40.15, 47.40, 48.60),
        (
            District("Beylagan", 39.77, 47.62, 50),
            District("Imishli", 39.87, 48.06, 0),
            District("Saatli", 39.93, 48.37, 0),
            District("Sabirabad", 40.01, 48.48, 0),
        ),
        farm_share=1.2,
        crops=_weights(
            cotton=4, winter_wheat=3, alfalfa=2, barley=1, maize=1, tomato=1
        ),
        soils=_LOWLAND_SOILS,
        irrigation=_CANAL_IRRIGATION,
        climate=Climate(14.8, 12.5, 300, 110, 0.45, 68),
    ),
    Region(
        "Shirvan-Salyan",
        Box(39.20, 40.15, 48.30, 49.50),
        (
            District("Shirvan", 39.93, 48.92, 0),
            District("Hajigabul", 40.04, 48.94, 0),
            District("Salyan", 39.60, 48.98, 0),
            District("Neftchala", 39.38, 49.25, 0),
            District("Bilasuvar", 39.46, 48.55, 0),
        ),
        farm_share=1.0,
        crops=_weights(cotton=3, winter_wheat=3, alfalfa=2, barley=2, tomato=1),
        soils=_LOWLAND_SOILS,
        irrigation=_CANAL_IRRIGATION,
        climate=Climate(14.8, 12.0, 260, 300, 0.45, 70),
    ),
    Region(
        "Karabakh",
        Box(39.45, 40.45, 46.60, 47.60),
        (
            District("Barda", 40.37, 47.13, 80),
            District("Tartar", 40.34, 46.93, 100),
            District("Aghjabadi", 40.05, 47.46, 0),
            District("Agdam", 39.99, 46.93, 350),
            District("Fuzuli", 39.60, 47.15, 400),
        ),
        farm_share=0.9,
        crops=_weights(
            cotton=3, winter_wheat=3, alfalfa=2, barley=1, grape=1, pomegranate=1
        ),
        soils=_weights(grey=2, grey_meadow=2, grey_brown=2, chestnut=1),
        irrigation=_CANAL_IRRIGATION,
        climate=Climate(14.8, 12.5, 380, 120, 0.45, 67),
    ),
)

REGION_NAMES: tuple[str, ...] = tuple(region.name for region in REGIONS)
DISTRICTS: tuple[District, ...] = tuple(
    district for region in REGIONS for district in region.districts
)
DISTRICT_NAMES: tuple[str, ...] = tuple(district.name for district in DISTRICTS)
DISTRICT_REGION: MappingProxyType[str, str] = MappingProxyType(
    {district.name: region.name for region in REGIONS for district in region.districts}
)
REGION_BY_NAME: MappingProxyType[str, Region] = MappingProxyType(
    {region.name: region for region in REGIONS}
)


def plausible_crops(region: str) -> frozenset[str]:
    """Crops that are grown in ``region`` at all."""
    return frozenset(REGION_BY_NAME[region].crops)
