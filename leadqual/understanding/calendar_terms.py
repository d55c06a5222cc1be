"""Calendar words of timing answers: seasons, holidays, vacations, quarters, halves, fiscal years.

Tables and month arithmetic only; the patterns that find these words in a visitor's message
are in leadqual/understanding/parsing.py ("Timing"). Everything is counted in calendar months by month
number ("month index" = year * 12 + month - 1), so with today in September December is 3
months away and January 4, whatever the day.

A `Period` is one occurrence of a season, quarter, holiday...: its first month and how many
months it lasts, plus the month that "before", "at the end of" and "after" it mean:

- seasons (northern hemisphere unless told otherwise) start in March, June, September and
  December and run until the month the next one starts (summer: June 21 to September 22).
  "Before summer" is June, "the end of summer" September and "after summer" October; a month
  is "in" a season from its start month to the month before the next season starts.
- quarters and halves start on the 1st, so "before Q3" is June (the last month before it) and
  "after Q3" is October; so do fiscal years, unless configured otherwise (a fiscal year from
  April 6 ends in April and "before" it is April).
- holidays last one month; "after" is the next month except for holidays at the start of a
  month (Reyes on January 6, US Labor Day).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import NamedTuple

from dateutil.easter import easter


class Period(NamedTuple):
    start: int  # month index of its first month
    length: int  # months it lasts (the months "in" it)
    end: int  # month index that "at the end of" it means
    before: int  # month index that "before" it means
    after: int  # month index that "after" it means


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def period(start: int, length: int) -> Period:
    """A period starting on the 1st of its first month (quarters, halves): "before" is the month
    before it, "at the end" its last month, "after" the month following it."""
    return Period(start, length, start + length - 1, start - 1, start + length)


# ---------------------------------------------------------------------------
# Seasons
# ---------------------------------------------------------------------------

SEASON_START = {
    "north": {"spring": 3, "summer": 6, "autumn": 9, "winter": 12},
    "south": {"spring": 9, "summer": 12, "autumn": 3, "winter": 6},
}
SEASON_WORDS = {
    "primavera": "spring",
    "verano": "summer",
    "otono": "autumn",
    "invierno": "winter",
    "spring": "spring",
    "springtime": "spring",
    "summer": "summer",
    "summertime": "summer",
    "autumn": "autumn",
    "fall": "autumn",
    "winter": "winter",
    "wintertime": "winter",
}


def season(name: str, year: int, hemisphere: str) -> Period:
    """The season `name` that starts in `year` (a northern winter starts in December)."""
    start = month_index(year, SEASON_START[hemisphere][name])
    # It starts around the 21st, so "before" is its start month; it ends in the month the next
    # season starts, and "after" is the month following that.
    return Period(start, 3, start + 3, start, start + 4)


# Summer vacations: July-August in the north (June-August at school), January-February in
# the south; "after" them is September / March. Winter vacations: Christmas in the north,
# July in the south (Chile, Argentina, Uruguay...).
def summer_vacation(year: int, hemisphere: str) -> Period:
    start = month_index(year, 6 if hemisphere == "north" else 12)
    return Period(start, 3, start + 2, start, start + 3)


def winter_vacation(year: int, hemisphere: str) -> Period:
    if hemisphere == "north":
        return holiday("christmas", year)
    return holiday_period(month_index(year, 7), month_index(year, 8))


def vacation_around(today: date, hemisphere: str) -> Period | None:
    """The vacation a bare "después de vacaciones" said today means, or None when unclear.

    North: said in June-August it is the summer vacation, in November-December Christmas.
    South: said in December-February the summer vacation, in June-July the winter one.
    Other months it could be any of them (or Easter): the caller answers "unknown".
    """
    m, y = today.month, today.year
    if hemisphere == "north":
        if 6 <= m <= 8:
            return summer_vacation(y, hemisphere)
        if m >= 11:
            return holiday("christmas", y)
        return None
    if m == 12:
        return summer_vacation(y, hemisphere)
    if m <= 2:
        return summer_vacation(y - 1, hemisphere)
    if 6 <= m <= 7:
        return winter_vacation(y, hemisphere)
    return None


# ---------------------------------------------------------------------------
# Where the visitor is (only when the message names a country or city)
# ---------------------------------------------------------------------------

_SOUTH_PLACES = re.compile(
    r"\b(?:argentina|chile|uruguay|paraguay|peru|bolivia|brasil|brazil|australia|nueva zelanda|new zealand"
    r"|sudafrica|south africa|buenos aires|santiago(?! de (?:compostela|queretaro|cuba|los caballeros))"
    r"|valparaiso|vina del mar|antofagasta|temuco|puerto montt|punta arenas|montevideo|punta del este"
    r"|lima|arequipa|cusco|cuzco|mendoza|mar del plata|bariloche|tucuman|neuquen|cochabamba"
    r"|sao paulo|rio de janeiro|sydney|melbourne|auckland|johannesburg|cape town)\b"
)
_NORTH_PLACES = re.compile(
    r"\b(?:espana|spain|mexico|colombia|venezuela|guatemala|costa rica|panama|cuba|puerto rico"
    r"|republica dominicana|estados unidos|eeuu|ee\.? ?uu|usa|united states|canada|uk|united kingdom"
    r"|reino unido|england|inglaterra|scotland|escocia|ireland|irlanda|madrid|barcelona|valencia|sevilla"
    r"|bilbao|malaga|zaragoza|cdmx|ciudad de mexico|guadalajara|monterrey|bogota|medellin|new york"
    r"|nueva york|chicago|miami|texas|california|london|londres|manchester)\b"
)


def hemisphere_named(t: str) -> str | None:
    """ "south"/"north" when the normalized text names places of one hemisphere only."""
    south, north = bool(_SOUTH_PLACES.search(t)), bool(_NORTH_PLACES.search(t))
    if south == north:
        return None
    return "south" if south else "north"


# Countries (ISO 3166 alpha-2) where summer is December to February.
SOUTHERN_COUNTRIES = frozenset({"AR", "AU", "BO", "BR", "CL", "NZ", "PE", "PY", "UY", "ZA"})
_LOCALE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z]{4})?[-_]([A-Za-z]{2})(?:[-_].*)?$")


def hemisphere_of_locale(locale: object) -> str:
    """ "south" for a browser locale of a southern country ("es-AR", "es_CL", "en-AU"), else
    "north". The locale comes from the browser: anything else (not a string, too long, no
    region) is the north, the product's default."""
    if not isinstance(locale, str) or len(locale) > 35:
        return "north"
    m = _LOCALE.match(locale.strip())
    return "south" if m and m.group(1).upper() in SOUTHERN_COUNTRIES else "north"


