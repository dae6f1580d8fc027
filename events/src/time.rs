//! Strict civil dates and instants for the ledger.
//!
//! The ledger hashes the text of every event, so each type here has exactly one
//! canonical text form: parsing accepts only that form and `Display` produces
//! it, which makes parse and display exact inverses. Nothing in this module
//! reads the system clock; instants only ever come from input.
//!
//! China has used UTC+8 without daylight saving time since 1991, so the
//! Shanghai day of an instant is computed with a fixed offset of +08:00. Instants
//! inside the summers of 1986–1991, when China did observe DST, are therefore
//! mapped with standard time; the ledger's cases begin in 2005.

use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Why a date or time was refused. Every variant quotes the refused input so
/// that an operator can find it in the request that carried it.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TimeError {
    /// The text does not have the one accepted shape.
    #[error("{input:?} is not in the accepted format: expected {expected}")]
    BadFormat {
        input: String,
        expected: &'static str,
    },
    /// The value has the right shape but lies outside the supported range.
    #[error("{input} is outside the supported range ({range})")]
    OutOfRange { input: String, range: &'static str },
    /// The month or day does not exist, such as 2006-02-30 or month 13.
    #[error("{input:?} is not a calendar date: {reason}")]
    NoSuchDate { input: String, reason: String },
    /// The hour, minute or second does not exist, such as 24:00:00 or a leap second.
    #[error("{input:?} is not a time of day: hours run 00-23, minutes and seconds 00-59")]
    NoSuchTime { input: String },
    /// A business time written with "Z", which hides the offset the party stated.
    #[error(
        "{input:?} uses \"Z\": a business time must state its offset explicitly, write +00:00 for UTC"
    )]
    ZuluOffset { input: String },
    /// "-00:00" would not survive a display round trip, because offset zero displays as "+00:00".
    #[error("{input:?} uses the offset -00:00: write +00:00")]
    NegativeZeroOffset { input: String },
    /// UTC offsets in use world-wide lie within ±14:00.
    #[error("{input}: the UTC offset is beyond ±14:00 (±840 minutes)")]
    OffsetOutOfRange { input: String },
    /// The canonical business-time text has no milliseconds, so an instant with
    /// milliseconds could not be displayed and parsed back unchanged.
    #[error("{input} has milliseconds, but a business time is stated to the whole second")]
    NotWholeSecond { input: String },
}

/// The range of years shared by every type here: four digits in the text forms,
/// and nothing earlier than the modern calendar needs.
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 9999;
const DATE_RANGE: &str = "years 1900 to 9999";
const TIMESTAMP_RANGE: &str = "1900-01-01T00:00:00.000Z to 9999-12-31T15:59:59.999Z";

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
const MS_PER_DAY: i64 = 86_400_000;
/// Shanghai is UTC+8 all year round (see the module comment on DST).
const SHANGHAI_OFFSET_MS: i64 = 8 * 60 * MS_PER_MINUTE;
/// The largest offset in use anywhere (Line Islands, +14:00); -12:00 is the
/// smallest, but the symmetric bound is what the interface promises.
const MAX_OFFSET_MINUTES: i32 = 14 * 60;

const DATE_FORMAT: &str = "YYYY-MM-DD, e.g. 2006-02-24";
const TIMESTAMP_FORMAT: &str = "YYYY-MM-DDTHH:MM:SS.mmmZ, e.g. 2006-02-24T01:30:00.000Z";
const OFFSET_TIME_FORMAT: &str = "YYYY-MM-DDTHH:MM:SS+HH:MM, e.g. 2006-02-24T09:30:00+08:00";

/// Days from 1970-01-01 to the given proleptic Gregorian date. This is
/// Howard Hinnant's `days_from_civil`, which works on 400-year eras so that
/// no loop or table is needed; callers pass a valid date.
const fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    // Counting years from March puts the leap day at the end of the year.
    let y = if m <= 2 { y as i64 - 1 } else { y as i64 };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of `days_from_civil`.
const fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + if m <= 2 { 1 } else { 0 };
    (y as i32, m, d)
}

const MIN_DAYS: i64 = days_from_civil(MIN_YEAR, 1, 1);
const MAX_DAYS: i64 = days_from_civil(MAX_YEAR, 12, 31);

/// A civil date (proleptic Gregorian), years 1900..=9999.
///
/// The fields are ordered year, month, day so that the derived ordering is
/// chronological.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u32,
    day: u32,
}

impl Date {
    /// The earliest supported date, 1900-01-01.
    pub const MIN: Date = Date {
        year: MIN_YEAR,
        month: 1,
        day: 1,
    };
    /// The latest supported date, 9999-12-31.
    pub const MAX: Date = Date {
        year: MAX_YEAR,
        month: 12,
        day: 31,
    };

    /// Builds a date, refusing months and days that do not exist and years
    /// outside 1900..=9999.
    pub fn from_ymd(y: i32, m: u32, d: u32) -> Result<Date, TimeError> {
        Self::checked(y, m, d, || format!("year {y}, month {m}, day {d}"))
    }

