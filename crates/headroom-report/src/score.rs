//! Scoring a portfolio as of a date: features, champion models, segments,
//! alerts, notes, priorities and playbooks, in one pass over the active
//! accounts.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use headroom_data::Tables;
use headroom_features::{FeatureOptions, calendar, check_usage_imported, features_and_usage};
use headroom_model::ModelKind;
use polars::prelude::*;

use crate::alerts::{self, AccountAlert, AlertInput, NoteRef, Severity};
use crate::error::ReportError;
use crate::facts::{AccountFacts, read_facts};
use crate::history::{AccountHistory, HistoryRequest, PortfolioHistory, load_history_from};
use crate::models::{Champions, LoadedModel, ModelScores, apply};
use crate::playbook::{self, PlaybookInput};
use crate::priority::{Priority, Projection, project};
use crate::progress::Progress;
use crate::project::Project;
use crate::reasons::{self, ReasonSource, ReasonText};
use crate::run::{AccountScore, LookAhead, ScoreRun};
use crate::segment::{self, HealthSegment, SegmentInput, SegmentResult};
use crate::settings::{ScoreSettings, Thresholds};
use crate::words;

/// Months of monthly usage the segments and sparklines read: a year for the
/// sparkline plus the 3 months the longest default condition looks back.
pub const HISTORY_MONTHS: usize = 15;

/// Months shown in a sparkline.
pub const SPARKLINE_MONTHS: usize = 12;

/// Options of one scoring run.
#[derive(Debug, Clone, Default)]
pub struct ScoreOptions {
    /// The scoring date (default: the snapshot date of a snapshot project,
    /// else the date of the latest usage row).
    pub as_of: Option<NaiveDate>,
    /// Accounts in the top list (default: `[priority] top`).
    pub top: Option<usize>,
    /// When the run is made (default: now); fixed in tests for stable output.
    pub created_at: Option<DateTime<Utc>>,
}

/// Everything a run reads, already loaded.
#[derive(Debug, Clone, Copy)]
pub struct ScoreInputs<'a> {
    /// The project folder, for messages.
    pub project: &'a Path,
    /// The normalized tables (with the store's ledger merged in).
    pub tables: &'a Tables,
    /// The checked settings.
    pub settings: &'a ScoreSettings,
    /// The `[features]` settings.
    pub features: &'a FeatureOptions,
    /// The champions to score with.
    pub champions: &'a Champions,
    /// The account notes active at the scoring date.
    pub notes: &'a [NoteRef],
}

/// Scores a project's portfolio with its settings, the store's champions and
/// the notes active at the scoring date. Does not write the snapshot: call
/// [`ScoreRun::write_snapshot`] with `project.store`.
///
/// Fails on invalid settings, when the usage of the month the date reads is
/// not imported, when no account is active at the date, and when features,
/// models or the store fail.
pub fn score_project(
    project: &Project,
    options: &ScoreOptions,
    progress: &dyn Progress,
) -> Result<ScoreRun, ReportError> {
    let loaded = Loaded::read(project, options)?;
    score(
        &loaded.inputs(&project.dir, &project.tables),
        &loaded.options,
        progress,
    )
}

/// What [`score_project`] reads from the config and the store.
pub(crate) struct Loaded {
    pub(crate) settings: ScoreSettings,
    pub(crate) features: FeatureOptions,
    pub(crate) champions: Champions,
    pub(crate) notes: Vec<NoteRef>,
    pub(crate) options: ScoreOptions,
}

