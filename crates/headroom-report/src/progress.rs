//! Progress reporting for long runs. The library reports stages and counts;
//! the command line draws them (an indicatif bar on a terminal, nothing under
//! pipes and tests).

/// Receives progress from a scoring run.
pub trait Progress {
    /// A new stage begins; `total` is its number of steps when known.
    fn stage(&self, name: &str, total: Option<u64>);

    /// `steps` more steps of the current stage are done.
    fn advance(&self, steps: u64);

    /// The run is over.
    fn finish(&self);
}

/// Progress that goes nowhere.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn stage(&self, _name: &str, _total: Option<u64>) {}

    fn advance(&self, _steps: u64) {}

    fn finish(&self) {}
}