    /// The shared validation of `from_ymd` and `parse`; `input` gives what
    /// the error messages quote (written only when there is an error).
    fn checked(y: i32, m: u32, d: u32, input: impl FnOnce() -> String) -> Result<Date, TimeError> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
            return Err(TimeError::OutOfRange {
                input: input(),
                range: DATE_RANGE,
            });
        }
        if !(1..=12).contains(&m) {
            return Err(TimeError::NoSuchDate {
                input: input(),
                reason: format!("there is no month {m}"),
            });
        }
        let last = Self::days_in_month(y, m);
        if d == 0 || d > last {
            return Err(TimeError::NoSuchDate {
                input: input(),
                reason: format!("month {m} of {y} has days 1 to {last}"),
            });
        }
        Ok(Date {
            year: y,
            month: m,
            day: d,
        })
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn month(&self) -> u32 {
        self.month
    }

    pub fn day(&self) -> u32 {
        self.day
    }

    /// Parses exactly `YYYY-MM-DD`: no sign, no spaces, no single-digit
    /// months or days, so that each date has one text in the ledger.
    pub fn parse(s: &str) -> Result<Date, TimeError> {
        let bad = || TimeError::BadFormat {
            input: s.to_string(),
            expected: DATE_FORMAT,
        };
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let y = digits(b, 0, 4).ok_or_else(bad)?;
        let m = digits(b, 5, 2).ok_or_else(bad)?;
        let d = digits(b, 8, 2).ok_or_else(bad)?;
        // Four ASCII digits always fit in an i32.
        Self::checked(y as i32, m, d, || format!("{s:?}"))
    }

    /// Days since 1970-01-01, which is day 0; earlier dates are negative.
    pub fn days_since_epoch(&self) -> i64 {
        days_from_civil(self.year, self.month, self.day)
    }

    pub fn from_days_since_epoch(d: i64) -> Result<Date, TimeError> {
        if !(MIN_DAYS..=MAX_DAYS).contains(&d) {
            return Err(TimeError::OutOfRange {
                input: format!("day {d} since 1970-01-01"),
                range: DATE_RANGE,
            });
        }
        let (year, month, day) = civil_from_days(d);
        Ok(Date { year, month, day })
    }

    /// ISO weekday: 1 is Monday, 7 is Sunday.
    pub fn weekday(&self) -> u32 {
        // Day 0, 1970-01-01, was a Thursday (4).
        (self.days_since_epoch() + 3).rem_euclid(7) as u32 + 1
    }

    /// The date `n` days later (earlier when negative).
    pub fn add_days(&self, n: i64) -> Result<Date, TimeError> {
        match self.days_since_epoch().checked_add(n) {
            Some(days) => Self::from_days_since_epoch(days),
            None => Err(TimeError::OutOfRange {
                input: format!("{self} plus {n} days"),
                range: DATE_RANGE,
            }),
        }
    }

    /// The number of days of month `m` (1–12) of year `y`; 0 for a month that
    /// does not exist, so that no day of it passes validation.
    pub fn days_in_month(y: i32, m: u32) -> u32 {
        match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if Self::is_leap_year(y) => 29,
            2 => 28,
            _ => 0,
        }
    }

    /// Gregorian rule: every fourth year, except centuries not divisible by 400.
    pub fn is_leap_year(y: i32) -> bool {
        (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
    }

    /// The corresponding date `n` months later; when the target month has no
    /// such day, its last day (Civil Code art. 203: a period in months ends on
    /// the corresponding day, or the month's last day when there is none).
    pub fn add_months(&self, n: u32) -> Result<Date, TimeError> {
        let months = i64::from(self.year) * 12 + i64::from(self.month - 1) + i64::from(n);
        let year = months.div_euclid(12);
        // rem_euclid(12) lies in 0..12, so the month is 1..=12.
        let month = months.rem_euclid(12) as u32 + 1;
        if year > i64::from(MAX_YEAR) {
            return Err(TimeError::OutOfRange {
                input: format!("{self} plus {n} months"),
                range: DATE_RANGE,
            });
        }
        // The year is within MIN_YEAR..=MAX_YEAR here, so it fits in an i32.
        let year = year as i32;
        let day = self.day.min(Self::days_in_month(year, month));
        Ok(Date { year, month, day })
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = date_text(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        f.write_str(std::str::from_utf8(&t).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = date_text(
            i64::from(self.year),
            i64::from(self.month),
            i64::from(self.day),
        );
        s.serialize_str(std::str::from_utf8(&t).unwrap_or_default())
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor(Date::parse))
    }
}

/// Reads `len` ASCII digits starting at `at`; `None` if any byte is not a
/// digit. Callers have checked the length of `b`.
fn digits(b: &[u8], at: usize, len: usize) -> Option<u32> {
    b.get(at..at + len)?.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

/// Parses the date and time of day that start both instant forms
/// ("YYYY-MM-DDTHH:MM:SS", 19 bytes) into milliseconds since the epoch as if
/// the time were UTC. `s` is the whole input, quoted by the errors.
fn parse_date_time(s: &str, expected: &'static str) -> Result<i64, TimeError> {
    let bad = || TimeError::BadFormat {
        input: s.to_string(),
        expected,
    };
    let b = s.as_bytes();
    if b.len() < 19 || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return Err(bad());
    }
    // `get` fails only if byte 10 is not a character boundary, which the
    // check above has already ruled out; it still avoids a panicking slice.
    let date = Date::parse(s.get(..10).ok_or_else(bad)?).map_err(|e| match e {
        // The date part alone is not what the caller typed: quote the whole input.
        TimeError::BadFormat { .. } => bad(),
        TimeError::OutOfRange { range, .. } => TimeError::OutOfRange {
            input: format!("{s:?}"),
            range,
        },
        TimeError::NoSuchDate { reason, .. } => TimeError::NoSuchDate {
            input: s.to_string(),
            reason,
        },
        other => other,
    })?;
    let h = digits(b, 11, 2).ok_or_else(bad)?;
    let mi = digits(b, 14, 2).ok_or_else(bad)?;
    let se = digits(b, 17, 2).ok_or_else(bad)?;
    if h > 23 || mi > 59 || se > 59 {
        return Err(TimeError::NoSuchTime {
            input: s.to_string(),
        });
    }
    Ok(date.days_since_epoch() * MS_PER_DAY
        + (i64::from(h) * 3_600 + i64::from(mi) * 60 + i64::from(se)) * MS_PER_SECOND)
}

/// Reads a time or date from its text without allocating it first (the
/// deserializer hands over a borrowed or transient `&str`).
struct TextVisitor<T>(fn(&str) -> Result<T, TimeError>);

impl<T> serde::de::Visitor<'_> for TextVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a date or time in its canonical text form")
    }

    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<T, E> {
        (self.0)(s).map_err(E::custom)
    }
}

