//! `headroom demo`: the whole monthly loop on the bundled sample portfolio.
//!
//! The demo plays a CS team that starts using headroom at the end of a past
//! month. It imports the sample's history up to that month, trains and
//! scores. Then it lives through the months that followed. Each month it
//! imports that month's exports, records the month's outcomes and
//! interventions, scores again, and reviews the month once scores from a
//! lead time before it exist. At the end it retrains and summarizes.
//!
//! Each step runs the `headroom` binary itself, as a user would, and keeps
//! its full output in `PROJECT/logs/`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{Datelike, NaiveDate};
use clap::Args;
use headroom_model::ModelArtifact;
use headroom_model::training::metrics_summary;
use headroom_report::project::Project;
use headroom_report::review::review_project;
use headroom_store::ModelKind;

/// The bundled sample, found beside the sources the binary was built from.
const BUNDLED_SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/sample");

/// Run the whole loop on the bundled sample portfolio.
///
/// In a fresh project folder, imports the sample's history up to a past
/// month-end (2025-12-31), trains the churn and expansion models and scores
/// the portfolio as of that date. Then, for each month after it, imports the
/// month's exports, records its outcomes and interventions, scores again, and
/// reviews the month once scores from 90 days before it exist. Finally it
/// retrains and prints a summary: the models against the usage rules, the top
/// accounts, and the last review's false positives and negatives. HTML reports go to
/// PROJECT/reports/, each step's full output to PROJECT/logs/. Takes a few
/// minutes in a release build, most of it training and retraining.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The project folder to create; it must be missing or empty [default: a
    /// new temporary folder, kept and printed].
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// The sample portfolio [default: data/sample of the source tree].
    #[arg(long, value_name = "DIR")]
    pub sample: Option<PathBuf>,

    /// The last month-end of the history the demo starts from (YYYY-MM-DD).
    #[arg(long, value_name = "DATE", value_parser = super::parse_date, default_value = "2025-12-31")]
    pub start: NaiveDate,

    /// The months lived through after the start.
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub months: u32,
}

/// The facts of the demo that the summary prints.
struct Demo {
    project: PathBuf,
    sample: PathBuf,
    logs: PathBuf,
    reports: PathBuf,
    step: usize,
    started: Instant,
}

/// Runs `headroom demo`.
pub fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let start_month_end = month_end(args.start, 0);
    if args.start != start_month_end {
        bail!(
            "--start {} is not a month-end: the demo scores and reviews whole months\nhint: pass --start {start_month_end}",
            args.start
        );
    }
    let sample = args
        .sample
        .clone()
        .unwrap_or_else(|| PathBuf::from(BUNDLED_SAMPLE));
    if !sample.join("usage.csv").is_file() {
        bail!(
            "no sample portfolio in {}\nhint: run the demo from a clone of the repository, or pass --sample DIR (a folder `headroom sim` wrote)",
            sample.display()
        );
    }
    check_range(&sample, args.start, args.months)?;
    let project = match &args.dir {
        Some(dir) => prepare_dir(dir)?,
        None => new_temp_dir()?,
    };
    let mut demo = Demo::new(project, sample)?;
    println!("project: {}", demo.project.display());

    let later = demo.split_history(args.start)?;
    demo.setup(args.start)?;
    let last_review = demo.live_through(args.start, args.months, &later)?;
    demo.finish(last_review.as_deref())
}

impl Demo {
    fn new(project: PathBuf, sample: PathBuf) -> anyhow::Result<Demo> {
        let logs = project.join("logs");
        let reports = project.join("reports");
        for dir in [&logs, &reports] {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
        }
        Ok(Demo {
            project,
            sample,
            logs,
            reports,
            step: 0,
            started: Instant::now(),
        })
    }

    /// Writes the later outcomes and interventions per month into
    /// `PROJECT/later` and returns them by month.
    fn split_history(&self, start: NaiveDate) -> anyhow::Result<BTreeMap<String, LaterFiles>> {
        let later_dir = self.project.join("later");
        std::fs::create_dir_all(&later_dir)
            .with_context(|| format!("failed to create {}", later_dir.display()))?;

        let mut later: BTreeMap<String, LaterFiles> = BTreeMap::new();
        for (name, kind) in [
            ("outcomes", Later::Outcomes),
            ("interventions", Later::Interventions),
        ] {
            let path = self.sample.join(format!("{name}.csv"));
            let split = split_by_month(&path, start)?;
            for (month, text) in split.after {
                let file = later_dir.join(format!("{name}-{month}.csv"));
                std::fs::write(&file, text)
                    .with_context(|| format!("failed to write {}", file.display()))?;
                let entry = later.entry(month).or_default();
                match kind {
                    Later::Outcomes => entry.outcomes = Some(file),
                    Later::Interventions => entry.interventions = Some(file),
                }
            }
        }
        Ok(later)
    }

