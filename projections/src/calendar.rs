//! The official Chinese working-day calendar and deadline arithmetic.
//!
//! Every year China's State Council General Office publishes which days are
//! statutory holidays and which weekend days are worked instead (调休). The
//! ledger embeds these notices in the holiday-cn format (one file per year)
//! and computes the due dates of complaint handling from them, following
//! DOMAIN.md ("Deadlines"):
//!
//! - counting starts the day after the starting day;
//! - "n working days" counts only working days;
//! - a period of n days, or of n months (Civil Code art. 203), whose last day
//!   is a day off ends on the first working day after it.
//!
//! The calendar never guesses: a day is known only if its year is one of the
//! loaded files' years, and any computation that needs an unknown day fails
//! with [`BeyondCalendar`] instead of assuming an ordinary week. The next
//! year's notice can still move the last days of the final loaded year (the
//! 2007 notice made 2006-12-30 and 2006-12-31 working days); loading that file
//! later changes those days, which is why the ledger records the calendar's
//! content via [`Calendar::overrides`].

use events::time::{Date, TimeError};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use serde::Deserialize;

/// The BLAKE3 derive-key context of [`Calendar::digest`].
pub const CALENDAR_CONTEXT: &str = "gov-enterprise-ledger 2026-11-26 calendar v1";

/// Why a set of holiday-cn files could not be loaded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CalendarError {
    /// No file was given, so no day would be known.
    #[error("no calendar files were given")]
    NoData,
    /// The text is not JSON in the holiday-cn schema. `file_index` is the
    /// file's position in the list given to the loader; `file_year` is its
    /// `year` field when that much could be read.
    #[error("calendar file #{file_index}{} is not valid holiday-cn JSON: {msg}", year_note(.file_year))]
    Json {
        file_index: usize,
        file_year: Option<i32>,
        msg: String,
    },
    /// The file's year is outside what the calendar supports. The upper
    /// limit 9998 leaves room for the day after the calendar, which errors
    /// name.
    #[error("calendar file #{file_index} is for the year {year}, outside 1900..=9998")]
    YearOutOfRange { file_index: usize, year: i32 },
    /// Two files claim the same year, so it is unclear which notice applies.
    #[error("two calendar files are for the year {year}")]
    DuplicateYear { year: i32 },
    /// The loaded years have a hole: days in it would be unknown although
    /// they lie between known days.
    #[error("no calendar file for {missing}, although {first} and {last} are loaded: the years must be contiguous")]
    Gap { missing: i32, first: i32, last: i32 },
    /// A listed day's date is not a valid `YYYY-MM-DD` date.
    #[error("the calendar file for {file_year} lists a bad date: {source}")]
    BadDate {
        file_year: i32,
        #[source]
        source: TimeError,
    },
    /// A file lists a day that is neither in its year nor in a neighbouring
    /// one; holiday-cn only reaches into the adjacent years.
    #[error("the calendar file for {file_year} lists {date}, which is not in {file_year} or a neighbouring year")]
    DayOutsideFile { file_year: i32, date: Date },
    /// Two listings of the same day disagree on whether it is a day off.
    #[error("the calendar files for {first_file_year} and {second_file_year} disagree on whether {date} is a day off")]
    Conflict {
        date: Date,
        first_file_year: i32,
        second_file_year: i32,
    },
}

/// Formats the optional year in `CalendarError::Json`.
fn year_note(year: &Option<i32>) -> String {
    match year {
        Some(y) => format!(" (year {y})"),
        None => String::new(),
    }
}

/// A computation needed the status of a day the loaded calendar does not
/// cover, so the due date is unknown rather than guessed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{date} is beyond the loaded calendar ({first}..{last}); due date unknown")]
pub struct BeyondCalendar {
    /// The first day that was needed but not covered.
    pub date: Date,
    /// The first day the calendar covers.
    pub first: Date,
    /// The last day the calendar covers.
    pub last: Date,
}

/// One year's file in the holiday-cn schema. Other fields (`papers`,
/// `$schema`, `$id`) are ignored; a day's `name` is not needed either.
#[derive(Deserialize)]
struct HolidayFile {
    year: i32,
    days: Vec<HolidayDay>,
}

#[derive(Deserialize)]
struct HolidayDay {
    date: String,
    #[serde(rename = "isOffDay")]
    is_off_day: bool,
}

