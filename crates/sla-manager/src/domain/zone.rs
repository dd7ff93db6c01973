//! The time zone of a calendar objective: UTC, a fixed offset (`+02:00`) or an IANA zone
//! (`Europe/Paris`, from chrono-tz's copy of the tz database), and where its days begin, so
//! that a month or week starts at local midnight on either side of a DST change.

use chrono::{DateTime, Duration, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

/// How far past local midnight a day's first instant may be: a DST gap is at most 2 hours
/// (Antarctica/Troll's), and never a whole day.
const LONGEST_GAP_MINUTES: i64 = 180;

/// A calendar objective's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    /// A fixed offset from UTC (UTC itself is `+00:00`).
    Fixed(FixedOffset),
    /// An IANA time zone, with its DST rules.
    Iana(Tz),
}

impl Zone {
    /// UTC.
    pub fn utc() -> Self {
        Self::Fixed(FixedOffset::east_opt(0).expect("0 is a valid offset"))
    }

    /// Reads `UTC` (or `Z`, `Etc/UTC`), a fixed offset `±HH:MM` up to 14 hours, or an IANA
    /// zone name.
    pub fn parse(text: &str) -> Option<Self> {
        if matches!(text, "UTC" | "Z" | "Etc/UTC") {
            return Some(Self::utc());
        }
        if text.starts_with(['+', '-']) {
            return parse_offset(text).map(Self::Fixed);
        }
        text.parse::<Tz>().ok().map(Self::Iana)
    }

    /// As the set gives it: `UTC`, `+02:00` or `Europe/Paris`.
    pub fn text(self) -> String {
        match self {
            Self::Fixed(offset) if offset.local_minus_utc() == 0 => "UTC".to_owned(),
            Self::Fixed(offset) => offset.to_string(),
            Self::Iana(zone) => zone.name().to_owned(),
        }
    }

    /// The local date at `at` (unix seconds).
    pub fn date(self, at: i64) -> Option<NaiveDate> {
        let utc = DateTime::from_timestamp(at, 0)?;
        Some(match self {
            Self::Fixed(offset) => utc.with_timezone(&offset).date_naive(),
            Self::Iana(zone) => utc.with_timezone(&zone).date_naive(),
        })
    }

    /// The unix seconds of `day`'s first instant: local midnight, or, where a DST change skips
    /// midnight (America/Asuncion's spring), the first local time after the gap; where
    /// midnight comes twice, the first.
    pub fn start_of_day(self, day: NaiveDate) -> Option<i64> {
        let midnight = day.and_hms_opt(0, 0, 0)?;
        match self {
            Self::Fixed(offset) => first_instant(&offset, midnight),
            Self::Iana(zone) => first_instant(&zone, midnight),
        }
    }
}

fn first_instant<Z: TimeZone>(zone: &Z, midnight: NaiveDateTime) -> Option<i64> {
    (0..=LONGEST_GAP_MINUTES).find_map(|minutes| {
        match zone.from_local_datetime(&(midnight + Duration::minutes(minutes))) {
            LocalResult::Single(t) => Some(t.timestamp()),
            LocalResult::Ambiguous(first, _) => Some(first.timestamp()),
            LocalResult::None => None,
        }
    })
}

fn parse_offset(text: &str) -> Option<FixedOffset> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let (hours, minutes) = rest.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes): (i32, i32) = (hours.parse().ok()?, minutes.parse().ok()?);
    if hours > 14 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn unix(text: &str) -> i64 {
        text.parse::<DateTime<chrono::Utc>>().unwrap().timestamp()
    }

    #[test]
    fn zones_parse_and_read_back_as_given() {
        for text in [
            "UTC",
            "+02:00",
            "-05:30",
            "Europe/Paris",
            "America/New_York",
        ] {
            assert_eq!(Zone::parse(text).map(Zone::text).as_deref(), Some(text));
        }
        assert_eq!(Zone::parse("Z"), Some(Zone::utc()));
        for bad in ["Europe/Pariss", "+2:00", "+15:00", "", "paris"] {
            assert_eq!(Zone::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn days_start_at_local_midnight_across_dst() {
        let paris = Zone::parse("Europe/Paris").unwrap();
        // Winter (+01:00) and summer (+02:00) midnights.
        assert_eq!(
            paris.start_of_day(day(2026, 3, 1)),
            Some(unix("2026-02-28T23:00:00Z"))
        );
        assert_eq!(
            paris.start_of_day(day(2026, 4, 1)),
            Some(unix("2026-03-31T22:00:00Z"))
        );
        // 2026-03-29T00:30Z is 01:30 in Paris, before the change at 02:00: still the 29th.
        assert_eq!(
            paris.date(unix("2026-03-29T00:30:00Z")),
            Some(day(2026, 3, 29))
        );
        // Asuncion skipped midnight on 2023-10-01 (00:00 -04 became 01:00 -03): the day began
        // at 01:00 local, 04:00 UTC.
        let asuncion = Zone::parse("America/Asuncion").unwrap();
        assert_eq!(
            asuncion.start_of_day(day(2023, 10, 1)),
            Some(unix("2023-10-01T04:00:00Z"))
        );
        let fixed = Zone::parse("+02:00").unwrap();
        assert_eq!(
            fixed.start_of_day(day(2026, 3, 1)),
            Some(unix("2026-02-28T22:00:00Z"))
        );
    }
}
