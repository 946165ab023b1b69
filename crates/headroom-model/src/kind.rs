//! The two models headroom trains and the names of their classes.

use serde::{Deserialize, Serialize};

/// Which outcome a model predicts. The positive class is always the event
/// (`churned`, `expanded`), whatever the order or balance of the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// The account churns within the horizon after the observation date.
    Churn,
    /// The account's ARR grows within the horizon after the observation date.
    Expansion,
}

impl ModelKind {
    /// The model's name as used in files and messages (`churn`, `expansion`).
    pub fn name(self) -> &'static str {
        match self {
            ModelKind::Churn => "churn",
            ModelKind::Expansion => "expansion",
        }
    }

    /// The positive class label (`churned`, `expanded`).
    pub fn positive_class(self) -> &'static str {
        match self {
            ModelKind::Churn => "churned",
            ModelKind::Expansion => "expanded",
        }
    }

    /// The negative class label (`not churned`, `not expanded`).
    pub fn negative_class(self) -> &'static str {
        match self {
            ModelKind::Churn => "not churned",
            ModelKind::Expansion => "not expanded",
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