/// The official data, 2005–2026, embedded at build time. The path is relative
/// to this source file, so the `calendar` folder sits next to `src`.
const BUILTIN_FILES: [&str; 22] = [
    include_str!("../calendar/2005.json"),
    include_str!("../calendar/2006.json"),
    include_str!("../calendar/2007.json"),
    include_str!("../calendar/2008.json"),
    include_str!("../calendar/2009.json"),
    include_str!("../calendar/2010.json"),
    include_str!("../calendar/2011.json"),
    include_str!("../calendar/2012.json"),
    include_str!("../calendar/2013.json"),
    include_str!("../calendar/2014.json"),
    include_str!("../calendar/2015.json"),
    include_str!("../calendar/2016.json"),
    include_str!("../calendar/2017.json"),
    include_str!("../calendar/2018.json"),
    include_str!("../calendar/2019.json"),
    include_str!("../calendar/2020.json"),
    include_str!("../calendar/2021.json"),
    include_str!("../calendar/2022.json"),
    include_str!("../calendar/2023.json"),
    include_str!("../calendar/2024.json"),
    include_str!("../calendar/2025.json"),
    include_str!("../calendar/2026.json"),
];

/// The years supported as calendar files; see `CalendarError::YearOutOfRange`.
const MIN_CALENDAR_YEAR: i32 = 1900;
const MAX_CALENDAR_YEAR: i32 = 9998;

/// A working-day calendar covering a contiguous run of whole years.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    first: Date,
    last: Date,
    /// The day after `last`, named when a period runs past the calendar
    /// further than a `Date` can express. It exists because the last
    /// covered year is at most 9998.
    after_last: Date,
    /// Listed days within the covered years: `true` if the day is off.
    listed: BTreeMap<Date, bool>,
    /// `first` as a day number (days since 1970-01-01).
    first_number: i64,
    /// Every day of `first..=last` in order, `true` if it is off: `listed`
    /// and the week made into one table, so a deadline counts days by index.
    off: Vec<bool>,
}

impl Calendar {
    /// Loads holiday-cn files, one per year, in any order. The covered years
    /// are the files' `year` fields and must be contiguous. A day listed in a
    /// neighbouring year's file (2006-12-30 in 2007.json) takes its status
    /// from that listing; listings that disagree are refused.
    pub fn from_holiday_cn(files: &[&str]) -> Result<Calendar, CalendarError> {
        let mut years = BTreeSet::new();
        // Each listed day with its status and the year of the file that listed it.
        let mut seen: BTreeMap<Date, (bool, i32)> = BTreeMap::new();
        for (file_index, text) in files.iter().enumerate() {
            let file = parse_file(file_index, text)?;
            if !(MIN_CALENDAR_YEAR..=MAX_CALENDAR_YEAR).contains(&file.year) {
                return Err(CalendarError::YearOutOfRange {
                    file_index,
                    year: file.year,
                });
            }
            if !years.insert(file.year) {
                return Err(CalendarError::DuplicateYear { year: file.year });
            }
            for day in &file.days {
                let date = Date::parse(&day.date).map_err(|source| CalendarError::BadDate {
                    file_year: file.year,
                    source,
                })?;
                if (date.year() - file.year).abs() > 1 {
                    return Err(CalendarError::DayOutsideFile {
                        file_year: file.year,
                        date,
                    });
                }
                match seen.get(&date) {
                    Some(&(off, other_year)) if off != day.is_off_day => {
                        return Err(CalendarError::Conflict {
                            date,
                            first_file_year: other_year,
                            second_file_year: file.year,
                        });
                    }
                    // The same status listed twice is harmless.
                    Some(_) => {}
                    None => {
                        seen.insert(date, (day.is_off_day, file.year));
                    }
                }
            }
        }
        let (Some(&first_year), Some(&last_year)) = (years.first(), years.last()) else {
            return Err(CalendarError::NoData);
        };
        if let Some(missing) = (first_year..=last_year).find(|y| !years.contains(y)) {
            return Err(CalendarError::Gap {
                missing,
                first: first_year,
                last: last_year,
            });
        }
        // These dates exist because the years were checked to lie in
        // 1900..=9998; the errors are mapped rather than unwrapped all the same.
        let out_of_range = |year| CalendarError::YearOutOfRange {
            file_index: 0,
            year,
        };
        let first = Date::from_ymd(first_year, 1, 1).map_err(|_| out_of_range(first_year))?;
        let last = Date::from_ymd(last_year, 12, 31).map_err(|_| out_of_range(last_year))?;
        let after_last = last.add_days(1).map_err(|_| out_of_range(last_year))?;
        // Listings outside the covered years (2005-12-31 in 2006.json when
        // 2005.json is not loaded) were checked for conflicts above but are
        // dropped: those days stay unknown, and the hashed overrides list only
        // what the computations use.
        let listed: BTreeMap<Date, bool> = seen
            .into_iter()
            .filter(|(d, _)| (first..=last).contains(d))
            .map(|(d, (off, _))| (d, off))
            .collect();
        let first_number = first.days_since_epoch();
        let off = (first_number..=last.days_since_epoch())
            .map(|n| {
                // Every n lies within first..=last, so it is a valid date.
                let d = Date::from_days_since_epoch(n).unwrap_or(first);
                listed.get(&d).copied().unwrap_or(d.weekday() > 5)
            })
            .collect();
        Ok(Calendar {
            first,
            last,
            after_last,
            listed,
            first_number,
            off,
        })
    }