_COUNTRIES = re.compile(r"\b(?:chile|chilen[oa]s?|peru|peruan[oa]s?|mexico|mexican[oa]s?)\b")


def country_named(t: str) -> str | None:
    """ "chile", "peru" or "mexico" when the text names one of them (for fiestas patrias)."""
    m = _COUNTRIES.search(t)
    if m is None:
        return None
    return next(c for c in ("chile", "peru", "mexico") if m.group().startswith(c[:4]))


# ---------------------------------------------------------------------------
# Holidays
# ---------------------------------------------------------------------------

# Fixed-date holidays: (month, the month "after" it means).
_FIXED_HOLIDAYS = {
    "christmas": (12, 1),
    "reyes": (1, 1),  # January 6: "después de Reyes" is still January
    "thanksgiving": (11, 12),  # US, fourth Thursday of November
    "black_friday": (11, 12),
    "buen_fin": (11, 12),  # Mexico, mid-November
    "memorial_day": (5, 6),  # US, last Monday of May
    "labor_day": (9, 9),  # US, first Monday of September
}
# Fiestas patrias: Chile September 18, Peru July 28, Mexico September 16; September when the
# country is not named.
FIESTAS_PATRIAS = {"chile": (9, 10), "peru": (7, 8), "mexico": (9, 10), None: (9, 10)}


def holiday_period(start: int, after: int) -> Period:
    return Period(start, 1, start, start, after)


def holiday(name: str, year: int, country: str | None = None) -> Period:
    """The holiday `name` of `year` (Easter and Carnival computed for that year)."""
    if name == "easter":
        month = easter(year).month
        return holiday_period(month_index(year, month), month_index(year, month) + 1)
    if name == "carnival":  # Carnival Tuesday is 47 days before Easter Sunday
        month = (easter(year) - timedelta(days=47)).month
        return holiday_period(month_index(year, month), month_index(year, month) + 1)
    if name == "fiestas_patrias":
        month, after = FIESTAS_PATRIAS.get(country, FIESTAS_PATRIAS[None])
    else:
        month, after = _FIXED_HOLIDAYS[name]
    after_year = year + 1 if after < month else year
    return holiday_period(month_index(year, month), month_index(after_year, after))


# ---------------------------------------------------------------------------
# Quarters, halves, fiscal years
# ---------------------------------------------------------------------------


def calendar_quarter(q: int, year: int) -> Period:
    return period(month_index(year, 3 * q - 2), 3)


def calendar_half(h: int, year: int) -> Period:
    return period(month_index(year, 6 * h - 5), 6)


def _on(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def fiscal_year_containing(today: date, start: tuple[int, int]) -> int:
    """The calendar year in which the fiscal year containing `today` started."""
    month, day = start
    return today.year if today >= _on(today.year, month, day) else today.year - 1


def fiscal_year(start_year: int, start: tuple[int, int]) -> Period:
    """The fiscal year starting in `start_year`; its end is the month of its last day."""
    month, day = start
    first = month_index(start_year, month)
    last_day = _on(start_year + 1, month, day) - timedelta(days=1)
    last = month_index(last_day.year, last_day.month)
    return Period(first, 12, last, first - 1 if day == 1 else first, last + 1)


def fiscal_part(start_year: int, start: tuple[int, int], n: int, size: int) -> Period:
    """Quarter (size 3) or half (size 6) number `n` of the fiscal year starting in `start_year`."""
    return period(month_index(start_year, start[0]) + size * (n - 1), size)
