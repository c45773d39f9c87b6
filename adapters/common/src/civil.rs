//! Civil dates (proleptic Gregorian) as day numbers since 1970-01-01, the one piece of calendar
//! arithmetic the adapters' date parsers and the gateway's working-day calendar share. The
//! arithmetic is the `time` crate's; this module only fixes the epoch and the number types.
use time::{Date, Month};

/// Julian day number of 1970-01-01.
const UNIX_EPOCH_JULIAN_DAY: i64 = 2_440_588;

/// The first and last day numbers this module covers: -9999-01-01 and 9999-12-31.
pub const DAY_RANGE: (i64, i64) = (
    Date::MIN.to_julian_day() as i64 - UNIX_EPOCH_JULIAN_DAY,
    Date::MAX.to_julian_day() as i64 - UNIX_EPOCH_JULIAN_DAY,
);

/// The day number of `y-m-d`, or None when that is not a real date (30 February, month 13) or
/// lies outside the years -9999..=9999.
pub fn day_number(y: i64, m: u32, d: u32) -> Option<i64> {
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()?;
    Some(i64::from(date.to_julian_day()) - UNIX_EPOCH_JULIAN_DAY)
}

/// `(year, month, day)` of a day number, or None outside the years -9999..=9999.
pub fn civil(day: i64) -> Option<(i64, u32, u32)> {
    let julian = i32::try_from(day.checked_add(UNIX_EPOCH_JULIAN_DAY)?).ok()?;
    let date = Date::from_julian_day(julian).ok()?;
    Some((
        i64::from(date.year()),
        u32::from(u8::from(date.month())),
        u32::from(date.day()),
    ))
}

/// A run of ASCII digits as a number: no sign, no spaces, nothing else. None when `s` is empty,
/// holds anything but digits, or does not fit (a long digit string must not overflow later
/// arithmetic).
pub fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_numbers_round_trip_and_match_known_dates() {
        assert_eq!(day_number(1970, 1, 1), Some(0));
        assert_eq!(day_number(2026, 11, 23), Some(20_780));
        assert_eq!(day_number(1969, 12, 31), Some(-1));
        for day in [-1000, 0, 19_000, 20_454, 20_819, 40_000, 2_900_000] {
            let (y, m, d) = civil(day).expect("in range");
            assert_eq!(day_number(y, m, d), Some(day));
        }
    }

    #[test]
    fn unreal_dates_are_none() {
        assert_eq!(day_number(2026, 2, 29), None);
        assert_eq!(day_number(2024, 2, 29).map(|d| d > 0), Some(true));
        assert_eq!(day_number(2026, 13, 1), None);
        assert_eq!(day_number(2026, 0, 1), None);
        assert_eq!(day_number(2026, 4, 31), None);
        assert_eq!(day_number(2026, 1, 0), None);
        assert_eq!(day_number(99_999, 1, 1), None);
        assert_eq!(civil(DAY_RANGE.0), Some((-9999, 1, 1)));
        assert_eq!(civil(DAY_RANGE.1), Some((9999, 12, 31)));
        assert_eq!(civil(DAY_RANGE.0 - 1), None);
        assert_eq!(civil(DAY_RANGE.1 + 1), None);
        assert_eq!(civil(i64::MAX), None);
        assert_eq!(civil(10_000_000), None);
    }

    #[test]
    fn digits_are_digits_only() {
        assert_eq!(digits("0815"), Some(815));
        for s in ["", "+8", "-1", " 1", "1a", "99999999999999999999"] {
            assert_eq!(digits(s), None, "{s:?}");
        }
    }
}