    /// Writes `PROJECT/source`: the exports a team would have at `as_of`.
    /// Accounts, contracts, entitlements and usage are cut at `as_of`;
    /// outcomes and interventions at `start`, because the later ones reach
    /// the project through `headroom outcomes import` and `headroom
    /// interventions import`.
    fn write_source(&self, as_of: NaiveDate, start: NaiveDate) -> anyhow::Result<()> {
        let source = self.project.join("source");
        std::fs::create_dir_all(&source)
            .with_context(|| format!("failed to create {}", source.display()))?;
        let as_of = as_of.to_string();
        let start = start.to_string();

        let on_or_before = |limit: &str| {
            let limit = limit.to_string();
            move |value: &str| value <= limit.as_str()
        };
        filter_csv(
            &self.sample,
            &source,
            "accounts",
            "customer_since",
            on_or_before(&as_of),
        )?;
        let contracts = filter_csv(
            &self.sample,
            &source,
            "contracts",
            "start_date",
            on_or_before(&as_of),
        )?;
        let kept: std::collections::HashSet<String> = contracts.into_iter().collect();
        filter_csv(
            &self.sample,
            &source,
            "entitlements",
            "contract_id",
            |id: &str| kept.contains(id),
        )?;
        filter_csv(&self.sample, &source, "usage", "date", on_or_before(&as_of))?;
        filter_csv(
            &self.sample,
            &source,
            "outcomes",
            "date",
            on_or_before(&start),
        )?;
        filter_csv(
            &self.sample,
            &source,
            "interventions",
            "date",
            on_or_before(&start),
        )?;
        let meta = self.sample.join("meta.json");
        std::fs::copy(&meta, source.join("meta.json"))
            .with_context(|| format!("failed to copy {}", meta.display()))?;
        Ok(())
    }

    /// Writes the exports as of `as_of` and imports them into the project.
    fn import(&mut self, as_of: NaiveDate, start: NaiveDate) -> anyhow::Result<()> {
        self.write_source(as_of, start)?;
        let project = self.project.display().to_string();
        let source = self.project.join("source").display().to_string();
        self.run_step("import", &["import", &source, "--out", &project])
    }

    /// Creates the project, imports the history, trains and scores as of
    /// `start`.
    fn setup(&mut self, start: NaiveDate) -> anyhow::Result<()> {
        let project = self.project.display().to_string();
        let truth = self.sample.display().to_string();
        self.run_step("init", &["init", &project, "--force"])?;
        self.import(start, start)?;
        self.run_step(
            "train",
            &["train", "--project", &project, "--truth", &truth],
        )?;
        self.score(start)
    }

    /// Records each month's outcomes and interventions, scores at its end,
    /// and reviews it once a snapshot from the lead time before exists.
    fn live_through(
        &mut self,
        start: NaiveDate,
        months: u32,
        later: &BTreeMap<String, LaterFiles>,
    ) -> anyhow::Result<Option<String>> {
        let project = self.project.display().to_string();
        let first_review = month_end(start, 3);
        let mut last_review = None;
        for offset in 1..=months {
            let end = month_end(start, offset);
            let month = format!("{:04}-{:02}", end.year(), end.month());
            self.import(end, start)?;
            if let Some(files) = later.get(&month) {
                if let Some(file) = &files.outcomes {
                    let file = file.display().to_string();
                    self.run_step(
                        "outcomes",
                        &["outcomes", "import", &file, "--project", &project],
                    )?;
                }
                if let Some(file) = &files.interventions {
                    let file = file.display().to_string();
                    self.run_step(
                        "interventions",
                        &["interventions", "import", &file, "--project", &project],
                    )?;
                }
            }
            self.score(end)?;
            if end >= first_review {
                self.review(&month)?;
                last_review = Some(month);
            }
        }
        self.run_step("retrain", &["retrain", "--project", &project])?;
        Ok(last_review)
    }

    /// Scores as of `date` and writes the HTML report.
    fn score(&mut self, date: NaiveDate) -> anyhow::Result<()> {
        let project = self.project.display().to_string();
        let html = self.reports.join(format!("score-{date}.html"));
        let html = html.display().to_string();
        let date = date.to_string();
        self.run_step(
            "score",
            &[
                "score",
                "--project",
                &project,
                "--as-of",
                &date,
                "--format",
                "html",
                "--out",
                &html,
            ],
        )
    }