impl Loaded {
    /// Reads the settings, champions and the notes active at the scoring date.
    pub(crate) fn read(project: &Project, options: &ScoreOptions) -> Result<Loaded, ReportError> {
        let config_path = project.dir.join(headroom_data::project::CONFIG_FILE);
        let settings = ScoreSettings::load(&project.config, &config_path)?;
        let features: FeatureOptions = project.config.section("features")?;
        let champions = Champions::load(&project.store, &settings.priority)?;
        let as_of = match options.as_of {
            Some(date) => date,
            None => default_as_of(&project.tables, &project.dir)?,
        };
        let notes = project
            .store
            .notes_active_at(as_of)?
            .iter()
            .map(NoteRef::from_note)
            .collect();
        Ok(Loaded {
            settings,
            features,
            champions,
            notes,
            options: ScoreOptions {
                as_of: Some(as_of),
                ..options.clone()
            },
        })
    }

    /// The inputs of [`score`].
    pub(crate) fn inputs<'a>(&'a self, project: &'a Path, tables: &'a Tables) -> ScoreInputs<'a> {
        ScoreInputs {
            project,
            tables,
            settings: &self.settings,
            features: &self.features,
            champions: &self.champions,
            notes: &self.notes,
        }
    }
}

/// The default scoring date: the snapshot date of a snapshot project, else
/// the date of the latest usage row.
///
/// Fails when the project has neither, or when the usage file cannot be read.
pub fn default_as_of(tables: &Tables, project: &Path) -> Result<NaiveDate, ReportError> {
    if let Some(date) = tables.meta.snapshot_date {
        return Ok(date);
    }
    let latest = tables
        .usage
        .date_range()?
        .map(|(_, last)| calendar::from_epoch_days(last));
    latest.ok_or_else(|| ReportError::NoDataDate {
        project: project.to_path_buf(),
    })
}

/// Scores the portfolio from loaded inputs.
///
/// Fails when the usage of the month the date reads is not imported, when no
/// account is active at the date, and when features or models fail.
pub fn score(
    inputs: &ScoreInputs<'_>,
    options: &ScoreOptions,
    progress: &dyn Progress,
) -> Result<ScoreRun, ReportError> {
    score_with_features(inputs, options, progress).map(|(run, _)| run)
}

/// Scores the portfolio and also returns the feature table it read.
pub(crate) fn score_with_features(
    inputs: &ScoreInputs<'_>,
    options: &ScoreOptions,
    progress: &dyn Progress,
) -> Result<(ScoreRun, DataFrame), ReportError> {
    let as_of = match options.as_of {
        Some(date) => date,
        None => default_as_of(inputs.tables, inputs.project)?,
    };

    check_usage_imported(inputs.tables, as_of)?;
    progress.stage("features", None);
    let (table, usage) = features_and_usage(inputs.tables, as_of, inputs.features, HISTORY_MONTHS)?;
    if table.height() == 0 {
        return Err(no_active_accounts(inputs, as_of));
    }
    let facts = read_facts(&table)?;
    let snapshot_only = inputs.tables.meta.snapshot_date.is_some();

    progress.stage("usage history", None);
    let history = load_history_from(
        inputs.tables,
        &table,
        &usage,
        HistoryRequest {
            as_of,
            months: HISTORY_MONTHS,
            accounts: None,
        },
    )?;
    // The feature usage is the largest value of the run, and the later steps
    // read the history instead.
    drop(usage);

    progress.stage("models", None);
    let mut notices = Vec::new();
    let churn = score_model(
        inputs,
        ModelKind::Churn,
        &table,
        snapshot_only,
        &mut notices,
    )?;
    let expansion = score_model(
        inputs,
        ModelKind::Expansion,
        &table,
        snapshot_only,
        &mut notices,
    )?;
    let look_ahead: Vec<LookAhead> = [&churn, &expansion]
        .into_iter()
        .flatten()
        .filter_map(|scored| look_ahead(scored.model, as_of))
        .collect();
    notices.extend(look_ahead.iter().map(LookAhead::message));
    if snapshot_only {
        notices.insert(0, snapshot_notice(as_of));
    }

    progress.stage("accounts", Some(facts.len() as u64));
    let notes_by_account = group_notes(inputs.notes);
    let context = AccountContext {
        settings: inputs.settings,
        history: &history,
        as_of,
        churn: churn.as_ref(),
        expansion: expansion.as_ref(),
        notes: &notes_by_account,
    };
    let mut accounts = Vec::with_capacity(facts.len());
    for (row, account_facts) in facts.into_iter().enumerate() {
        accounts.push(score_account(&context, row, account_facts));
        if row % 1024 == 1023 {
            progress.advance(1024);
        }
    }
    progress.advance(accounts.len() as u64 % 1024);

    rank(&mut accounts);
    notices.extend(unmeasured_notice(&accounts));
    let currency = accounts
        .first()
        .map(|a| a.facts.currency.clone())
        .unwrap_or_default();
    let months = (history.len().saturating_sub(SPARKLINE_MONTHS)..history.len())
        .map(|i| history.month_end(i))
        .collect();

    let run = ScoreRun {
        project: inputs.project.to_path_buf(),
        as_of,
        created_at: options.created_at.unwrap_or_else(Utc::now),
        currency,
        snapshot_only,
        churn_model: churn.as_ref().map(|c| c.model.quality.clone()),
        expansion_model: expansion.as_ref().map(|c| c.model.quality.clone()),
        notices,
        look_ahead,
        settings: inputs.settings.clone(),
        top: options.top.unwrap_or(inputs.settings.priority.top),
        months,
        accounts,
        snapshot_id: None,
    };
    Ok((run, table))
}