    /// The official data 2005–2026 embedded in the binary. The data is parsed
    /// once per process; a test proves it loads, so the panic cannot happen
    /// in a build that passed its tests.
    pub fn builtin() -> Calendar {
        static BUILTIN: OnceLock<Calendar> = OnceLock::new();
        BUILTIN
            .get_or_init(|| {
                Calendar::from_holiday_cn(&BUILTIN_FILES)
                    .unwrap_or_else(|e| panic!("the embedded calendar data is broken: {e}"))
            })
            .clone()
    }

    /// January 1 of the first covered year.
    pub fn first_day(&self) -> Date {
        self.first
    }

    /// December 31 of the last covered year.
    pub fn last_day(&self) -> Date {
        self.last
    }

    fn beyond(&self, date: Date) -> BeyondCalendar {
        BeyondCalendar {
            date,
            first: self.first,
            last: self.last,
        }
    }

    /// Whether `d` is a working day: a listed day by its listing, otherwise
    /// Monday to Friday. Days outside the covered years are unknown.
    pub fn is_working_day(&self, d: Date) -> Result<bool, BeyondCalendar> {
        self.working(d.days_since_epoch())
            .ok_or_else(|| self.beyond(d))
    }

    /// Whether day number `n` is a working day; `None` outside the calendar.
    fn working(&self, n: i64) -> Option<bool> {
        let i = usize::try_from(n.checked_sub(self.first_number)?).ok()?;
        self.off.get(i).map(|off| !off)
    }

    /// The day numbered `n`, which lies outside the calendar, as the reason a
    /// period cannot be counted.
    fn beyond_number(&self, n: i64) -> BeyondCalendar {
        match Date::from_days_since_epoch(n) {
            Ok(d) => self.beyond(d),
            Err(_) => self.beyond(self.after_last),
        }
    }

    /// Day number `n` as a date, once `working` has placed it in the calendar.
    fn date_of(&self, n: i64) -> Result<Date, BeyondCalendar> {
        Date::from_days_since_epoch(n).map_err(|_| self.beyond_number(n))
    }