    /// Reviews `month` and writes the HTML review.
    fn review(&mut self, month: &str) -> anyhow::Result<()> {
        let project = self.project.display().to_string();
        let html = self.reports.join(format!("review-{month}.html"));
        let html = html.display().to_string();
        self.run_step(
            "review",
            &[
                "review",
                "--project",
                &project,
                "--month",
                month,
                "--format",
                "html",
                "--out",
                &html,
            ],
        )
    }

    /// Runs the binary with `args`, keeps its output in `logs/`, and prints
    /// one line. Fails with the end of the log when the step fails.
    fn run_step(&mut self, name: &str, args: &[&str]) -> anyhow::Result<()> {
        self.step += 1;
        let log = self.logs.join(format!("{:02}-{name}.txt", self.step));
        let exe = std::env::current_exe().context("failed to find the headroom binary")?;
        let started = Instant::now();
        let output = Command::new(exe)
            .args(args)
            .arg("--quiet")
            .output()
            .with_context(|| format!("failed to run headroom {name}"))?;
        let mut text = format!("$ headroom {}\n", args.join(" "));
        text.push_str(&String::from_utf8_lossy(&output.stdout));
        text.push_str(&String::from_utf8_lossy(&output.stderr));
        std::fs::write(&log, &text)
            .with_context(|| format!("failed to write {}", log.display()))?;

        if !output.status.success() {
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            bail!(
                "step `headroom {name}` failed; its output is in {}:\n{}",
                log.display(),
                tail.join("\n")
            );
        }
        println!(
            "{:>5.1}s  {:<14} {}",
            started.elapsed().as_secs_f64(),
            name,
            summary_line(args)
        );
        std::io::stdout().flush()?;
        Ok(())
    }

    /// Prints the closing summary: the champions against the rules, the top
    /// accounts of the last scoring run, the last review's misses and the
    /// retraining decisions, then where the reports are.
    fn finish(&self, last_review: Option<&str>) -> anyhow::Result<()> {
        let project = Project::open(&self.project)?;
        let mut out = String::new();

        writeln!(
            out,
            "\nmodels on their held-out months (ROC-AUC; oracle = the simulator's true probabilities)"
        )?;
        for kind in [ModelKind::Churn, ModelKind::Expansion] {
            let Some(record) = project.store.champion(kind)? else {
                writeln!(out, "  {kind:<10} no champion")?;
                continue;
            };
            let artifact = ModelArtifact::from_json(&record.artifact_json, &self.project)?;
            let Some(summary) = metrics_summary(&artifact) else {
                writeln!(out, "  {kind:<10} {} (not evaluated)", record.version)?;
                continue;
            };
            writeln!(
                out,
                "  {kind:<10} {}  model {}  rule {}  oracle {}  ({} rows, {} positive)",
                record.version,
                number(summary.model.roc_auc),
                number(summary.rule.roc_auc),
                number(summary.oracle_roc_auc),
                summary.rows,
                summary.positives
            )?;
        }
        for decision in project.store.decisions(None)?.iter().rev().take(2).rev() {
            writeln!(
                out,
                "  last decision ({}): {} {}: {}",
                decision.kind, decision.action, decision.version, decision.reason
            )?;
        }

        if let Some(header) = project.store.snapshots()?.last() {
            let snapshot = project.store.load_snapshot(header.id)?;
            let mut rows = snapshot.rows;
            rows.sort_by(|a, b| b.priority.total_cmp(&a.priority));
            writeln!(
                out,
                "\ntop accounts as of {}, scored before the retrain",
                header.as_of
            )?;
            writeln!(
                out,
                "  {:<10} {:<22} {:>8} {:>8} {:>10}  first reason",
                "account", "segment", "p(churn)", "p(exp)", "ARR"
            )?;
            for row in rows.iter().take(5) {
                writeln!(
                    out,
                    "  {:<10} {:<22} {:>8} {:>8} {:>10.0}  {}",
                    row.account_id,
                    row.health_segment,
                    number(row.p_churn),
                    number(row.p_expansion),
                    row.arr,
                    row.reasons.first().map(|r| r.text.as_str()).unwrap_or("-")
                )?;
            }
        }

        if let Some(month) = last_review {
            let review = review_project(&project, month.parse()?)?;
            let churn = &review.churn;
            writeln!(
                out,
                "\nreview of {month}: {} outcomes, {} matched to scores from {} days before; recommendation: {}",
                review.outcomes,
                review.matched_accounts,
                review.settings.lead_days,
                review.recommendation.action
            )?;
            writeln!(
                out,
                "  churn: {} false positives (flagged, did not churn), {} false negatives (churned, not flagged)",
                churn.false_positives.len(),
                churn.false_negatives.len()
            )?;
            for (label, misses) in [
                ("false positive", &churn.false_positives),
                ("false negative", &churn.false_negatives),
            ] {
                for miss in misses.iter().take(2) {
                    writeln!(
                        out,
                        "  {label}: {} p(churn) {} on {}, ARR {:.0}: {}",
                        miss.account_id,
                        number(miss.probability),
                        miss.as_of,
                        miss.arr,
                        miss.reasons.first().map(|r| r.text.as_str()).unwrap_or("-")
                    )?;
                }
            }
        }

        writeln!(
            out,
            "\ndone in {:.0}s\n  reports: {}\n  logs:    {}",
            self.started.elapsed().as_secs_f64(),
            self.reports.display(),
            self.logs.display()
        )?;
        print!("{out}");
        Ok(())
    }
}