/// A champion and its scores on the feature table.
struct Scored<'a> {
    model: &'a LoadedModel,
    scores: ModelScores,
}

fn score_model<'a>(
    inputs: &ScoreInputs<'a>,
    kind: ModelKind,
    table: &DataFrame,
    snapshot_only: bool,
    notices: &mut Vec<String>,
) -> Result<Option<Scored<'a>>, ReportError> {
    let Some(model) = inputs.champions.get(kind) else {
        if !snapshot_only {
            notices.push(no_model_notice(kind));
        }
        return Ok(None);
    };
    if snapshot_only {
        return Ok(None);
    }

    let scores = apply(model, table, inputs.settings.priority.reasons)?;
    if model.quality.weak {
        notices.push(model.quality.verdict.clone());
    }
    if !scores.missing_inputs.is_empty() {
        notices.push(format!(
            "the {kind} model's inputs {} are not in the feature table at this date and count as missing for every account",
            words::list(&scores.missing_inputs)
        ));
    }
    Ok(Some(Scored { model, scores }))
}

/// Returns the look-ahead of a champion whose training labels read outcomes
/// dated after `as_of`: a training row observed on day D is labelled by the
/// outcomes up to D plus the horizon.
fn look_ahead(model: &LoadedModel, as_of: NaiveDate) -> Option<LookAhead> {
    let training = &model.artifact.training;
    let horizon = chrono::Days::new(u64::from(model.artifact.settings.horizon_days));
    let outcomes_to = training.last_observation.checked_add_days(horizon)?;
    (as_of < outcomes_to).then(|| LookAhead {
        kind: model.artifact.kind,
        version: model.version.clone(),
        trained_to: training.last_observation,
        outcomes_to,
        as_of,
    })
}

fn no_model_notice(kind: ModelKind) -> String {
    match kind {
        ModelKind::Churn => "no churn model in the store's registry, so churn risk comes from the rules only: ARR at risk is a share of the ARR of at-risk and watch accounts, not a probability; train one with `headroom train`".to_string(),
        ModelKind::Expansion => "no expansion model in the store's registry, so expansion comes from the rules only: expansion value is the projected need above the limits, not weighted by a probability; train one with `headroom train`".to_string(),
    }
}

fn snapshot_notice(as_of: NaiveDate) -> String {
    format!(
        "this project is a single snapshot export ({}) without usage history or outcomes: segments, alerts and priority by ARR come from the rules on one reading, and churn and expansion probabilities need months of usage history and recorded outcomes to train on",
        words::date(as_of)
    )
}