/// Writes `n` as exactly `out.len()` decimal digits (callers pass values that fit).
fn put_digits(out: &mut [u8], mut n: i64) {
    for b in out.iter_mut().rev() {
        // n stays within 0..10^len, so the remainder is one digit.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let digit = n.rem_euclid(10) as u8;
        *b = b'0' + digit;
        n /= 10;
    }
}

/// "YYYY-MM-DD" of a supported year (1900..=9999, always four digits).
fn date_text(y: i64, m: i64, d: i64) -> [u8; 10] {
    let mut t = *b"0000-00-00";
    put_digits(&mut t[0..4], y);
    put_digits(&mut t[5..7], m);
    put_digits(&mut t[8..10], d);
    t
}

/// The text of a time, in a fixed buffer: "YYYY-MM-DDTHH:MM:SS" then ".mmmZ"
/// (a [`Timestamp`]) or "±HH:MM" (an [`OffsetTime`]). Digits are put in
/// place: times are written for every record, snapshot and answer, and
/// `write!` with zero padding cost several times more.
struct TimeText {
    buf: [u8; 25],
    len: usize,
}

impl TimeText {
    /// Milliseconds since the epoch as "YYYY-MM-DDTHH:MM:SS", within the date range.
    fn date_time(ms: i64) -> TimeText {
        let days = ms.div_euclid(MS_PER_DAY);
        let in_day = ms.rem_euclid(MS_PER_DAY);
        let (y, m, d) = civil_from_days(days);
        let mut buf = *b"0000-00-00T00:00:00______";
        buf[..10].copy_from_slice(&date_text(i64::from(y), i64::from(m), i64::from(d)));
        put_digits(&mut buf[11..13], in_day / 3_600_000);
        put_digits(&mut buf[14..16], in_day / 60_000 % 60);
        put_digits(&mut buf[17..19], in_day / 1_000 % 60);
        TimeText { buf, len: 19 }
    }

    fn push(&mut self, byte: u8) {
        self.buf[self.len] = byte;
        self.len += 1;
    }

    fn push_digits(&mut self, n: i64, width: usize) {
        put_digits(&mut self.buf[self.len..self.len + width], n);
        self.len += width;
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever put in the buffer.
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or_default()
    }
}

/// An instant: milliseconds since the Unix epoch, UTC.
///
/// Canonical text: exactly "YYYY-MM-DDTHH:MM:SS.mmmZ" (24 characters).
/// The range is 1900-01-01T00:00:00.000Z to 9999-12-31T15:59:59.999Z: the
/// upper end is the last instant whose Shanghai date (UTC+8) is still a
/// supported `Date`, so that `shanghai_date` can never fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The earliest supported instant, 1900-01-01T00:00:00.000Z.
    pub const MIN: Timestamp = Timestamp(MIN_DAYS * MS_PER_DAY);
    /// The latest supported instant, 9999-12-31T15:59:59.999Z (23:59:59.999 in Shanghai).
    pub const MAX: Timestamp = Timestamp((MAX_DAYS + 1) * MS_PER_DAY - SHANGHAI_OFFSET_MS - 1);

    pub fn from_unix_millis(ms: i64) -> Result<Self, TimeError> {
        if !(Self::MIN.0..=Self::MAX.0).contains(&ms) {
            return Err(TimeError::OutOfRange {
                input: format!("{ms} ms since the Unix epoch"),
                range: TIMESTAMP_RANGE,
            });
        }
        Ok(Timestamp(ms))
    }

    pub fn unix_millis(&self) -> i64 {
        self.0
    }

    /// Parses strictly the canonical form "YYYY-MM-DDTHH:MM:SS.mmmZ": the
    /// milliseconds and the upper-case "Z" are required and no offset is
    /// accepted, so that each instant has exactly one text.
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let bad = || TimeError::BadFormat {
            input: s.to_string(),
            expected: TIMESTAMP_FORMAT,
        };
        let b = s.as_bytes();
        if b.len() != 24 || b[19] != b'.' || b[23] != b'Z' {
            return Err(bad());
        }
        let base = parse_date_time(s, TIMESTAMP_FORMAT)?;
        let milli = digits(b, 20, 3).ok_or_else(bad)?;
        let ms = base + i64::from(milli);
        if !(Self::MIN.0..=Self::MAX.0).contains(&ms) {
            return Err(TimeError::OutOfRange {
                input: format!("{s:?}"),
                range: TIMESTAMP_RANGE,
            });
        }
        Ok(Timestamp(ms))
    }

    /// The calendar day in Shanghai (UTC+8) that contains this instant.
    pub fn shanghai_date(&self) -> Date {
        let days = (self.0 + SHANGHAI_OFFSET_MS).div_euclid(MS_PER_DAY);
        // The range of Timestamp is chosen so that its Shanghai day is always
        // a supported Date; the fallback is therefore never taken.
        Date::from_days_since_epoch(days).unwrap_or(if days < MIN_DAYS {
            Date::MIN
        } else {
            Date::MAX
        })
    }

    /// The instant a due day ends: 24:00 Shanghai time of `d`, that is 00:00
    /// +08:00 of the next day. A deadline is met by any instant strictly
    /// before it.
    ///
    /// This fails only for 9999-12-31, whose end lies past the last supported
    /// instant.
    pub fn from_shanghai_date_end(d: Date) -> Result<Timestamp, TimeError> {
        let ms = (d.days_since_epoch() + 1) * MS_PER_DAY - SHANGHAI_OFFSET_MS;
        Self::from_unix_millis(ms).map_err(|_| TimeError::OutOfRange {
            input: format!("the end of {d} in Shanghai"),
            range: TIMESTAMP_RANGE,
        })
    }
}