/// Formats an optional number with three decimals, `-` when missing.
fn number(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_string(), |value| format!("{value:.3}"))
}

/// The files of one month after the start.
#[derive(Debug, Default)]
struct LaterFiles {
    outcomes: Option<PathBuf>,
    interventions: Option<PathBuf>,
}

/// The kind of a later file.
#[derive(Debug, Clone, Copy)]
enum Later {
    Outcomes,
    Interventions,
}

/// A CSV file split at a date: the rows up to it, and the later rows by
/// month, each with the header.
struct Split {
    before: String,
    after: BTreeMap<String, String>,
}

/// Splits a CSV file with an ISO `date` column at `start`.
fn split_by_month(path: &Path, start: NaiveDate) -> anyhow::Result<Split> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .with_context(|| format!("{} is empty", path.display()))?;
    let date_column = split_fields(header)
        .iter()
        .position(|name| name == "date")
        .with_context(|| format!("{} has no date column", path.display()))?;

    let mut split = Split {
        before: format!("{header}\n"),
        after: BTreeMap::new(),
    };
    let start = start.to_string();
    for (index, line) in lines.enumerate() {
        let fields = split_fields(line);
        let date = fields
            .get(date_column)
            .map(String::as_str)
            .unwrap_or_default();
        if date.len() < 10 {
            bail!(
                "{}:{}: column \"date\": {date:?} is not a date",
                path.display(),
                index + 2
            );
        }
        if *date <= *start.as_str() {
            split.before.push_str(line);
            split.before.push('\n');
        } else {
            let month = split
                .after
                .entry(date[..7].to_string())
                .or_insert_with(|| format!("{header}\n"));
            month.push_str(line);
            month.push('\n');
        }
    }
    Ok(split)
}

/// Copies `from/NAME.csv` to `to/NAME.csv` with the rows whose `column`
/// passes `keep`, and returns the first field of each kept row.
fn filter_csv(
    from: &Path,
    to: &Path,
    name: &str,
    column: &str,
    keep: impl Fn(&str) -> bool,
) -> anyhow::Result<Vec<String>> {
    let path = from.join(format!("{name}.csv"));
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let mut lines = text.lines();
    let header = lines
        .next()
        .with_context(|| format!("{} is empty", path.display()))?;
    let index = split_fields(header)
        .iter()
        .position(|field| field == column)
        .with_context(|| format!("{} has no column {column:?}", path.display()))?;

    let mut out = format!("{header}\n");
    let mut firsts = Vec::new();
    for line in lines {
        let fields = split_fields(line);
        if fields.get(index).is_some_and(|value| keep(value)) {
            out.push_str(line);
            out.push('\n');
            firsts.push(fields.into_iter().next().unwrap_or_default());
        }
    }
    let target = to.join(format!("{name}.csv"));
    std::fs::write(&target, out)
        .with_context(|| format!("failed to write {}", target.display()))?;
    Ok(firsts)
}

/// Splits one CSV line into its fields, honouring double quotes.
fn split_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            (c, _) => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// Checks that the months the demo lives through end by the last day of the
/// sample's history (`last_date` in its meta.json), before any work starts.
/// A sample without that field is not checked here.
fn check_range(sample: &Path, start: NaiveDate, months: u32) -> anyhow::Result<()> {
    let meta = std::fs::read_to_string(sample.join("meta.json")).unwrap_or_default();
    let last_date = serde_json::from_str::<serde_json::Value>(&meta)
        .ok()
        .and_then(|meta| meta.get("last_date")?.as_str()?.parse::<NaiveDate>().ok());
    let Some(last_date) = last_date else {
        return Ok(());
    };
    let end = month_end(start, months);
    if end > last_date {
        let latest_start = last_date
            .checked_sub_months(chrono::Months::new(months))
            .map(|date| month_end(date, 0));
        bail!(
            "--start {start} with --months {months} runs to {end}, after the sample's history ends on {last_date}\nhint: pass an earlier --start{} or fewer --months",
            latest_start.map_or_else(String::new, |date| format!(" (at the latest {date})"))
        );
    }
    Ok(())
}

