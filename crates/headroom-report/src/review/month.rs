//! A calendar month, as `--month YYYY-MM` names it.

use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};

/// A calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// The month, 1 to 12.
    pub month: u32,
}

/// A month text that is not `YYYY-MM`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid month {text:?}: expected YYYY-MM, such as 2026-03\nhint: give the year and the month number"
)]
pub struct MonthError {
    /// The text as given.
    pub text: String,
}

impl Month {
    /// Returns the month of a date.
    pub fn of(date: NaiveDate) -> Month {
        Month {
            year: date.year(),
            month: date.month(),
        }
    }

    /// Returns the first day of the month.
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a checked month has a first day")
    }

    /// Returns the last day of the month.
    pub fn last_day(self) -> NaiveDate {
        self.next()
            .first_day()
            .pred_opt()
            .expect("a month has a last day")
    }

    /// Returns the month after.
    pub fn next(self) -> Month {
        match self.month {
            12 => Month {
                year: self.year + 1,
                month: 1,
            },
            month => Month {
                year: self.year,
                month: month + 1,
            },
        }
    }

    /// Returns the month before.
    pub fn previous(self) -> Month {
        match self.month {
            1 => Month {
                year: self.year - 1,
                month: 12,
            },
            month => Month {
                year: self.year,
                month: month - 1,
            },
        }
    }
}

impl FromStr for Month {
    type Err = MonthError;

    /// Parses `YYYY-MM` with a four-digit year and a month from 01 to 12.
    fn from_str(text: &str) -> Result<Month, MonthError> {
        let invalid = || MonthError {
            text: text.to_string(),
        };
        let (year, month) = text.trim().split_once('-').ok_or_else(invalid)?;
        let four_digits = year.len() == 4 && year.bytes().all(|b| b.is_ascii_digit());
        let two_digits = month.len() == 2 && month.bytes().all(|b| b.is_ascii_digit());
        if !four_digits || !two_digits {
            return Err(invalid());
        }
        let year: i32 = year.parse().map_err(|_| invalid())?;
        let month: u32 = month.parse().map_err(|_| invalid())?;
        if !(1..=12).contains(&month) {
            return Err(invalid());
        }
        Ok(Month { year, month })
    }
}

impl serde::Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Month, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_parses_and_prints() {
        let month: Month = "2026-03".parse().unwrap();
        assert_eq!(
            month,
            Month {
                year: 2026,
                month: 3
            }
        );
        assert_eq!(month.to_string(), "2026-03");
    }

    #[test]
    fn month_rejects_other_shapes() {
        for text in [
            "2026-3",
            "2026-13",
            "2026-00",
            "26-03",
            "2026/03",
            "2026-03-01",
            "",
        ] {
            assert!(text.parse::<Month>().is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn month_bounds_cover_february_of_leap_year() {
        let month: Month = "2024-02".parse().unwrap();
        assert_eq!(month.first_day().to_string(), "2024-02-01");
        assert_eq!(month.last_day().to_string(), "2024-02-29");
    }

    #[test]
    fn month_steps_across_year_end() {
        let december: Month = "2025-12".parse().unwrap();
        assert_eq!(december.next().to_string(), "2026-01");
        assert_eq!(december.next().previous(), december);
    }
}
