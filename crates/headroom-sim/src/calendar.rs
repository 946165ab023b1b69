//! Calendar months and the simulated window.
//!
//! The simulator works in whole months: month index 0 is the first month of the
//! window, negative indices are months before it (contract history that has no
//! usage rows). Monthly usage is dated on the month's last day, because a month's
//! total is only known once the month has ended.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::SimError;

/// A calendar month, written `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    year: i32,
    month: u32,
}

impl YearMonth {
    /// Creates a month; `None` unless `month` is 1 to 12 and the year lies in 1000..=9999.
    pub fn new(year: i32, month: u32) -> Option<YearMonth> {
        let valid = (1..=12).contains(&month) && (1000..=9999).contains(&year);
        valid.then_some(YearMonth { year, month })
    }

    /// Returns the month of a date.
    pub fn of(date: NaiveDate) -> YearMonth {
        YearMonth {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Returns the year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// Returns the month of the year, 1 to 12.
    pub fn month(self) -> u32 {
        self.month
    }

    /// Returns the month `n` months later (earlier when `n` is negative).
    pub fn add_months(self, n: i32) -> YearMonth {
        let total = self.year * 12 + (self.month as i32 - 1) + n;
        YearMonth {
            year: total.div_euclid(12),
            month: total.rem_euclid(12) as u32 + 1,
        }
    }

    /// Returns the months from `self` to `later` (negative when `later` is earlier).
    pub fn months_until(self, later: YearMonth) -> i32 {
        (later.year - self.year) * 12 + later.month as i32 - self.month as i32
    }

    /// Returns the first day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month has a first day")
    }

    /// Returns the last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.add_months(1)
            .first_day()
            .pred_opt()
            .expect("a month in 1000..=9999 has a day before its successor")
    }

    /// Returns the number of days in the month.
    pub fn days(self) -> u32 {
        self.last_day().day()
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for YearMonth {
    type Err = SimError;

    fn from_str(text: &str) -> Result<YearMonth, SimError> {
        let invalid = || SimError::InvalidMonth {
            value: text.to_string(),
        };
        let (year, month) = text.trim().split_once('-').ok_or_else(invalid)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(invalid());
        }
        let year: i32 = year.parse().map_err(|_| invalid())?;
        let month: u32 = month.parse().map_err(|_| invalid())?;
        YearMonth::new(year, month).ok_or_else(invalid)
    }
}

impl Serialize for YearMonth {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for YearMonth {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<YearMonth, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The simulated window: `months` calendar months from `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    start: YearMonth,
    months: u32,
}

/// Days from 1970-01-01 to 0001-01-01 in chrono's day count (`num_days_from_ce`).
const UNIX_EPOCH_FROM_CE: i32 = 719_163;

impl Window {
    /// Creates a window of `months` months starting at `start`.
    pub fn new(start: YearMonth, months: u32) -> Window {
        Window { start, months }
    }

    /// Returns the first month.
    pub fn start(self) -> YearMonth {
        self.start
    }

    /// Returns the number of months.
    pub fn months(self) -> u32 {
        self.months
    }

    /// Returns the last month.
    pub fn last(self) -> YearMonth {
        self.start.add_months(self.months as i32 - 1)
    }

    /// Returns the index of the last month.
    pub fn last_index(self) -> i32 {
        self.months as i32 - 1
    }

    /// Returns the calendar month of a month index.
    pub fn month(self, index: i32) -> YearMonth {
        self.start.add_months(index)
    }

    /// Returns the last day of the month with this index.
    pub fn month_end(self, index: i32) -> NaiveDate {
        self.month(index).last_day()
    }

    /// Returns the number of month-ends after month `index` that fall within `days`
    /// days of its month-end. 180 days after a month-end always covers exactly
    /// the next five month-ends, because six months span at least 181 days.
    pub fn horizon_months(self, index: i32, days: u32) -> i32 {
        let from = self.month_end(index);
        let mut count = 0;
        while (self.month_end(index + count + 1) - from).num_days() <= i64::from(days) {
            count += 1;
        }
        count
    }
}

/// Returns the days since 1970-01-01, the physical value of a polars `Date`.
pub fn epoch_days(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - UNIX_EPOCH_FROM_CE
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn year_month_parse_never_panics(text in "\\PC{0,12}") {
            let _ = text.parse::<YearMonth>();
        }

        #[test]
        fn year_month_round_trips(year in 1000i32..=9999, month in 1u32..=12) {
            let parsed: YearMonth = format!("{year:04}-{month:02}").parse().unwrap();
            prop_assert_eq!(parsed, YearMonth::new(year, month).unwrap());
            prop_assert_eq!(parsed.to_string(), format!("{year:04}-{month:02}"));
        }

        #[test]
        fn add_months_inverts(year in 1500i32..=8500, month in 1u32..=12, shift in -600i32..=600) {
            let start = YearMonth::new(year, month).unwrap();
            let moved = start.add_months(shift);
            prop_assert_eq!(start.months_until(moved), shift);
            prop_assert_eq!(moved.add_months(-shift), start);
        }
    }

    #[test]
    fn year_month_parses_and_prints() {
        let month: YearMonth = "2023-11".parse().unwrap();
        assert_eq!(month, YearMonth::new(2023, 11).unwrap());
        assert_eq!(month.to_string(), "2023-11");
    }

    #[test]
    fn year_month_rejects_bad_text() {
        for text in ["2023-13", "2023-1", "23-11", "2023/11", "2023-00", "x"] {
            let err = text.parse::<YearMonth>().unwrap_err();
            assert!(
                matches!(err, SimError::InvalidMonth { ref value } if value == text),
                "{text}: {err}"
            );
        }
    }

    #[test]
    fn add_months_crosses_years() {
        let month = YearMonth::new(2023, 11).unwrap();
        assert_eq!(month.add_months(2), YearMonth::new(2024, 1).unwrap());
        assert_eq!(month.add_months(-11), YearMonth::new(2022, 12).unwrap());
        assert_eq!(month.add_months(35), YearMonth::new(2026, 10).unwrap());
        assert_eq!(month.months_until(YearMonth::new(2026, 10).unwrap()), 35);
    }

    #[test]
    fn last_day_handles_leap_years() {
        assert_eq!(
            YearMonth::new(2024, 2).unwrap().last_day(),
            NaiveDate::from_ymd_opt(2024, 2, 29).unwrap()
        );
        assert_eq!(YearMonth::new(2023, 2).unwrap().days(), 28);
        assert_eq!(YearMonth::new(2023, 12).unwrap().days(), 31);
    }

    #[test]
    fn horizon_of_180_days_is_five_month_ends() {
        let window = Window::new(YearMonth::new(2023, 1).unwrap(), 36);
        for index in 0..24 {
            assert_eq!(window.horizon_months(index, 180), 5, "month {index}");
        }
        // Jan 31 + 31 days is Mar 3, so only Feb 28 falls within 31 days.
        assert_eq!(window.horizon_months(0, 31), 1);
        // Feb 28 + 31 days is Mar 31: the horizon includes the end of March.
        assert_eq!(window.horizon_months(1, 31), 1);
    }

    #[test]
    fn epoch_days_match_unix_dates() {
        assert_eq!(epoch_days(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()), 0);
        // 2024-01-31 is 19753 days after 1970-01-01 (54 years with 13 leap days
        // = 19723 days to 2024-01-01, plus 30).
        assert_eq!(
            epoch_days(NaiveDate::from_ymd_opt(2024, 1, 31).unwrap()),
            19753
        );
    }
}