/// Returns the month-end `months` months after the month of `date`.
fn month_end(date: NaiveDate, months: u32) -> NaiveDate {
    let index = date.year() * 12 + date.month0() as i32 + months as i32 + 1;
    let first_of_next =
        NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1)
            .expect("the first of a month is a date");
    first_of_next
        .pred_opt()
        .expect("a month-end has a day before")
}

/// Returns the arguments worth repeating on the progress line: dates,
/// months and files.
fn summary_line(args: &[&str]) -> String {
    let mut parts = Vec::new();
    let mut iter = args.iter().skip(1).peekable();
    while let Some(arg) = iter.next() {
        match *arg {
            "--as-of" | "--month" => {
                if let Some(value) = iter.next() {
                    parts.push((*value).to_string());
                }
            }
            "--project" | "--out" | "--truth" | "--format" => {
                iter.next();
            }
            "--force" => {}
            other => {
                let name = Path::new(other)
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_else(|| other.to_string());
                parts.push(name);
            }
        }
    }
    parts.join(" ")
}

/// Checks that `dir` is missing or empty and creates it.
fn prepare_dir(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.exists() {
        let mut entries =
            std::fs::read_dir(dir).with_context(|| format!("failed to read {}", dir.display()))?;
        if entries.next().is_some() {
            bail!(
                "{} is not empty\nhint: pass a new folder to --dir, or leave --dir out to use a temporary one",
                dir.display()
            );
        }
    }
    std::fs::create_dir_all(dir).with_context(|| format!("failed to create {}", dir.display()))?;
    Ok(dir.to_path_buf())
}

/// Creates a new folder under the system's temporary folder and keeps it.
fn new_temp_dir() -> anyhow::Result<PathBuf> {
    let base = std::env::temp_dir();
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    for attempt in 0..100 {
        let dir = base.join(format!("headroom-demo-{stamp}-{attempt}"));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => {
                return Err(err).with_context(|| format!("failed to create {}", dir.display()));
            }
        }
    }
    bail!(
        "failed to create a demo folder under {}\nhint: pass --dir DIR",
        base.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_end_steps_over_years() {
        let start = NaiveDate::from_ymd_opt(2025, 12, 31).unwrap();

        assert_eq!(
            month_end(start, 1),
            NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()
        );
        assert_eq!(
            month_end(start, 2),
            NaiveDate::from_ymd_opt(2026, 2, 28).unwrap()
        );
        assert_eq!(
            month_end(start, 14),
            NaiveDate::from_ymd_opt(2027, 2, 28).unwrap()
        );
        assert_eq!(month_end(start, 0), start);
    }

    #[test]
    fn split_keeps_header_in_every_part() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outcomes.csv");
        std::fs::write(
            &path,
            "account_id,date,outcome\nA1,2025-12-31,renewed\nA2,2026-01-05,churned\nA3,2026-03-31,expanded\nA4,2026-01-31,renewed\n",
        )
        .unwrap();

        let split = split_by_month(&path, NaiveDate::from_ymd_opt(2025, 12, 31).unwrap()).unwrap();

        assert_eq!(
            split.before,
            "account_id,date,outcome\nA1,2025-12-31,renewed\n"
        );
        assert_eq!(split.after.len(), 2);
        assert_eq!(
            split.after["2026-01"],
            "account_id,date,outcome\nA2,2026-01-05,churned\nA4,2026-01-31,renewed\n"
        );
        assert_eq!(
            split.after["2026-03"],
            "account_id,date,outcome\nA3,2026-03-31,expanded\n"
        );
    }

    #[test]
    fn split_fields_honours_quotes() {
        assert_eq!(split_fields("a,\"b, c\",d"), ["a", "b, c", "d"]);
        assert_eq!(
            split_fields("\"say \"\"hi\"\"\",,x"),
            ["say \"hi\"", "", "x"]
        );
    }

    #[test]
    fn split_rejects_row_without_date() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outcomes.csv");
        std::fs::write(&path, "account_id,date,outcome\nA1,,renewed\n").unwrap();

        let err = split_by_month(&path, NaiveDate::from_ymd_opt(2025, 12, 31).unwrap())
            .err()
            .unwrap()
            .to_string();

        assert!(
            err.ends_with("outcomes.csv:2: column \"date\": \"\" is not a date"),
            "{err}"
        );
    }
}
