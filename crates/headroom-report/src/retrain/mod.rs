//! The model registry's decisions. Retraining fits a challenger, compares it
//! with the champion on the same recent months, and promotes it only when it
//! is better. Summaries describe registered models.

mod summary;

pub use summary::{HeldOutMetrics, ModelSummary, held_out, summarize};
