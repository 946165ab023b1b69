//! From scores to decisions: segments, alerts, priorities, recommended actions
//! and talking points, the monthly accuracy review, and the terminal, CSV, JSON
//! and HTML renderings of them.
//!
//! [`score_project`] scores a project's active accounts as of a date with the
//! store's champion models (or the rules alone without them) and returns a
//! [`ScoreRun`]: every account with its health segment, probabilities,
//! reasons, alerts, priority, actions and talking points, in priority order.
//! [`ScoreRun::write_snapshot`] stores it for the monthly review, and
//! [`render`] turns it into a terminal table, CSV, JSON or one HTML file.

pub mod alerts;
pub mod error;
pub mod facts;
mod frame;
pub mod history;
pub mod ledger;
pub mod models;
pub mod playbook;
pub mod priority;
pub mod progress;
pub mod project;
pub mod reasons;
pub mod render;
pub mod retrain;
pub mod review;
pub mod run;
pub mod score;
pub mod segment;
pub mod settings;
pub mod story;
pub mod words;

#[cfg(test)]
mod testkit;

pub use alerts::{AccountAlert, AlertKind, NoteRef, Severity};
pub use error::ReportError;
pub use models::{Champions, LoadedModel, ModelQuality};
pub use progress::{NoProgress, Progress};
pub use run::{AccountScore, LookAhead, ScoreRun, SegmentTotal};
pub use score::{ScoreInputs, ScoreOptions, default_as_of, score, score_project};
pub use segment::HealthSegment;
pub use settings::{AlertSettings, PrioritySettings, ScoreSettings, SegmentSettings};
pub use story::{AccountStory, account_story};
