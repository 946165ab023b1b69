//! The monthly accuracy review.

mod month;

pub use month::{Month, MonthError};
