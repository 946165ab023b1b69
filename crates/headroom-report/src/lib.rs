//! From scores to decisions: segments, alerts, priorities, recommended actions
//! and talking points, the monthly accuracy review, and the terminal, CSV, JSON
//! and HTML renderings of them.

pub mod ledger;
pub mod project;
pub mod retrain;
pub mod review;
