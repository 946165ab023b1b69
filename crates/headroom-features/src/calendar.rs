//! Month arithmetic shared by every feature family.
//!
//! Months are counted as one integer, `year * 12 + month - 1`, so that "three
//! months before" is a subtraction and a month range is an integer range. Dates
//! enter polars as days since 1970-01-01, the physical value of `Date`.

use chrono::{Datelike, NaiveDate};
use polars::prelude::*;

/// Mean length of a Gregorian month in days (365.25 / 12), used to turn a
/// number of months into a date and day counts into months.
pub const DAYS_PER_MONTH: f64 = 30.4375;

const EPOCH: NaiveDate = NaiveDate::from_ymd_opt(1970, 1, 1).expect("1970-01-01 is a date");

/// The month index of a date: `year * 12 + month - 1`.
pub fn month_index(date: NaiveDate) -> i32 {
    date.year() * 12 + date.month0() as i32
}

/// The first day of a month index.
pub fn month_start(month: i32) -> NaiveDate {
    let year = month.div_euclid(12);
    let month0 = month.rem_euclid(12) as u32;
    NaiveDate::from_ymd_opt(year, month0 + 1, 1).expect("month index within chrono's range")
}

/// The last day of a month index.
pub fn month_end(month: i32) -> NaiveDate {
    month_start(month + 1)
        .pred_opt()
        .expect("month index within chrono's range")
}

/// Whether a date is the last day of its month.
pub fn is_month_end(date: NaiveDate) -> bool {
    date.succ_opt().is_some_and(|next| next.day() == 1)
}

/// The latest month whose usage counts at `as_of`.
///
/// Usage of a month is complete only once the month has ended, so a date inside
/// a month counts up to the month before; monthly data dated on the last day
/// would otherwise show the current month as zero. A snapshot export is the one
/// exception: its single export date carries the rows of its own month.
pub fn as_of_month(as_of: NaiveDate, snapshot: bool) -> i32 {
    if snapshot || is_month_end(as_of) {
        month_index(as_of)
    } else {
        month_index(as_of) - 1
    }
}

/// Days since 1970-01-01, the physical value of a polars `Date`.
pub fn epoch_days(date: NaiveDate) -> i32 {
    (date - EPOCH).num_days() as i32
}

/// The date `days` days after 1970-01-01.
pub fn from_epoch_days(days: i32) -> NaiveDate {
    EPOCH + chrono::Duration::days(i64::from(days))
}

/// The month index of a `Date` expression, as `Int32`.
pub fn month_index_expr(date: Expr) -> Expr {
    date.clone().dt().year().cast(DataType::Int32) * lit(12)
        + date.dt().month().cast(DataType::Int32)
        - lit(1)
}

/// The month index of every day in a range, to look up by day number.
///
/// On a column of millions of dates, a lookup (`gather`) into this table runs
/// several times faster than `dt().year()` and `dt().month()`, which turn each
/// value into a calendar date.
pub struct DayTable {
    first_day: i32,
    months: Series,
}

impl DayTable {
    /// A table covering the days `first..=last` (days since 1970-01-01).
    pub fn new(first: i32, last: i32) -> DayTable {
        let days = first..=last.max(first);
        let dates: Vec<NaiveDate> = days.map(from_epoch_days).collect();
        DayTable {
            first_day: first,
            months: Series::new(
                "month".into(),
                dates.iter().map(|d| month_index(*d)).collect::<Vec<_>>(),
            ),
        }
    }

    /// The month index (`Int32`) of a day-number expression within the table.
    pub fn month(&self, days: Expr) -> Expr {
        lit(self.months.clone()).gather(days - lit(self.first_day), false)
    }
}

/// The number of days in the month of a month-index expression (`Int32`).
pub fn days_in_month_expr(month: Expr) -> Expr {
    let year = month.clone().floor_div(lit(12));
    let month_of_year = month % lit(12) + lit(1);
    let leap = (year.clone() % lit(4))
        .eq(lit(0))
        .and((year.clone() % lit(100)).neq(lit(0)))
        .or((year % lit(400)).eq(lit(0)));
    when(month_of_year.clone().eq(lit(2)))
        .then(when(leap).then(lit(29.0)).otherwise(lit(28.0)))
        .when(month_of_year.is_in(
            lit(Series::new("short".into(), [4i32, 6, 9, 11])).implode(true),
            false,
        ))
        .then(lit(30.0))
        .otherwise(lit(31.0))
}

/// A `Date` expression for the day `days` (an `Int32` expression) days after
/// 1970-01-01.
pub fn date_from_days_expr(days: Expr) -> Expr {
    days.cast(DataType::Int32).cast(DataType::Date)
}

/// The number of days of a `Date` expression since 1970-01-01, as `Int32`.
pub fn days_expr(date: Expr) -> Expr {
    date.cast(DataType::Int32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn month_index_round_trips() {
        let month = month_index(date(2024, 2, 29));
        // 2024 * 12 + 1 = 24289
        assert_eq!(month, 24289);
        assert_eq!(month_start(month), date(2024, 2, 1));
        assert_eq!(month_end(month), date(2024, 2, 29));
        assert_eq!(month_end(month_index(date(2023, 2, 10))), date(2023, 2, 28));
        assert_eq!(
            month_end(month_index(date(2023, 12, 1))),
            date(2023, 12, 31)
        );
    }

    #[test]
    fn as_of_month_counts_complete_months() {
        let jan = month_index(date(2024, 1, 31));
        assert_eq!(as_of_month(date(2024, 1, 31), false), jan);
        assert_eq!(as_of_month(date(2024, 2, 29), false), jan + 1);
        assert_eq!(as_of_month(date(2024, 2, 28), false), jan);
        assert_eq!(as_of_month(date(2024, 2, 15), true), jan + 1);
    }

    #[test]
    fn day_table_matches_chrono() {
        // Every day from 1999-12-01 to 2001-03-31.
        let first = epoch_days(date(1999, 12, 1));
        let last = epoch_days(date(2001, 3, 31));
        let table = DayTable::new(first, last);
        let days: Vec<i32> = (first..=last).collect();
        let df = DataFrame::new(days.len(), vec![Column::new("d".into(), days.clone())]).unwrap();
        let out = df
            .lazy()
            .select([table.month(col("d")).alias("month")])
            .collect()
            .unwrap();
        let months = out.column("month").unwrap().i32().unwrap();
        for (i, d) in days.iter().enumerate() {
            let day = from_epoch_days(*d);
            assert_eq!(months.get(i), Some(month_index(day)), "{day}");
        }
    }

    #[test]
    fn days_in_month_expr_handles_leap_years() {
        let months: Vec<i32> = [
            date(2024, 2, 1),
            date(2023, 2, 1),
            date(2000, 2, 1),
            date(1900, 2, 1),
            date(2023, 4, 1),
            date(2023, 12, 1),
        ]
        .into_iter()
        .map(month_index)
        .collect();
        let df = DataFrame::new(months.len(), vec![Column::new("m".into(), months)]).unwrap();
        let out = df
            .lazy()
            .select([days_in_month_expr(col("m")).alias("days")])
            .collect()
            .unwrap();
        let days: Vec<f64> = out
            .column("days")
            .unwrap()
            .f64()
            .unwrap()
            .into_no_null_iter()
            .collect();
        assert_eq!(days, vec![29.0, 28.0, 29.0, 28.0, 30.0, 31.0]);
    }
}
