"""Publication dates as pages write them -> ISO 8601.

Most pages give ISO 8601 already (kept as written); the rest use RFC 2822
("Mon, 18 Nov 2019 16:07:38 -0600"), JavaScript's Date.toString() or a
"20 Nov 2019 08:02 GMT" style, which are converted. Placeholder dates
("0001-01-01") and strings that are not dates at all are rejected, so the
caller can try its next source.
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

# Dates outside this range are CMS placeholders or typos, not publication dates.
_MIN_YEAR, _MAX_YEAR = 1990, 2100
_MONTHS = {
    m: i for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_MONTH = r"(?P<month>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_DAY_MONTH_YEAR = re.compile(rf"\b{_DAY}\s+{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE)
_MONTH_DAY_YEAR = re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE)
# ISO date and time followed by something fromisoformat() refuses ("GMT", "EST").
_ISO_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?")
_TIME = re.compile(
    r"\b(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?", re.IGNORECASE
)


def _plausible(moment: datetime) -> bool:
    return _MIN_YEAR <= moment.year <= _MAX_YEAR


def _written_out(text: str) -> str | None:
    """ "20 Nov 2019 08:02 GMT", "Nov 20, 2019 01:38 PM": date and local time,
    without a zone (written-out zones are ambiguous)."""
    match = _DAY_MONTH_YEAR.search(text) or _MONTH_DAY_YEAR.search(text)
    if match is None:
        return None
    year, day = int(match["year"]), int(match["day"])
    month = _MONTHS[match["month"][:3].lower()]
    hour = minute = second = 0
    clock = _TIME.search(text)
    if clock is not None:
        hour, minute, second = int(clock["h"]), int(clock["m"]), int(clock["s"] or 0)
        ampm = (clock["ampm"] or "").lower()
        if ampm.startswith("p") and hour < 12:
            hour += 12
        elif ampm.startswith("a") and hour == 12:
            hour = 0
    try:
        moment = datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None
    if not _plausible(moment):
        return None
    return moment.isoformat() if clock is not None else moment.date().isoformat()


def iso_date(text: str | None) -> str | None:
    """``text`` as an ISO 8601 date(-time), or None when it is not a plausible date."""
    if not text:
        return None
    text = text.strip()
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        return text if _plausible(moment) else None
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        pass
    else:
        return moment.isoformat() if _plausible(moment) else None
    prefix = _ISO_PREFIX.match(text)
    if prefix is not None:
        try:
            moment = datetime.fromisoformat(prefix.group())
        except ValueError:
            return None
        return prefix.group() if _plausible(moment) else None
    return _written_out(text)