fn unmeasured_notice(accounts: &[AccountScore]) -> Option<String> {
    let count = accounts
        .iter()
        .filter(|a| a.segment == HealthSegment::Unmeasured)
        .count();
    (count > 0).then(|| {
        format!(
            "{} without a usage reading against a limit {} in the unmeasured segment",
            words::count_of(count, "account"),
            if count == 1 { "is" } else { "are" }
        )
    })
}

fn no_active_accounts(inputs: &ScoreInputs<'_>, as_of: NaiveDate) -> ReportError {
    let range = |name| -> Option<(i32, i32)> {
        let column = inputs.tables.contracts.column(name).ok()?;
        let dates = column.date().ok()?;
        Some((dates.physical().min()?, dates.physical().max()?))
    };
    let coverage = match (range("start_date"), range("end_date")) {
        (Some((first, _)), Some((_, last))) => format!(
            "{} to {}",
            calendar::from_epoch_days(first),
            calendar::from_epoch_days(last)
        ),
        _ => "no contracts".to_string(),
    };
    ReportError::NoActiveAccounts {
        project: inputs.project.to_path_buf(),
        as_of,
        coverage,
    }
}

fn group_notes(notes: &[NoteRef]) -> HashMap<String, Vec<NoteRef>> {
    let mut grouped: HashMap<String, Vec<NoteRef>> = HashMap::new();
    for note in notes {
        grouped
            .entry(note.account_id.clone())
            .or_default()
            .push(note.clone());
    }
    grouped
}

/// What every account's scoring reads.
struct AccountContext<'a> {
    settings: &'a ScoreSettings,
    history: &'a PortfolioHistory,
    as_of: NaiveDate,
    churn: Option<&'a Scored<'a>>,
    expansion: Option<&'a Scored<'a>>,
    notes: &'a HashMap<String, Vec<NoteRef>>,
}