    /// Every listed day in the covered years with `true` if it is off,
    /// sorted by date, so that the calendar can be hashed into the ledger
    /// together with `first_day` and `last_day`.
    pub fn overrides(&self) -> impl Iterator<Item = (Date, bool)> + '_ {
        self.listed.iter().map(|(&d, &off)| (d, off))
    }

    /// The calendar's digest, recorded by `calendar_loaded` so that every
    /// deadline can be recomputed from the log with the same data: BLAKE3 in
    /// derive-key mode ([`CALENDAR_CONTEXT`]) over the text
    /// `"days FIRST LAST\n"` followed by one line `"YYYY-MM-DD off\n"` or
    /// `"YYYY-MM-DD work\n"` per listed day in date order; lowercase hex.
    pub fn digest(&self) -> String {
        let mut h = blake3::Hasher::new_derive_key(CALENDAR_CONTEXT);
        h.update(format!("days {} {}\n", self.first_day(), self.last_day()).as_bytes());
        for (d, off) in self.overrides() {
            h.update(format!("{d} {}\n", if off { "off" } else { "work" }).as_bytes());
        }
        h.finalize().to_hex().to_string()
    }

    /// `d` if it is a working day, otherwise the first working day after it.
    fn roll_to_working_day(&self, d: Date) -> Result<Date, BeyondCalendar> {
        let mut n = d.days_since_epoch();
        // Each step either stops or moves one day on; past the calendar's
        // last day `working` is `None`, so the loop is bounded.
        loop {
            match self.working(n) {
                Some(true) => return self.date_of(n),
                Some(false) => n += 1,
                None => return Err(self.beyond_number(n)),
            }
        }
    }

    /// The n-th working day after `start`: counting starts the next day
    /// (DOMAIN.md R1: reply within 3 working days). With n = 0 this is
    /// `start` itself. The status of `start` is not needed, so it may lie
    /// before the calendar.
    pub fn add_working_days(&self, start: Date, n: u32) -> Result<Date, BeyondCalendar> {
        let mut day = start.days_since_epoch();
        let mut left = n;
        while left > 0 {
            day += 1;
            match self.working(day) {
                Some(true) => left -= 1,
                Some(false) => {}
                None => return Err(self.beyond_number(day)),
            }
        }
        self.date_of(day)
    }

    /// A period of n days: `start` + n; if that last day is a day off, the
    /// first working day after it (DOMAIN.md R3: result within 30 days).
    pub fn add_days(&self, start: Date, n: u32) -> Result<Date, BeyondCalendar> {
        let end = start
            .add_days(i64::from(n))
            .map_err(|_| self.beyond(self.after_last))?;
        self.roll_to_working_day(end)
    }

    /// A period of n months: the corresponding date, or the month's last day
    /// when there is none, then rolled to a working day like `add_days`
    /// (DOMAIN.md R4: the extension cap).
    pub fn add_months(&self, start: Date, n: u32) -> Result<Date, BeyondCalendar> {
        let end = start
            .add_months(n)
            .map_err(|_| self.beyond(self.after_last))?;
        self.roll_to_working_day(end)
    }
}

