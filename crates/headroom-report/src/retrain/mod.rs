//! The model registry's decisions. Retraining fits a challenger, compares it
//! with the champion on the same recent months, and promotes it only when it
//! is better. Summaries describe registered models.

mod decide;
mod error;
mod run;
mod settings;
mod summary;

pub use decide::{Recorded, Verdict, WindowMetrics, decide, record};
pub use error::RetrainError;
pub use run::{
    AlreadyTrained, KindRetrain, RetrainResult, already_trained, compare_and_record, retrain_kind,
    train_challengers,
};
pub use settings::RetrainSettings;
pub use summary::{HeldOutMetrics, ModelSummary, held_out, summarize};