fn score_account(context: &AccountContext<'_>, row: usize, facts: AccountFacts) -> AccountScore {
    let empty = AccountHistory::default();
    let history = context.history.account(&facts.account_id).unwrap_or(&empty);
    let settings = context.settings;

    let tenure_group = settings.segments.tenure_group(facts.tenure_months);
    let thresholds = settings
        .segments
        .thresholds_for(facts.customer_segment.as_deref(), tenure_group);
    let fall = alerts::monthly_fall(&facts, history, &settings.alerts);
    let judged = JudgedSeries::pick(history, &facts, fall);
    let segment = judged.assign(&facts, settings.segments.judge_after_months, thresholds);

    let projections: Vec<Projection> = history
        .limited()
        .filter_map(|series| {
            project(
                series,
                context.as_of,
                facts.days_to_renewal,
                facts.arr,
                &settings.priority,
            )
        })
        .collect();
    let expansion_projection = projections
        .iter()
        .filter(|p| p.added_arr > 0.0)
        .max_by(|a, b| a.added_arr.total_cmp(&b.added_arr))
        .cloned();

    let p_churn = context.churn.map(|c| c.scores.probabilities[row]);
    let p_expansion = context.expansion.map(|c| c.scores.probabilities[row]);
    let flagged_churn = match (context.churn, p_churn) {
        (Some(c), Some(p)) => p >= c.model.threshold,
        _ => segment.segment == HealthSegment::AtRisk,
    };
    let flagged_expansion = match (context.expansion, p_expansion) {
        (Some(c), Some(p)) => p >= c.model.threshold,
        _ => matches!(
            segment.segment,
            HealthSegment::Expansion | HealthSegment::ApproachingLimits
        ),
    };

    let notes = context
        .notes
        .get(&facts.account_id)
        .cloned()
        .unwrap_or_default();
    let mut account_alerts = alerts::raise(
        &AlertInput {
            facts: &facts,
            history,
            last_month: context.history.last_month,
            data_start: context.history.data_start,
            projections: &projections,
            fall,
            segment: segment.segment,
            p_churn,
            flagged_churn,
        },
        &settings.alerts,
    );
    alerts::apply_notes(&mut account_alerts, &notes);

    let priority = priority_of(
        context,
        &facts,
        segment.segment,
        &account_alerts,
        p_churn,
        p_expansion,
        expansion_projection.as_ref(),
    );
    let needs_attention = flagged_churn
        || flagged_expansion
        || matches!(
            segment.segment,
            HealthSegment::AtRisk
                | HealthSegment::Watch
                | HealthSegment::Expansion
                | HealthSegment::ApproachingLimits
        )
        || account_alerts
            .iter()
            .any(|a| a.is_active() && a.severity != Severity::Info);

    let mut reasons = model_reasons(context, row, &facts, history);
    reasons.push(segment_reason(
        &segment,
        &judged,
        &facts,
        &thresholds,
        context,
    ));

    let playbook = if needs_attention {
        playbook::write(&PlaybookInput {
            facts: &facts,
            history,
            segment: segment.segment,
            thresholds: &thresholds,
            projections: &projections,
            expansion: expansion_projection.as_ref(),
            alerts: &account_alerts,
            notes: &notes,
            p_churn,
            p_expansion,
            flagged_churn,
            flagged_expansion,
        })
    } else {
        playbook::Playbook::default()
    };

    let sparkline_start = judged.utilization.len().saturating_sub(SPARKLINE_MONTHS);
    AccountScore {
        rank: 0,
        segment: segment.segment,
        condition: segment.condition,
        segment_since: segment.since.map(|i| context.history.month_end(i)),
        pending: segment.pending,
        tenure_group,
        thresholds,
        utilization: judged.utilization.last().copied().flatten(),
        utilization_entitlement: judged.entitlement.clone(),
        sparkline: judged.utilization[sparkline_start..].to_vec(),
        p_churn,
        p_expansion,
        flagged_churn,
        flagged_expansion,
        needs_attention,
        reasons,
        alerts: account_alerts,
        notes,
        projections,
        priority,
        actions: playbook.actions,
        talking_points: playbook.talking_points,
        facts,
    }
}

/// The utilization series an account's segment is judged on.
struct JudgedSeries {
    /// The entitlement behind it.
    entitlement: Option<String>,
    /// Its monthly utilization, the latest month seasonally adjusted when a
    /// seasonal dip was recognized.
    utilization: Vec<Option<f64>>,
    /// Whether the latest month was seasonally adjusted.
    adjusted: bool,
    /// Every limited entitlement's utilization.
    limited: Vec<Vec<Option<f64>>>,
    /// Their names, in the same order.
    limited_names: Vec<String>,
}

impl JudgedSeries {
    /// Picks the primary entitlement, or the first limited one when the
    /// primary has no limit, and adjusts a recognized seasonal dip.
    fn pick(
        history: &AccountHistory,
        facts: &AccountFacts,
        fall: Option<alerts::MonthlyFall>,
    ) -> JudgedSeries {
        let limited: Vec<Vec<Option<f64>>> = history.limited().map(|e| e.utilization()).collect();
        let limited_names = history.limited().map(|e| e.entitlement.clone()).collect();
        let primary = history.primary_entitlement().filter(|e| e.limit.is_some());
        let (entitlement, mut utilization, is_primary) = match primary {
            Some(series) => (Some(series.entitlement.clone()), series.utilization(), true),
            None => match history.limited().next() {
                Some(series) => (
                    Some(series.entitlement.clone()),
                    series.utilization(),
                    false,
                ),
                None => (None, history.primary_utilization(), false),
            },
        };

        // NOTE: only the latest month is seasonally adjusted, because the
        // feature table holds the seasonal index of that month alone.
        let mut adjusted = false;
        if is_primary
            && fall.is_some_and(|f| f.seasonal)
            && let (Some(last), Some(sa)) = (utilization.last_mut(), facts.util_primary_sa)
        {
            *last = Some(sa);
            adjusted = true;
        }
        JudgedSeries {
            entitlement,
            utilization,
            adjusted,
            limited,
            limited_names,
        }
    }