/// Parses one file, naming it by position and, when readable, by year.
fn parse_file(file_index: usize, text: &str) -> Result<HolidayFile, CalendarError> {
    serde_json::from_str::<HolidayFile>(text).map_err(|e| {
        // A second, untyped parse recovers the year for the message when the
        // file is JSON but something else in it is wrong.
        let file_year = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("year").and_then(serde_json::Value::as_i64))
            .and_then(|y| i32::try_from(y).ok());
        CalendarError::Json {
            file_index,
            file_year,
            msg: e.to_string(),
        }
    })
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

    fn cal() -> Calendar {
        Calendar::builtin()
    }

    /// Loads the given built-in years only.
    fn years(ys: &[i32]) -> Calendar {
        let files: Vec<&str> = ys
            .iter()
            .map(|y| BUILTIN_FILES[usize::try_from(y - 2005).expect("year 2005 or later")])
            .collect();
        Calendar::from_holiday_cn(&files).expect("built-in files load")
    }

    fn wd(start: &str, n: u32) -> Result<Date, BeyondCalendar> {
        cal().add_working_days(date(start), n)
    }

    fn days(start: &str, n: u32) -> Result<Date, BeyondCalendar> {
        cal().add_days(date(start), n)
    }

    fn months(start: &str, n: u32) -> Result<Date, BeyondCalendar> {
        cal().add_months(date(start), n)
    }

    #[test]
    fn builtin_data_loads_and_matches_every_listing() {
        let c = Calendar::from_holiday_cn(&BUILTIN_FILES).expect("embedded data is valid");
        assert_eq!(c, cal());
        assert_eq!(c.first_day(), date("2005-01-01"));
        assert_eq!(c.last_day(), date("2026-12-31"));
        // Re-read each file independently and check each listed day, so a
        // loader bug cannot hide behind its own output.
        let mut distinct = BTreeSet::new();
        for (i, text) in BUILTIN_FILES.iter().enumerate() {
            let v: serde_json::Value = serde_json::from_str(text).expect("JSON");
            assert_eq!(
                v["year"].as_i64(),
                Some(2005 + i as i64),
                "files in year order"
            );
            for day in v["days"].as_array().expect("days") {
                let d = date(day["date"].as_str().expect("date string"));
                let off = day["isOffDay"].as_bool().expect("isOffDay");
                assert_eq!(c.is_working_day(d), Ok(!off), "{d}");
                distinct.insert(d);
            }
        }
        // No listing falls outside 2005–2026, so every one is an override.
        assert_eq!(distinct.len(), 739);
        assert_eq!(c.overrides().count(), 739);
        let listed: Vec<Date> = c.overrides().map(|(d, _)| d).collect();
        assert!(listed.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        assert_eq!(listed.first(), Some(&date("2005-01-01")));
    }

    #[test]
    fn unlisted_days_follow_the_week() {
        // 2006-03-25 is a Saturday and 2006-03-29 a Wednesday, neither listed in 2006.json.
        assert_eq!(cal().is_working_day(date("2006-03-25")), Ok(false));
        assert_eq!(cal().is_working_day(date("2006-03-29")), Ok(true));
        // Listed: Sunday 2006-04-30 worked before May Day, Monday 2006-05-01 off.
        assert_eq!(cal().is_working_day(date("2006-04-30")), Ok(true));
        assert_eq!(cal().is_working_day(date("2006-05-01")), Ok(false));
        // 2020.json lists Monday 2020-02-03 as a working day; it stays one.
        assert_eq!(cal().is_working_day(date("2020-02-03")), Ok(true));
    }

    #[test]
    fn r1_domain_table_reply_within_three_working_days() {
        // Sat 01-28 and Sun 02-05 are working days around the Spring Festival.
        assert_eq!(wd("2006-01-27", 3), Ok(date("2006-02-06")));
        // Sat 04-29 and Sun 04-30 are worked, 05-01..05-07 are off.
        assert_eq!(wd("2006-04-28", 3), Ok(date("2006-05-08")));
        // Fri 09-29, Sat 09-30 (worked), then Sun 10-08 (worked).
        assert_eq!(wd("2006-09-28", 3), Ok(date("2006-10-08")));
        assert_eq!(date("2006-10-08").weekday(), 7);
    }

    #[test]
    fn r3_domain_table_result_within_thirty_days() {
        // Day 30 is 2006-10-01, inside the National Day holiday (10-01..10-07).
        assert_eq!(days("2006-09-01", 30), Ok(date("2006-10-08")));
        // Day 30 is Sunday 2006-03-26, an ordinary day off.
        assert_eq!(days("2006-02-24", 30), Ok(date("2006-03-27")));
    }

    #[test]
    fn r4_domain_table_extension_notices_and_cap() {
        let c = cal();
        let result_due = c.add_days(date("2006-02-24"), 30).expect("covered");
        assert_eq!(result_due, date("2006-03-27"));
        // Each notice is due 15 days after the previous one.
        let mut notices = Vec::new();
        let mut previous = result_due;
        for _ in 0..3 {
            previous = c.add_days(previous, 15).expect("covered");
            notices.push(previous);
        }
        assert_eq!(
            notices,
            [date("2006-04-11"), date("2006-04-26"), date("2006-05-11")]
        );
        // None of them needed rolling: Tue, Wed, Thu.
        let weekdays: Vec<u32> = notices.iter().map(Date::weekday).collect();
        assert_eq!(weekdays, [2, 3, 4]);
        // The cap: three months from filing, Wednesday 2006-05-24.
        assert_eq!(c.add_months(date("2006-02-24"), 3), Ok(date("2006-05-24")));
    }

    #[test]
    fn month_ends() {
        // No February 31: its last day, Tuesday 2006-02-28, a working day.
        assert_eq!(months("2006-01-31", 1), Ok(date("2006-02-28")));
        // 2024 is a leap year: Thursday 2024-02-29, a working day.
        assert_eq!(months("2024-01-31", 1), Ok(date("2024-02-29")));
        // 2010-02-28 is an unlisted Sunday, so the period ends on Monday 03-01.
        assert_eq!(months("2010-01-31", 1), Ok(date("2010-03-01")));
        // Sunday 2006-04-30 is a declared working day, so no roll.
        assert_eq!(months("2006-03-31", 1), Ok(date("2006-04-30")));
    }

    #[test]
    fn leap_years() {
        // 2009-02-28 is a Saturday and 03-01 a Sunday, neither listed in 2009.json.
        assert_eq!(months("2008-02-29", 12), Ok(date("2009-03-02")));
        assert_eq!(date("2008-02-29").add_months(12), Ok(date("2009-02-28")));
        assert_eq!(months("2008-02-29", 48), Ok(date("2012-02-29")));
    }

    #[test]
    fn year_end_uses_the_next_years_file() {
        // 2007.json makes Sat 2006-12-30 and Sun 2006-12-31 working days;
        // 2007-01-01..03 are off.
        assert_eq!(wd("2006-12-29", 3), Ok(date("2007-01-04")));
        assert_eq!(wd("2006-12-29", 2), Ok(date("2006-12-31")));
        assert_eq!(days("2006-12-01", 30), Ok(date("2006-12-31")));
        // Without 2007.json those two days are an ordinary weekend, and the
        // period runs into 2007, which is then unknown.
        let only_2006 = years(&[2006]);
        assert_eq!(only_2006.is_working_day(date("2006-12-31")), Ok(false));
        assert_eq!(
            only_2006.add_days(date("2006-12-01"), 30),
            Err(BeyondCalendar {
                date: date("2007-01-01"),
                first: date("2006-01-01"),
                last: date("2006-12-31"),
            })
        );
        // 2006.json makes Sat 2005-12-31 a working day, but only when 2005 is covered.
        assert_eq!(cal().is_working_day(date("2005-12-31")), Ok(true));
        assert!(only_2006.is_working_day(date("2005-12-31")).is_err());
        assert!(!only_2006.overrides().any(|(d, _)| d.year() != 2006));
        let only_2007 = years(&[2007]);
        assert_eq!(only_2007.first_day(), date("2007-01-01"));
        assert!(only_2007.overrides().all(|(d, _)| d.year() == 2007));
    }

    #[test]
    fn beyond_the_calendar() {
        // Thursday 2026-12-31 is the first working day; 2027 is not loaded.
        let err = wd("2026-12-30", 3).expect_err("2027 is unknown");
        assert_eq!(
            err,
            BeyondCalendar {
                date: date("2027-01-01"),
                first: date("2005-01-01"),
                last: date("2026-12-31"),
            }
        );
        assert_eq!(
            err.to_string(),
            "2027-01-01 is beyond the loaded calendar (2005-01-01..2026-12-31); due date unknown"
        );
        assert_eq!(wd("2026-12-30", 1), Ok(date("2026-12-31")));
        assert!(cal().is_working_day(date("2004-12-31")).is_err());
        assert!(days("2026-12-31", 1).is_err());
        assert!(months("2026-12-31", 1).is_err());
        // Periods too long for a Date are reported at the calendar's end.
        assert_eq!(
            wd("2006-01-01", u32::MAX).map_err(|e| e.date),
            Err(date("2027-01-01"))
        );
        assert_eq!(
            days("2006-01-01", u32::MAX).map_err(|e| e.date),
            Err(date("2027-01-01"))
        );
        assert_eq!(
            months("2006-01-01", u32::MAX).map_err(|e| e.date),
            Err(date("2027-01-01"))
        );
        assert_eq!(
            wd("9999-12-31", 1).map_err(|e| e.date),
            Err(date("2027-01-01"))
        );
    }

    #[test]
    fn a_start_before_the_calendar_is_fine_when_its_status_is_not_needed() {
        // Day 31 after 2004-12-01 is Sat 2005-01-01; 01-01..01-03 are off in 2005.json.
        assert_eq!(days("2004-12-01", 31), Ok(date("2005-01-04")));
        assert_eq!(wd("2004-12-31", 1), Ok(date("2005-01-04")));
        // But a day before the calendar that must be counted is unknown.
        assert_eq!(
            wd("2004-12-30", 1).map_err(|e| e.date),
            Err(date("2004-12-31"))
        );
    }

    #[test]
    fn zero_length_periods() {
        assert_eq!(wd("2006-10-01", 0), Ok(date("2006-10-01")));
        // A zero-day period ending on a holiday still rolls to a working day.
        assert_eq!(days("2006-10-01", 0), Ok(date("2006-10-08")));
        assert_eq!(months("2006-10-01", 0), Ok(date("2006-10-08")));
    }

    const MINI_2006: &str = r#"{"year": 2006, "papers": [], "days": [
        {"name": "a", "date": "2006-10-01", "isOffDay": true},
        {"name": "b", "date": "2006-12-30", "isOffDay": true}]}"#;

    #[test]
    fn loader_rejections() {
        assert_eq!(Calendar::from_holiday_cn(&[]), Err(CalendarError::NoData));
        assert!(matches!(
            Calendar::from_holiday_cn(&["{"]),
            Err(CalendarError::Json {
                file_index: 0,
                file_year: None,
                ..
            })
        ));
        let missing_days = r#"{"year": 2006, "papers": []}"#;
        let err = Calendar::from_holiday_cn(&[BUILTIN_FILES[0], missing_days])
            .expect_err("no days field");
        assert!(matches!(
            err,
            CalendarError::Json {
                file_index: 1,
                file_year: Some(2006),
                ..
            }
        ));
        assert!(err.to_string().contains("#1 (year 2006)"), "{err}");
        let bad_date =
            r#"{"year": 2006, "days": [{"name": "x", "date": "2006-02-30", "isOffDay": true}]}"#;
        assert!(matches!(
            Calendar::from_holiday_cn(&[bad_date]),
            Err(CalendarError::BadDate {
                file_year: 2006,
                source: TimeError::NoSuchDate { .. }
            })
        ));
        let far =
            r#"{"year": 2006, "days": [{"name": "x", "date": "2008-01-01", "isOffDay": true}]}"#;
        assert_eq!(
            Calendar::from_holiday_cn(&[far]),
            Err(CalendarError::DayOutsideFile {
                file_year: 2006,
                date: date("2008-01-01")
            })
        );
        assert_eq!(
            Calendar::from_holiday_cn(&[BUILTIN_FILES[1], BUILTIN_FILES[1]]),
            Err(CalendarError::DuplicateYear { year: 2006 })
        );
        assert_eq!(
            Calendar::from_holiday_cn(&[BUILTIN_FILES[0], BUILTIN_FILES[2]]),
            Err(CalendarError::Gap {
                missing: 2006,
                first: 2005,
                last: 2007
            })
        );
        let late = r#"{"year": 9999, "days": []}"#;
        assert_eq!(
            Calendar::from_holiday_cn(&[late]),
            Err(CalendarError::YearOutOfRange {
                file_index: 0,
                year: 9999
            })
        );
        // MINI_2006 says 2006-12-30 is off; 2007.json says it is worked.
        assert_eq!(
            Calendar::from_holiday_cn(&[MINI_2006, BUILTIN_FILES[2]]),
            Err(CalendarError::Conflict {
                date: date("2006-12-30"),
                first_file_year: 2006,
                second_file_year: 2007
            })
        );
    }

    #[test]
    fn agreeing_listings_and_file_order() {
        let agree = r#"{"year": 2007, "days": [
            {"name": "a", "date": "2006-10-01", "isOffDay": true},
            {"name": "a", "date": "2006-10-01", "isOffDay": true}]}"#;
        let c = Calendar::from_holiday_cn(&[agree, MINI_2006]).expect("agreeing listings");
        assert_eq!(c.first_day(), date("2006-01-01"));
        assert_eq!(c.last_day(), date("2007-12-31"));
        let overrides: Vec<(Date, bool)> = c.overrides().collect();
        assert_eq!(
            overrides,
            [(date("2006-10-01"), true), (date("2006-12-30"), true)]
        );
        // File order does not matter.
        let forward = years(&[2005, 2006, 2007]);
        let backward =
            Calendar::from_holiday_cn(&[BUILTIN_FILES[2], BUILTIN_FILES[0], BUILTIN_FILES[1]])
                .expect("loads");
        assert_eq!(forward, backward);
    }

    #[test]
    fn the_digest_covers_every_listed_day_and_the_range() {
        let full = Calendar::builtin();
        let d = full.digest();
        assert_eq!(d.len(), 64);
        assert_eq!(d, Calendar::builtin().digest(), "deterministic");
        let part = Calendar::from_holiday_cn(&[include_str!("../calendar/2006.json")]).unwrap();
        assert_ne!(part.digest(), d);
    }
}