impl Timestamp {
    fn text(&self) -> TimeText {
        let mut t = TimeText::date_time(self.0);
        t.push(b'.');
        t.push_digits(self.0.rem_euclid(1_000), 3);
        t.push(b'Z');
        t
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text().as_str())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor(Timestamp::parse))
    }
}

/// A business time with the UTC offset it was stated in, such as the moment
/// an enterprise says it filed a complaint.
///
/// Canonical text: exactly "YYYY-MM-DDTHH:MM:SS+HH:MM" or "...-HH:MM"
/// (25 characters). "Z" and "-00:00" are refused because they would not
/// display back as written; offsets lie within ±14:00. Both the local time
/// and the instant must lie in the supported range.
///
/// Two values are equal only if both instant and offset are equal. The order
/// is by instant, and by offset between equal instants, so that it agrees with
/// equality as `Ord` requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OffsetTime {
    instant: Timestamp,
    offset_minutes: i32,
}

impl OffsetTime {
    /// Combines an instant with the offset it is to be stated in. The instant
    /// must be a whole second (the text has no milliseconds) and its local
    /// date must lie within 1900..=9999.
    pub fn new(instant: Timestamp, offset_minutes: i32) -> Result<Self, TimeError> {
        if offset_minutes.abs() > MAX_OFFSET_MINUTES {
            return Err(TimeError::OffsetOutOfRange {
                input: format!("offset of {offset_minutes} minutes"),
            });
        }
        if instant.0.rem_euclid(MS_PER_SECOND) != 0 {
            return Err(TimeError::NotWholeSecond {
                input: instant.to_string(),
            });
        }
        let local_ms = instant.0 + i64::from(offset_minutes) * MS_PER_MINUTE;
        if !(MIN_DAYS..=MAX_DAYS).contains(&local_ms.div_euclid(MS_PER_DAY)) {
            return Err(TimeError::OutOfRange {
                input: format!("{instant} at offset {offset_minutes} minutes"),
                range: DATE_RANGE,
            });
        }
        Ok(OffsetTime {
            instant,
            offset_minutes,
        })
    }

    /// Parses exactly "YYYY-MM-DDTHH:MM:SS+HH:MM" or "-HH:MM".
    pub fn parse(s: &str) -> Result<Self, TimeError> {
        let bad = || TimeError::BadFormat {
            input: s.to_string(),
            expected: OFFSET_TIME_FORMAT,
        };
        let b = s.as_bytes();
        // "Z" gets its own message because it is the commonest mistake and
        // the fix is simple.
        if b.len() >= 20 && b[b.len() - 1] == b'Z' {
            return Err(TimeError::ZuluOffset {
                input: s.to_string(),
            });
        }
        if b.len() != 25 || b[22] != b':' {
            return Err(bad());
        }
        let sign = match b[19] {
            b'+' => 1,
            b'-' => -1,
            _ => return Err(bad()),
        };
        let local_ms = parse_date_time(s, OFFSET_TIME_FORMAT)?;
        let oh = digits(b, 20, 2).ok_or_else(bad)?;
        let om = digits(b, 23, 2).ok_or_else(bad)?;
        if om > 59 {
            return Err(bad());
        }
        // Two two-digit numbers: at most 99 * 60 + 59, well within i32.
        let magnitude = (oh * 60 + om) as i32;
        if magnitude > MAX_OFFSET_MINUTES {
            return Err(TimeError::OffsetOutOfRange {
                input: format!("{s:?}"),
            });
        }
        if magnitude == 0 && sign < 0 {
            return Err(TimeError::NegativeZeroOffset {
                input: s.to_string(),
            });
        }
        let offset_minutes = sign * magnitude;
        let ms = local_ms - i64::from(offset_minutes) * MS_PER_MINUTE;
        let instant = Timestamp::from_unix_millis(ms).map_err(|_| TimeError::OutOfRange {
            input: format!("{s:?}"),
            range: TIMESTAMP_RANGE,
        })?;
        Ok(OffsetTime {
            instant,
            offset_minutes,
        })
    }

    pub fn instant(&self) -> Timestamp {
        self.instant
    }

    /// The offset east of UTC in minutes, e.g. 480 for +08:00.
    pub fn offset_minutes(&self) -> i32 {
        self.offset_minutes
    }

    fn local_ms(&self) -> i64 {
        self.instant.0 + i64::from(self.offset_minutes) * MS_PER_MINUTE
    }

    /// The date on the stater's own calendar, at the offset they gave.
    pub fn local_date(&self) -> Date {
        let days = self.local_ms().div_euclid(MS_PER_DAY);
        // Construction guarantees the local date is in range; the fallback is
        // never taken.
        Date::from_days_since_epoch(days).unwrap_or(if days < MIN_DAYS {
            Date::MIN
        } else {
            Date::MAX
        })
    }

    /// The date in Shanghai, which is what deadlines count from.
    pub fn shanghai_date(&self) -> Date {
        self.instant.shanghai_date()
    }
}

impl PartialOrd for OffsetTime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for OffsetTime {
    fn cmp(&self, other: &Self) -> Ordering {
        self.instant
            .cmp(&other.instant)
            .then(self.offset_minutes.cmp(&other.offset_minutes))
    }
}

impl OffsetTime {
    fn text(&self) -> TimeText {
        let mut t = TimeText::date_time(self.local_ms());
        t.push(if self.offset_minutes < 0 { b'-' } else { b'+' });
        let abs = i64::from(self.offset_minutes.abs());
        t.push_digits(abs / 60, 2);
        t.push(b':');
        t.push_digits(abs % 60, 2);
        t
    }
}

impl fmt::Display for OffsetTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.text().as_str())
    }
}

impl Serialize for OffsetTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.text().as_str())
    }
}