    fn assign(
        &self,
        facts: &AccountFacts,
        judge_after_months: u32,
        thresholds: Thresholds,
    ) -> SegmentResult {
        segment::assign(&SegmentInput {
            usage: &self.utilization,
            limited: &self.limited,
            tenure_months: facts.tenure_months,
            judge_after_months,
            thresholds,
        })
    }
}

fn priority_of(
    context: &AccountContext<'_>,
    facts: &AccountFacts,
    segment: HealthSegment,
    alerts: &[AccountAlert],
    p_churn: Option<f64>,
    p_expansion: Option<f64>,
    expansion: Option<&Projection>,
) -> Priority {
    let settings = &context.settings.priority;
    let arr = facts.arr.max(0.0);
    let arr_at_risk = match p_churn {
        Some(p) => p * arr,
        None => {
            let dropped = alerts
                .iter()
                .any(|a| a.kind == alerts::AlertKind::UsageDrop && a.is_active());
            let weight = if segment == HealthSegment::AtRisk || dropped {
                settings.rules_at_risk_weight
            } else if segment == HealthSegment::Watch {
                settings.rules_watch_weight
            } else {
                0.0
            };
            weight * arr
        }
    };
    let expansion_arr = expansion.map_or(0.0, |p| p.added_arr);
    let expansion_value = match p_expansion {
        Some(p) => p * expansion_arr,
        None => expansion_arr,
    };
    Priority::combine(
        arr_at_risk,
        expansion_arr,
        expansion_value,
        facts.days_to_renewal,
        settings,
    )
}

fn model_reasons(
    context: &AccountContext<'_>,
    row: usize,
    facts: &AccountFacts,
    history: &AccountHistory,
) -> Vec<ReasonText> {
    let mut out = Vec::new();
    for (scored, source) in [
        (context.churn, ReasonSource::Churn),
        (context.expansion, ReasonSource::Expansion),
    ] {
        if let Some(scored) = scored {
            let codes = &scored.scores.reasons[row];
            let inputs = reasons::RowInputs {
                matrix: Some(&scored.scores.inputs),
                row,
                renewal_window_days: scored.scores.renewal_window_days,
            };
            out.extend(reasons::from_contributions(
                source,
                &codes.raising,
                facts,
                Some(history),
                inputs,
            ));
        }
    }
    out
}

/// The rule reason: why the account is in its segment, in words.
fn segment_reason(
    result: &SegmentResult,
    judged: &JudgedSeries,
    facts: &AccountFacts,
    t: &Thresholds,
    context: &AccountContext<'_>,
) -> ReasonText {
    let name = judged
        .entitlement
        .as_deref()
        .map(words::name)
        .unwrap_or_else(|| "usage".to_string());
    let latest = judged.utilization.last().copied().flatten();
    let pct = latest
        .map(words::percent)
        .unwrap_or_else(|| "unknown".to_string());
    let adjusted = if judged.adjusted {
        " seasonally adjusted"
    } else {
        ""
    };
    // A segment that began in the first month of the window may be older.
    let since = match result.since {
        Some(0) => format!(
            "{} or earlier",
            words::month_of(context.history.month_end(0))
        ),
        Some(i) => words::month_of(context.history.month_end(i)),
        None => String::new(),
    };
    let holds = result.condition == Some(result.segment);

    let month = words::month_of(context.history.month_end(context.history.len() - 1));
    let latest_month = if context.history.snapshot {
        format!("the {month} snapshot")
    } else {
        month
    };
    let lasting = |series: &[Option<f64>], holds: &dyn Fn(f64) -> bool| -> String {
        if context.history.snapshot {
            return String::new();
        }
        let (months, whole_window) = trailing_run(series, holds);
        let or_more = if whole_window { " or more" } else { "" };
        format!(" for {}{or_more}", words::count_of(months, "month"))
    };

    let mut text = match result.segment {
        HealthSegment::New => format!(
            "customer for {}, under the {} months needed to judge usage",
            words::count_of(facts.tenure_months.unwrap_or(0.0).floor() as usize, "month"),
            context.settings.segments.judge_after_months
        ),
        HealthSegment::Unmeasured => "no usage reading against a limit to judge".to_string(),
        segment if !holds => format!(
            "{} since {since}; {name} at {pct}{adjusted} in {latest_month}",
            segment.label()
        ),
        HealthSegment::AtRisk => format!(
            "{name} under {}{}: {pct}{adjusted} in {latest_month}",
            words::percent(t.at_risk_below),
            lasting(&judged.utilization, &|u| u < t.at_risk_below)
        ),
        HealthSegment::Watch => format!(
            "{name} at {pct}{adjusted} in {latest_month}, under the {} watch line",
            words::percent(t.watch_below)
        ),
        HealthSegment::Healthy => format!(
            "{name} at {pct}{adjusted} in {latest_month}, between {} and {}",
            words::percent(t.watch_below),
            words::percent(t.expansion_above)
        ),
        HealthSegment::Expansion => {
            let series = result
                .driver
                .map_or(&judged.utilization, |j| &judged.limited[j]);
            format!(
                "{} above {}{}",
                driver_name(result, judged),
                words::percent(t.expansion_above),
                lasting(series, &|u| u > t.expansion_above)
            )
        }
        HealthSegment::ApproachingLimits => format!(
            "{} at or above {} of the limit and rising",
            driver_name(result, judged),
            words::percent(t.limits_at)
        ),
    };
    if let Some(pending) = result.pending {
        text.push_str(&format!(
            "; moving toward {}: its condition has held {} of the {} needed",
            pending.segment.label(),
            words::count_of(pending.months, "month"),
            t.persistence_months
        ));
    }
    ReasonText {
        source: ReasonSource::Rule,
        feature: "segment".to_string(),
        contribution: 0.0,
        text,
    }
}

/// The number of consecutive readings, ending at the latest month, for which
/// `holds` is true, and whether the run reaches back to the first month.
fn trailing_run(series: &[Option<f64>], holds: &dyn Fn(f64) -> bool) -> (usize, bool) {
    let mut months = 0;
    for value in series.iter().rev() {
        match value {
            Some(v) if holds(*v) => months += 1,
            _ => return (months, false),
        }
    }
    (months, true)
}

/// The entitlement behind an expansion or limits segment, with its latest
/// utilization: "API calls (95%)".
fn driver_name(result: &SegmentResult, judged: &JudgedSeries) -> String {
    let Some(j) = result.driver else {
        return "usage".to_string();
    };
    let latest = judged.limited[j].last().copied().flatten();
    match latest {
        Some(u) => format!(
            "{} ({} now)",
            words::name(&judged.limited_names[j]),
            words::percent(u)
        ),
        None => words::name(&judged.limited_names[j]),
    }
}

/// Sorts by priority (highest first), then ARR, then account id, and numbers
/// the ranks from 1.
fn rank(accounts: &mut [AccountScore]) {
    accounts.sort_by(|a, b| {
        b.priority
            .score
            .total_cmp(&a.priority.score)
            .then(b.facts.arr.total_cmp(&a.facts.arr))
            .then(a.facts.account_id.cmp(&b.facts.account_id))
    });
    for (i, account) in accounts.iter_mut().enumerate() {
        account.rank = i + 1;
    }
}

#[cfg(test)]
mod tests;