impl<'de> Deserialize<'de> for OffsetTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(TextVisitor(OffsetTime::parse))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> Date {
        match Date::parse(s) {
            Ok(d) => d,
            Err(e) => panic!("test date {s}: {e}"),
        }
    }

    #[test]
    fn epoch_and_range_ends() {
        assert_eq!(date("1970-01-01").days_since_epoch(), 0);
        assert_eq!(date("1970-01-02").days_since_epoch(), 1);
        assert_eq!(date("1969-12-31").days_since_epoch(), -1);
        assert_eq!(Date::MIN.days_since_epoch(), -25_567);
        assert_eq!(Date::MAX.days_since_epoch(), 2_932_896);
        assert_eq!(Date::from_days_since_epoch(-25_567), Ok(Date::MIN));
        assert_eq!(Date::from_days_since_epoch(2_932_896), Ok(Date::MAX));
        assert!(matches!(
            Date::from_days_since_epoch(-25_568),
            Err(TimeError::OutOfRange { .. })
        ));
        assert!(matches!(
            Date::from_days_since_epoch(2_932_897),
            Err(TimeError::OutOfRange { .. })
        ));
        assert!(Date::MAX.add_days(1).is_err());
        assert!(Date::MIN.add_days(-1).is_err());
        assert!(Date::MIN.add_days(i64::MAX).is_err());
    }

    #[test]
    fn every_day_round_trips_through_day_numbers() {
        // Walking the whole range checks the era arithmetic against the
        // simple rule that consecutive day numbers are consecutive dates.
        let mut expected = Date::MIN;
        for n in Date::MIN.days_since_epoch()..=Date::MAX.days_since_epoch() {
            let d = Date::from_days_since_epoch(n).expect("in range");
            assert_eq!(d, expected);
            assert_eq!(d.days_since_epoch(), n);
            if d == Date::MAX {
                break;
            }
            expected = if d.day < Date::days_in_month(d.year, d.month) {
                Date {
                    day: d.day + 1,
                    ..d
                }
            } else if d.month < 12 {
                Date {
                    month: d.month + 1,
                    day: 1,
                    ..d
                }
            } else {
                Date {
                    year: d.year + 1,
                    month: 1,
                    day: 1,
                }
            };
        }
    }

    #[test]
    fn weekdays_of_known_dates() {
        // Checked against a printed calendar and the DOMAIN.md table.
        assert_eq!(date("1970-01-01").weekday(), 4); // Thursday
        assert_eq!(date("1900-01-01").weekday(), 1); // Monday
        assert_eq!(date("2000-02-29").weekday(), 2); // Tuesday
        assert_eq!(date("2006-01-27").weekday(), 5); // Friday
        assert_eq!(date("2006-01-28").weekday(), 6); // Saturday
        assert_eq!(date("2006-02-05").weekday(), 7); // Sunday
        assert_eq!(date("2006-02-06").weekday(), 1); // Monday
        assert_eq!(date("2006-09-28").weekday(), 4); // Thursday
        assert_eq!(date("2006-10-08").weekday(), 7); // Sunday
        assert_eq!(date("2006-12-30").weekday(), 6); // Saturday
        assert_eq!(date("2009-02-28").weekday(), 6); // Saturday
        assert_eq!(date("2026-12-31").weekday(), 4); // Thursday
    }

    #[test]
    fn leap_years() {
        assert!(!Date::is_leap_year(1900));
        assert!(Date::is_leap_year(2000));
        assert!(Date::is_leap_year(2008));
        assert!(!Date::is_leap_year(2006));
        assert!(!Date::is_leap_year(2100));
        assert_eq!(Date::days_in_month(1900, 2), 28);
        assert_eq!(Date::days_in_month(2000, 2), 29);
        assert_eq!(Date::days_in_month(2006, 13), 0);
        assert!(Date::from_ymd(2000, 2, 29).is_ok());
        assert!(matches!(
            Date::from_ymd(1900, 2, 29),
            Err(TimeError::NoSuchDate { .. })
        ));
    }

    #[test]
    fn date_parse_and_display_round_trip() {
        for s in ["1900-01-01", "2006-02-24", "2008-02-29", "9999-12-31"] {
            assert_eq!(date(s).to_string(), s);
        }
        let d = date("2006-02-24");
        assert_eq!((d.year(), d.month(), d.day()), (2006, 2, 24));
        assert_eq!(Date::from_ymd(2006, 2, 24), Ok(d));
    }

    #[test]
    fn date_rejections() {
        for s in [
            "2006-2-24",
            "2006-02-4",
            "06-02-24",
            "2006/02/24",
            "2006-02-24 ",
            " 2006-02-24",
            "+2006-02-24",
            "2006-02-2x",
            "20060224",
            "2006-02-24T00:00:00",
            "２００６-02-24",
            "",
        ] {
            assert!(
                matches!(Date::parse(s), Err(TimeError::BadFormat { .. })),
                "{s:?} should be a format error"
            );
        }
        for s in [
            "2006-02-30",
            "2006-02-29",
            "2006-13-01",
            "2006-00-10",
            "2006-04-31",
        ] {
            assert!(
                matches!(Date::parse(s), Err(TimeError::NoSuchDate { .. })),
                "{s:?} should not be a date"
            );
        }
        assert!(matches!(
            Date::parse("1899-12-31"),
            Err(TimeError::OutOfRange { .. })
        ));
        assert!(matches!(
            Date::from_ymd(10_000, 1, 1),
            Err(TimeError::OutOfRange { .. })
        ));
        // The message quotes the input and the reason.
        let msg = Date::parse("2006-02-30").expect_err("Feb 30").to_string();
        assert!(
            msg.contains("2006-02-30") && msg.contains("1 to 28"),
            "{msg}"
        );
        let msg = Date::parse("2006-2-24").expect_err("short").to_string();
        assert!(
            msg.contains("2006-2-24") && msg.contains("YYYY-MM-DD"),
            "{msg}"
        );
    }

    #[test]
    fn add_months_uses_the_corresponding_or_last_day() {
        let add = |s: &str, n: u32| date(s).add_months(n).expect("in range");
        assert_eq!(add("2006-02-24", 3), date("2006-05-24"));
        assert_eq!(add("2006-01-31", 1), date("2006-02-28"));
        assert_eq!(add("2024-01-31", 1), date("2024-02-29"));
        assert_eq!(add("2008-02-29", 12), date("2009-02-28"));
        assert_eq!(add("2008-02-29", 48), date("2012-02-29"));
        assert_eq!(add("2006-11-30", 2), date("2007-01-30"));
        assert_eq!(add("2006-12-31", 0), date("2006-12-31"));
        assert_eq!(add("2006-08-31", 1), date("2006-09-30"));
        assert!(matches!(
            date("9999-12-01").add_months(1),
            Err(TimeError::OutOfRange { .. })
        ));
        assert!(date("2006-01-01").add_months(u32::MAX).is_err());
    }

    #[test]
    fn date_serde_is_the_canonical_string() {
        let d = date("2006-02-24");
        assert_eq!(
            serde_json::to_string(&d).expect("serialize"),
            "\"2006-02-24\""
        );
        let back: Date = serde_json::from_str("\"2006-02-24\"").expect("deserialize");
        assert_eq!(back, d);
        assert!(serde_json::from_str::<Date>("\"2006-2-24\"").is_err());
        assert!(serde_json::from_str::<Date>("20060224").is_err());
    }

    #[test]
    fn the_digit_writer_matches_padded_formatting() {
        // Sweep the whole range with an odd step so every field takes many values.
        let (lo, hi) = (Timestamp::MIN.unix_millis(), Timestamp::MAX.unix_millis());
        let mut ms = lo;
        while ms <= hi {
            let days = ms.div_euclid(MS_PER_DAY);
            let in_day = ms.rem_euclid(MS_PER_DAY);
            let (y, m, d) = civil_from_days(days);
            let want = format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
                in_day / 3_600_000,
                in_day / 60_000 % 60,
                in_day / 1_000 % 60,
                in_day % 1_000
            );
            let t = Timestamp::from_unix_millis(ms).expect("in range");
            assert_eq!(t.to_string(), want);
            assert_eq!(t.shanghai_date().to_string().len(), 10);
            assert_eq!(serde_json::to_string(&t).unwrap(), format!("\"{want}\""));
            for off in [-14 * 60, -90, 0, 345, 8 * 60, 14 * 60] {
                let Ok(o) = OffsetTime::new(t, off) else {
                    continue;
                };
                let local = ms + i64::from(off) * 60_000;
                let (ld, lt) = (local.div_euclid(MS_PER_DAY), local.rem_euclid(MS_PER_DAY));
                let (y, m, d) = civil_from_days(ld);
                let sign = if off < 0 { '-' } else { '+' };
                let want = format!(
                    "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
                    lt / 3_600_000,
                    lt / 60_000 % 60,
                    lt / 1_000 % 60,
                    off.abs() / 60,
                    off.abs() % 60
                );
                assert_eq!(o.to_string(), want);
                assert_eq!(OffsetTime::parse(&want), Ok(o));
            }
            ms += 7_919_999_977;
        }
    }

    #[test]
    fn timestamp_round_trips() {
        for s in [
            "1900-01-01T00:00:00.000Z",
            "1969-12-31T23:59:59.999Z",
            "1970-01-01T00:00:00.000Z",
            "2006-02-24T01:02:03.456Z",
            "9999-12-31T15:59:59.999Z",
        ] {
            let t = Timestamp::parse(s).expect(s);
            assert_eq!(t.to_string(), s);
            assert_eq!(Timestamp::from_unix_millis(t.unix_millis()), Ok(t));
        }
        assert_eq!(
            Timestamp::parse("1970-01-01T00:00:00.001Z").map(|t| t.unix_millis()),
            Ok(1)
        );
        assert_eq!(
            Timestamp::parse("1969-12-31T23:59:59.999Z").map(|t| t.unix_millis()),
            Ok(-1)
        );
        // 2006-02-24 is day 13 203 since the epoch.
        assert_eq!(
            Timestamp::parse("2006-02-24T00:00:00.000Z").map(|t| t.unix_millis()),
            Ok(13_203 * 86_400_000)
        );
        assert_eq!(Timestamp::MIN.to_string(), "1900-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T15:59:59.999Z");
    }

    #[test]
    fn timestamp_rejections() {
        for s in [
            "2006-02-24T01:02:03Z",
            "2006-02-24T01:02:03.4Z",
            "2006-02-24T01:02:03.456",
            "2006-02-24T01:02:03.456z",
            "2006-02-24t01:02:03.456Z",
            "2006-02-24 01:02:03.456Z",
            "2006-02-24T01:02:03.456+00:00",
            "2006-02-24T1:02:03.456Z",
            "2006-2-24T01:02:03.456Z",
            "2006-02-24T01:02:03,456Z",
            "2006-02-24T01:02:03.45xZ",
        ] {
            assert!(
                matches!(Timestamp::parse(s), Err(TimeError::BadFormat { .. })),
                "{s:?} should be a format error"
            );
        }
        assert!(matches!(
            Timestamp::parse("2006-02-30T01:02:03.456Z"),
            Err(TimeError::NoSuchDate { .. })
        ));
        for s in ["2006-02-24T24:00:00.000Z", "2006-12-31T23:59:60.000Z"] {
            assert!(
                matches!(Timestamp::parse(s), Err(TimeError::NoSuchTime { .. })),
                "{s:?}"
            );
        }
        for s in ["1899-12-31T23:59:59.999Z", "9999-12-31T16:00:00.000Z"] {
            assert!(
                matches!(Timestamp::parse(s), Err(TimeError::OutOfRange { .. })),
                "{s:?}"
            );
        }
        assert!(Timestamp::from_unix_millis(Timestamp::MIN.unix_millis() - 1).is_err());
        assert!(Timestamp::from_unix_millis(Timestamp::MAX.unix_millis() + 1).is_err());
        assert!(Timestamp::from_unix_millis(i64::MIN).is_err());
        let msg = Timestamp::parse("2006-02-24T01:02:03Z")
            .expect_err("no millis")
            .to_string();
        assert!(
            msg.contains("2006-02-24T01:02:03Z") && msg.contains(".mmmZ"),
            "{msg}"
        );
    }

    #[test]
    fn timestamp_shanghai_date_across_midnight() {
        let t = |s: &str| Timestamp::parse(s).expect(s);
        // Midnight in Shanghai is 16:00 UTC of the day before.
        assert_eq!(
            t("2006-02-23T15:59:59.999Z").shanghai_date(),
            date("2006-02-23")
        );
        assert_eq!(
            t("2006-02-23T16:00:00.000Z").shanghai_date(),
            date("2006-02-24")
        );
        assert_eq!(
            t("2006-02-24T15:59:59.999Z").shanghai_date(),
            date("2006-02-24")
        );
        // Before the epoch the floor division must not round towards zero.
        assert_eq!(
            t("1969-12-31T15:59:59.999Z").shanghai_date(),
            date("1969-12-31")
        );
        assert_eq!(
            t("1969-12-31T16:00:00.000Z").shanghai_date(),
            date("1970-01-01")
        );
        // A year boundary.
        assert_eq!(
            t("2006-12-31T16:00:00.000Z").shanghai_date(),
            date("2007-01-01")
        );
        assert_eq!(Timestamp::MIN.shanghai_date(), date("1900-01-01"));
        assert_eq!(Timestamp::MAX.shanghai_date(), Date::MAX);
    }

    #[test]
    fn end_of_a_shanghai_day() {
        let end = Timestamp::from_shanghai_date_end(date("2006-03-27")).expect("in range");
        assert_eq!(end.to_string(), "2006-03-27T16:00:00.000Z");
        // The due day's last millisecond is still that day; the end is the next day.
        let last = Timestamp::from_unix_millis(end.unix_millis() - 1).expect("in range");
        assert_eq!(last.shanghai_date(), date("2006-03-27"));
        assert_eq!(end.shanghai_date(), date("2006-03-28"));
        assert_eq!(
            Timestamp::from_shanghai_date_end(Date::MIN).map(|t| t.to_string()),
            Ok("1900-01-01T16:00:00.000Z".to_string())
        );
        assert_eq!(
            Timestamp::from_shanghai_date_end(date("9999-12-30")).map(|t| t.to_string()),
            Ok("9999-12-30T16:00:00.000Z".to_string())
        );
        assert!(matches!(
            Timestamp::from_shanghai_date_end(Date::MAX),
            Err(TimeError::OutOfRange { .. })
        ));
    }

    #[test]
    fn timestamp_serde_is_the_canonical_string() {
        let t = Timestamp::parse("2006-02-24T01:02:03.456Z").expect("valid");
        assert_eq!(
            serde_json::to_string(&t).expect("serialize"),
            "\"2006-02-24T01:02:03.456Z\""
        );
        let back: Timestamp =
            serde_json::from_str("\"2006-02-24T01:02:03.456Z\"").expect("deserialize");
        assert_eq!(back, t);
        assert!(serde_json::from_str::<Timestamp>("\"2006-02-24T01:02:03Z\"").is_err());
        assert!(serde_json::from_str::<Timestamp>("1140742923456").is_err());
    }

    #[test]
    fn offset_time_round_trips() {
        for s in [
            "2006-02-24T09:30:00+08:00",
            "2006-02-24T09:30:00+00:00",
            "2006-02-24T09:30:00-05:00",
            "2006-02-24T09:30:00+05:45",
            "2006-02-24T09:30:00-09:30",
            "2006-02-24T09:30:00+14:00",
            "2006-02-24T09:30:00-14:00",
            "1900-01-01T00:00:00+00:00",
            "1900-01-01T00:00:00-08:00",
            "9999-12-31T23:59:59+08:00",
        ] {
            let o = OffsetTime::parse(s).expect(s);
            assert_eq!(o.to_string(), s);
            assert_eq!(OffsetTime::new(o.instant(), o.offset_minutes()), Ok(o));
        }
        let o = OffsetTime::parse("2006-02-24T09:30:00+08:00").expect("valid");
        assert_eq!(o.offset_minutes(), 480);
        assert_eq!(o.instant().to_string(), "2006-02-24T01:30:00.000Z");
        let o = OffsetTime::parse("2006-02-24T09:30:00-05:45").expect("valid");
        assert_eq!(o.offset_minutes(), -345);
        assert_eq!(o.instant().to_string(), "2006-02-24T15:15:00.000Z");
    }

    #[test]
    fn offset_time_dates() {
        // 23:30 in New York on the 23rd is already 12:30 on the 24th in Shanghai.
        let o = OffsetTime::parse("2006-02-23T23:30:00-05:00").expect("valid");
        assert_eq!(o.local_date(), date("2006-02-23"));
        assert_eq!(o.shanghai_date(), date("2006-02-24"));
        // 00:30 in Shanghai is 16:30 UTC of the previous day.
        let o = OffsetTime::parse("2006-02-24T00:30:00+08:00").expect("valid");
        assert_eq!(o.local_date(), date("2006-02-24"));
        assert_eq!(o.shanghai_date(), date("2006-02-24"));
        assert_eq!(o.instant().to_string(), "2006-02-23T16:30:00.000Z");
    }

    #[test]
    fn offset_time_rejections() {
        assert!(matches!(
            OffsetTime::parse("2006-02-24T01:02:03Z"),
            Err(TimeError::ZuluOffset { .. })
        ));
        assert!(matches!(
            OffsetTime::parse("2006-02-24T01:02:03.000Z"),
            Err(TimeError::ZuluOffset { .. })
        ));
        let msg = OffsetTime::parse("2006-02-24T01:02:03Z")
            .expect_err("Z")
            .to_string();
        assert!(
            msg.contains("+00:00") && msg.contains("2006-02-24T01:02:03Z"),
            "{msg}"
        );
        for s in ["2006-02-24T01:02:03+15:00", "2006-02-24T01:02:03-14:01"] {
            assert!(
                matches!(
                    OffsetTime::parse(s),
                    Err(TimeError::OffsetOutOfRange { .. })
                ),
                "{s:?}"
            );
        }
        assert!(matches!(
            OffsetTime::parse("2006-02-24T01:02:03-00:00"),
            Err(TimeError::NegativeZeroOffset { .. })
        ));
        for s in [
            "2006-02-24T01:02:03+0800",
            "2006-02-24T01:02:03+08",
            "2006-02-24T01:02:03.000+08:00",
            "2006-02-24T1:02:03+08:00",
            "2006-02-24 01:02:03+08:00",
            "2006-2-24T01:02:03+08:00",
            "2006-02-24T01:02:03+08:60",
            "2006-02-24T01:02:03*08:00",
            "2006-02-24T01:02:03+8:00 ",
        ] {
            assert!(
                matches!(OffsetTime::parse(s), Err(TimeError::BadFormat { .. })),
                "{s:?} should be a format error"
            );
        }
        assert!(matches!(
            OffsetTime::parse("2006-02-30T01:02:03+08:00"),
            Err(TimeError::NoSuchDate { .. })
        ));
        // The local time is in range but the instant is before 1900 UTC.
        assert!(matches!(
            OffsetTime::parse("1900-01-01T00:00:00+08:00"),
            Err(TimeError::OutOfRange { .. })
        ));
        // The instant would be past the last supported one.
        assert!(matches!(
            OffsetTime::parse("9999-12-31T23:00:00-08:00"),
            Err(TimeError::OutOfRange { .. })
        ));
        let with_millis = Timestamp::parse("2006-02-24T01:02:03.004Z").expect("valid");
        assert!(matches!(
            OffsetTime::new(with_millis, 480),
            Err(TimeError::NotWholeSecond { .. })
        ));
        let whole = Timestamp::parse("2006-02-24T01:02:03.000Z").expect("valid");
        assert!(matches!(
            OffsetTime::new(whole, 841),
            Err(TimeError::OffsetOutOfRange { .. })
        ));
        // Local time 1899-12-31T10:00 cannot be written with a four-digit year in range.
        assert!(matches!(
            OffsetTime::new(Timestamp::MIN, -14 * 60),
            Err(TimeError::OutOfRange { .. })
        ));
    }

    #[test]
    fn offset_time_orders_by_instant() {
        let a = OffsetTime::parse("2006-02-24T09:00:00+08:00").expect("valid");
        let b = OffsetTime::parse("2006-02-24T02:00:00+00:00").expect("valid");
        let c = OffsetTime::parse("2006-02-24T01:00:00+00:00").expect("valid");
        // 09:00 +08:00 is 01:00 UTC: later than c would be wrong, earlier than b is right.
        assert!(a < b);
        assert!(c < a && c < b);
        // The same instant in two offsets: ordered, but not equal.
        assert_eq!(a.instant(), c.instant());
        assert_ne!(a, c);
        assert_eq!(c.cmp(&a), Ordering::Less);
    }

    #[test]
    fn whatever_parses_displays_back_unchanged() {
        // Every one-byte change of a canonical text must either be refused or
        // be itself canonical; none may panic. This is what lets the ledger
        // hash the text instead of the value.
        let replacements = b"0123456789-+:.TZtz \xff";
        let samples = [
            "2006-02-24",
            "2008-02-29T23:59:59.999Z",
            "2006-02-24T09:30:00+08:00",
        ];
        let mut accepted = 0;
        for sample in samples {
            for i in 0..sample.len() {
                for &r in replacements {
                    let mut bytes = sample.as_bytes().to_vec();
                    bytes[i] = r;
                    // A replacement byte that breaks UTF-8 cannot reach the parsers.
                    let Ok(s) = String::from_utf8(bytes) else {
                        continue;
                    };
                    if let Ok(d) = Date::parse(&s) {
                        assert_eq!(d.to_string(), s);
                        accepted += 1;
                    }
                    if let Ok(t) = Timestamp::parse(&s) {
                        assert_eq!(t.to_string(), s);
                        accepted += 1;
                    }
                    if let Ok(o) = OffsetTime::parse(&s) {
                        assert_eq!(o.to_string(), s);
                        accepted += 1;
                    }
                }
            }
        }
        // Digit changes keep many texts valid, so the check above did run.
        assert!(accepted > 100, "{accepted}");
    }

    #[test]
    fn offset_time_serde_is_the_canonical_string() {
        let o = OffsetTime::parse("2006-02-24T09:30:00+08:00").expect("valid");
        assert_eq!(
            serde_json::to_string(&o).expect("serialize"),
            "\"2006-02-24T09:30:00+08:00\""
        );
        let back: OffsetTime =
            serde_json::from_str("\"2006-02-24T09:30:00+08:00\"").expect("deserialize");
        assert_eq!(back, o);
        let err = serde_json::from_str::<OffsetTime>("\"2006-02-24T09:30:00Z\"")
            .expect_err("Z refused")
            .to_string();
        assert!(err.contains("+00:00"), "{err}");
    }
}
