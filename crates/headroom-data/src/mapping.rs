//! Mapping files: how a foreign export becomes the contract tables, without
//! editing the export.
//!
//! A mapping names the files, maps their columns to contract columns, and
//! describes how cells are written (date formats, yes/no words, thousands separators,
//! currency, percents). Each contract table is built from one or more sources
//! (`[[outcomes]]` may list a churn-events file and an upgrade flag of a
//! subscriptions file). docs/mapping.md documents every key.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Deserialize;

use crate::cell::{BoolWords, DateFormat, NumberFormat};
use crate::contract::{ColumnKind, TableKind};
use crate::currency;
use crate::error::DataError;
use crate::tables::Rollup;

/// A parsed and checked mapping file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// A line describing the export this mapping reads.
    pub description: Option<String>,
    /// The date a one-row-per-customer export was taken (`"2025-06-30"`); the
    /// constant `date = "snapshot"` refers to it.
    #[serde(default, deserialize_with = "de_opt_date")]
    pub snapshot_date: Option<NaiveDate>,
    /// Combine usage rows to one per account, metric and day or month.
    pub usage_grain: Option<Grain>,
    /// Cell formats for every source; a source's own `format` wins.
    #[serde(default)]
    pub format: FormatSpec,
    /// The reporting currency and FX rates.
    pub currency: Option<CurrencySpec>,
    /// Short names for files (`subscriptions = "ravenstack_subscriptions.csv"`).
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// Accounts to leave out: tests, trials, internal accounts.
    #[serde(default)]
    pub exclude: ExcludeSpec,
    /// Month rollup per usage metric.
    #[serde(default)]
    pub rollups: BTreeMap<String, Rollup>,
    /// The usage metric that measures each entitlement (`seats = "active_users"`).
    #[serde(default)]
    pub measures: BTreeMap<String, String>,
    /// Sources of the accounts table.
    #[serde(default)]
    pub accounts: Vec<SourceSpec>,
    /// Sources of the contracts table.
    #[serde(default)]
    pub contracts: Vec<SourceSpec>,
    /// Sources of the entitlements table.
    #[serde(default)]
    pub entitlements: Vec<SourceSpec>,
    /// Sources of the usage table.
    #[serde(default)]
    pub usage: Vec<SourceSpec>,
    /// Sources of the outcomes table.
    #[serde(default)]
    pub outcomes: Vec<SourceSpec>,
    /// Sources of the interventions table.
    #[serde(default)]
    pub interventions: Vec<SourceSpec>,

    /// The mapping file, for messages; `None` for the built-in contract mapping.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// The grain usage rows are combined to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    /// One row per account, metric and day.
    Day,
    /// One row per account, metric and month, dated on the month's last day.
    Month,
}

/// Whether money columns hold major units (dollars) or minor units (cents).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MoneyUnit {
    /// Dollars, euros, yen.
    #[default]
    Major,
    /// Cents; divided by 10^digits of each row's currency (JPY has none).
    Minor,
}

/// Cell formats. Every key is optional, and an unset key falls back to the
/// mapping's `[format]`, then to the default noted on its field.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatSpec {
    /// Date format: `auto` (default), `iso`, `day-first`, `month-first` or a
    /// strftime pattern such as `%d-%m-%Y`.
    pub date_format: Option<String>,
    /// A second pattern for cells with a time of day, such as `%d-%m-%Y %H:%M`.
    pub timestamp_format: Option<String>,
    /// Words meaning true (default: true, yes, y, t, 1; case is ignored).
    #[serde(rename = "true")]
    pub truthy: Option<Vec<String>>,
    /// Words meaning false (default: false, no, n, f, 0; case is ignored).
    #[serde(rename = "false")]
    pub falsy: Option<Vec<String>>,
    /// Cell texts read as blank, besides empty and whitespace-only cells.
    pub null_values: Option<Vec<String>>,
    /// Thousands separator (default `,`; `""` for none).
    pub thousands: Option<String>,
    /// Decimal mark (default `.`).
    pub decimal: Option<String>,
    /// Unit of money columns (default `major`).
    pub money_unit: Option<MoneyUnit>,
    /// Currency of money columns in tables without a currency column.
    pub currency: Option<String>,
    /// CSV field separator (default `,`).
    pub separator: Option<String>,
}

/// `[currency]`: the reporting currency and rates into it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CurrencySpec {
    /// The reporting currency (ISO 4217).
    pub report: String,
    /// Units of the reporting currency per unit of each other currency.
    #[serde(default)]
    pub rates: BTreeMap<String, f64>,
}

/// `[exclude]`: accounts left out of every table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcludeSpec {
    /// Account ids to leave out.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Rules over a file's rows; the accounts of matching rows are left out.
    #[serde(default)]
    pub rules: Vec<ExcludeRule>,
}

/// One exclusion rule: accounts whose row in `file` has `column` equal to one
/// of `equals`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExcludeRule {
    /// The file (a name from `[files]` or a path).
    pub file: String,
    /// The column holding the account id (default `account_id`).
    #[serde(default = "default_account_column")]
    pub account: String,
    /// The column the rule looks at.
    pub column: String,
    /// The texts that exclude an account (compared after trimming).
    pub equals: OneOrMany,
    /// The reason these accounts are left out, for the report.
    pub reason: Option<String>,
}

/// A text or a list of texts.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    /// One text.
    One(String),
    /// Several texts.
    Many(Vec<String>),
}

impl OneOrMany {
    /// Returns the texts as a list.
    pub fn values(&self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one.clone()],
            OneOrMany::Many(many) => many.clone(),
        }
    }
}

/// One source of a contract table: a file and how its columns become contract
/// columns.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// The file or folder of part files (a name from `[files]` or a path
    /// relative to the input folder).
    pub file: String,
    /// Contract column = source column header.
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Contract column = the same value on every row.
    #[serde(default)]
    pub constants: BTreeMap<String, toml::Value>,
    /// Contract column = a text built from source columns (`"{Customer}-2025"`).
    #[serde(default)]
    pub templates: BTreeMap<String, String>,
    /// Contract column = { source word = contract word }, applied before parsing.
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    /// Contract column = value used for blank cells (each fill is counted).
    #[serde(default)]
    pub fill: BTreeMap<String, toml::Value>,
    /// Contract columns whose cells are percent strings (`85%` reads as 0.85).
    #[serde(default)]
    pub percent: Vec<String>,
    /// Cell formats of this source.
    #[serde(default)]
    pub format: FormatSpec,
    /// Keep only rows matching every rule.
    #[serde(default)]
    pub keep: Vec<RowRule>,
    /// Drop rows matching any rule (counted with the rule's reason).
    #[serde(default)]
    pub skip: Vec<RowRule>,
    /// Find each row's account through another file (usage keyed by subscription).
    pub account_via: Option<LookupSpec>,
    /// Contracts: the renewal date of rows with a blank end date.
    pub open_end: Option<OpenEndSpec>,
    /// Contracts: the term length in months, giving `start_date = end_date - term`
    /// when the export has no start date.
    pub term_months: Option<u32>,
    /// Outcomes: one row per anniversary of a start date while the row is open.
    pub anniversaries: Option<AnniversarySpec>,
    /// Accounts: a yes/no column saying the account churned, checked against the
    /// churned outcomes.
    pub churn_flag: Option<String>,
    /// Source columns that should be unique (duplicates are counted warnings).
    #[serde(default)]
    pub unique: Vec<String>,
}

/// A rule over one source column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowRule {
    /// The source column.
    pub column: String,
    /// The texts that match (compared after trimming; `""` matches blank cells).
    pub equals: OneOrMany,
    /// The reason matching rows are dropped, for the report.
    pub reason: Option<String>,
}

/// `account_via`: the lookup from a key of this source to an account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupSpec {
    /// The file holding the key and its account.
    pub file: String,
    /// The key column in this source.
    pub key: String,
    /// The key column in the lookup file (default: same as `key`).
    pub lookup_key: Option<String>,
    /// The account column in the lookup file (default `account_id`).
    #[serde(default = "default_account_column")]
    pub account: String,
    /// A start-date column in the lookup file; rows dated before it are counted.
    pub start: Option<String>,
    /// An end-date column in the lookup file; rows dated after it are counted.
    pub end: Option<String>,
}

/// `open_end`: how a contract with a blank end date gets its renewal date.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenEndSpec {
    /// A source column naming the billing term (`monthly`, `annual`).
    pub term_column: Option<String>,
    /// Term word = months (`monthly = 1`, `annual = 12`).
    #[serde(default)]
    pub terms: BTreeMap<String, u32>,
    /// Term length in months when there is no `term_column`.
    pub months: Option<u32>,
    /// The renewal date is the first term anniversary after this date:
    /// `"data_end"` (default, the latest date in the export) or a date.
    pub after: Option<String>,
}

/// `anniversaries`: one outcome row per anniversary of a start date.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnniversarySpec {
    /// The source column with the start date.
    pub start: String,
    /// The source column with the end date (blank: still open).
    pub end: Option<String>,
    /// Months between anniversaries (12 for yearly renewals).
    pub every_months: u32,
    /// The last date an anniversary may fall on: `"data_end"` (default) or a date.
    pub until: Option<String>,
}

fn default_account_column() -> String {
    "account_id".to_string()
}

fn de_opt_date<'de, D>(deserializer: D) -> Result<Option<NaiveDate>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Option::<toml::Value>::deserialize(deserializer)?;
    let Some(value) = value else {
        return Ok(None);
    };
    let text = match value {
        toml::Value::String(text) => text,
        toml::Value::Datetime(datetime) => datetime.to_string(),
        other => {
            return Err(serde::de::Error::custom(format!(
                "expected a date such as \"2025-06-30\", found {other}"
            )));
        }
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| {
            serde::de::Error::custom(format!("invalid date {text:?}, expected YYYY-MM-DD"))
        })
}

/// The formats a source's cells are read with, after applying defaults.
#[derive(Debug, Clone)]
pub struct CellFormats {
    /// `None` detects the order from the cells (see `DateShape`).
    pub date: Option<DateFormat>,
    /// A pattern for cells with a time of day.
    pub timestamp: Option<String>,
    /// Yes/no words.
    pub bools: BoolWords,
    /// Extra texts read as blank.
    pub nulls: Vec<String>,
    /// Thousands separator and decimal mark.
    pub number: NumberFormat,
    /// Major or minor units.
    pub money_unit: MoneyUnit,
    /// Currency of money cells in tables without a currency column.
    pub currency: Option<String>,
    /// CSV separator byte.
    pub separator: u8,
}

impl Mapping {
    /// Reads and checks a mapping file.
    ///
    /// Fails on invalid TOML, unknown keys, unknown contract columns or tables,
    /// and formats, currencies or rates that cannot be used.
    pub fn load(path: &Path) -> Result<Mapping, DataError> {
        let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Mapping::parse(&text, path)
    }

    /// Loads the mapping at `path`, or returns the contract mapping when there is none.
    ///
    /// Fails like [`Mapping::load`].
    pub fn load_or_contract(path: Option<&Path>) -> Result<Mapping, DataError> {
        match path {
            Some(path) => Mapping::load(path),
            None => Ok(Mapping::contract()),
        }
    }

    /// Parses and checks mapping text; `path` is used in messages.
    ///
    /// Fails like [`Mapping::load`].
    pub fn parse(text: &str, path: &Path) -> Result<Mapping, DataError> {
        let mut mapping: Mapping = toml::from_str(text).map_err(|err| DataError::Mapping {
            path: path.to_path_buf(),
            message: err.to_string().trim().replace('\n', "\n  "),
            hint: "compare the file with the keys documented in docs/mapping.md".to_string(),
        })?;
        mapping.path = Some(path.to_path_buf());
        mapping.check()?;
        Ok(mapping)
    }

    /// Builds the mapping for a folder already in the contract format: one file per
    /// table named after it, with contract column names.
    pub fn contract() -> Mapping {
        let mut mapping = Mapping::default();
        for kind in TableKind::ALL {
            let columns = kind
                .columns()
                .iter()
                .map(|c| (c.name.to_string(), c.name.to_string()))
                .collect();
            let source = SourceSpec {
                file: kind.name().to_string(),
                columns,
                ..SourceSpec::empty(kind.name())
            };
            mapping.sources_mut(kind).push(source);
        }
        mapping
    }

    /// Returns whether this is the built-in mapping of the contract format, whose
    /// optional columns may be missing from the files.
    pub fn is_contract(&self) -> bool {
        self.path.is_none()
    }

    /// Returns the sources of a table.
    pub fn sources(&self, kind: TableKind) -> &[SourceSpec] {
        match kind {
            TableKind::Accounts => &self.accounts,
            TableKind::Contracts => &self.contracts,
            TableKind::Entitlements => &self.entitlements,
            TableKind::Usage => &self.usage,
            TableKind::Outcomes => &self.outcomes,
            TableKind::Interventions => &self.interventions,
        }
    }

    fn sources_mut(&mut self, kind: TableKind) -> &mut Vec<SourceSpec> {
        match kind {
            TableKind::Accounts => &mut self.accounts,
            TableKind::Contracts => &mut self.contracts,
            TableKind::Entitlements => &mut self.entitlements,
            TableKind::Usage => &mut self.usage,
            TableKind::Outcomes => &mut self.outcomes,
            TableKind::Interventions => &mut self.interventions,
        }
    }

    /// Returns the file path a source's `file` refers to, relative to the input folder.
    pub fn file_path(&self, file: &str) -> String {
        self.files
            .get(file)
            .cloned()
            .unwrap_or_else(|| file.to_string())
    }

    /// Resolves the cell formats of a source: its own `format`, then `[format]`, then defaults.
    pub fn cell_formats(&self, source: &SourceSpec) -> CellFormats {
        let own = &source.format;
        let global = &self.format;
        let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
        let date = pick(&own.date_format, &global.date_format)
            .filter(|f| f != "auto")
            .and_then(|f| DateFormat::from_mapping(&f));
        let defaults = BoolWords::default();
        let bools = BoolWords {
            truthy: own
                .truthy
                .clone()
                .or_else(|| global.truthy.clone())
                .unwrap_or(defaults.truthy),
            falsy: own
                .falsy
                .clone()
                .or_else(|| global.falsy.clone())
                .unwrap_or(defaults.falsy),
        };
        let thousands = pick(&own.thousands, &global.thousands)
            .map(|t| t.chars().next())
            .unwrap_or(Some(','));
        let decimal = pick(&own.decimal, &global.decimal)
            .and_then(|d| d.chars().next())
            .unwrap_or('.');
        let separator = pick(&own.separator, &global.separator)
            .and_then(|s| s.bytes().next())
            .unwrap_or(b',');
        CellFormats {
            date,
            timestamp: pick(&own.timestamp_format, &global.timestamp_format),
            bools,
            nulls: own
                .null_values
                .clone()
                .or_else(|| global.null_values.clone())
                .unwrap_or_default(),
            number: NumberFormat { thousands, decimal },
            money_unit: own.money_unit.or(global.money_unit).unwrap_or_default(),
            currency: pick(&own.currency, &global.currency),
            separator,
        }
    }

    fn error(&self, message: String, hint: &str) -> DataError {
        DataError::Mapping {
            path: self.path.clone().unwrap_or_default(),
            message,
            hint: hint.to_string(),
        }
    }

    fn check(&self) -> Result<(), DataError> {
        self.check_formats(&self.format, "[format]")?;
        self.check_currency()?;
        for kind in TableKind::ALL {
            for (index, source) in self.sources(kind).iter().enumerate() {
                let at = format!("[[{kind}]] #{}", index + 1);
                self.check_source(kind, source, &at)?;
            }
        }
        Ok(())
    }

    fn check_formats(&self, format: &FormatSpec, at: &str) -> Result<(), DataError> {
        if let Some(date) = &format.date_format
            && date != "auto"
            && DateFormat::from_mapping(date).is_none()
        {
            return Err(self.error(
                format!("{at} date_format {date:?} is not a date format"),
                "use auto, iso, day-first, month-first or a strftime pattern such as \"%d/%m/%Y\"",
            ));
        }
        for (key, value) in [
            ("thousands", &format.thousands),
            ("decimal", &format.decimal),
            ("separator", &format.separator),
        ] {
            if let Some(value) = value
                && value.chars().count() > 1
            {
                return Err(self.error(
                    format!("{at} {key} {value:?} must be a single character"),
                    "write one character, such as \",\" or \".\"",
                ));
            }
        }
        if format.thousands.is_some() && format.thousands == format.decimal {
            return Err(self.error(
                format!("{at} thousands and decimal are the same character"),
                "use different characters, such as thousands = \".\" and decimal = \",\"",
            ));
        }
        if let Some(code) = &format.currency
            && currency::minor_digits(code).is_none()
        {
            return Err(self.error(
                format!("{at} currency {code:?} is not an ISO 4217 code"),
                "use a code such as USD, EUR, GBP or JPY",
            ));
        }
        Ok(())
    }

    fn check_currency(&self) -> Result<(), DataError> {
        let Some(spec) = &self.currency else {
            return Ok(());
        };
        let codes = std::iter::once(&spec.report).chain(spec.rates.keys());
        for code in codes {
            if currency::minor_digits(code).is_none() {
                return Err(self.error(
                    format!("[currency] {code:?} is not an ISO 4217 code"),
                    "use codes such as USD, EUR, GBP or JPY",
                ));
            }
        }
        for (code, rate) in &spec.rates {
            if !(rate.is_finite() && *rate > 0.0) {
                return Err(self.error(
                    format!("[currency] rate for {code} is {rate}, not a positive number"),
                    "give the units of the reporting currency per unit of this currency, such as EUR = 1.08",
                ));
            }
        }
        Ok(())
    }

    fn check_source(
        &self,
        kind: TableKind,
        source: &SourceSpec,
        at: &str,
    ) -> Result<(), DataError> {
        self.check_formats(&source.format, at)?;
        let keyed = [
            ("columns", source.columns.keys().collect::<Vec<_>>()),
            ("constants", source.constants.keys().collect()),
            ("templates", source.templates.keys().collect()),
            ("values", source.values.keys().collect()),
            ("fill", source.fill.keys().collect()),
            ("percent", source.percent.iter().collect()),
        ];
        for (key, names) in keyed {
            for name in names {
                if kind.column(name).is_none() {
                    return Err(self.error(
                        format!("{at} {key}.{name}: the {kind} table has no column {name:?}"),
                        &format!(
                            "use one of: {}",
                            kind.columns()
                                .iter()
                                .map(|c| c.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        }
        for name in &source.percent {
            let column = kind.column(name).expect("checked above");
            if !matches!(column.kind, ColumnKind::Number | ColumnKind::Money) {
                return Err(self.error(
                    format!("{at} percent lists {name:?}, which is not a number column"),
                    "list only number columns under percent",
                ));
            }
        }
        self.check_derivations(kind, source, at)?;
        self.check_required(kind, source, at)
    }

    fn check_derivations(
        &self,
        kind: TableKind,
        source: &SourceSpec,
        at: &str,
    ) -> Result<(), DataError> {
        let misplaced = [
            ("open_end", source.open_end.is_some(), TableKind::Contracts),
            (
                "term_months",
                source.term_months.is_some(),
                TableKind::Contracts,
            ),
            (
                "anniversaries",
                source.anniversaries.is_some(),
                TableKind::Outcomes,
            ),
            (
                "churn_flag",
                source.churn_flag.is_some(),
                TableKind::Accounts,
            ),
        ];
        for (key, present, allowed) in misplaced {
            if present && kind != allowed {
                return Err(self.error(
                    format!("{at} {key} applies only to [[{allowed}]] sources"),
                    &format!("move {key} to a [[{allowed}]] source or remove it"),
                ));
            }
        }
        if let Some(open_end) = &source.open_end {
            if open_end.term_column.is_none() && open_end.months.is_none() {
                return Err(self.error(
                    format!("{at} open_end needs term_column with terms, or months"),
                    "add months = 12, or term_column = \"billing_frequency\" and terms = { monthly = 1, annual = 12 }",
                ));
            }
            if open_end.term_column.is_some() && open_end.terms.is_empty() {
                return Err(self.error(
                    format!("{at} open_end.term_column needs terms"),
                    "add terms = { monthly = 1, annual = 12 } with the words of the column",
                ));
            }
            if open_end
                .terms
                .values()
                .chain(open_end.months.iter())
                .any(|m| *m == 0)
            {
                return Err(self.error(
                    format!("{at} open_end term of 0 months"),
                    "give each term in whole months, at least 1",
                ));
            }
            self.check_anchor(open_end.after.as_deref(), at, "open_end.after")?;
        }
        if let Some(anniversaries) = &source.anniversaries {
            if anniversaries.every_months == 0 {
                return Err(self.error(
                    format!("{at} anniversaries.every_months is 0"),
                    "give the months between anniversaries, such as 12",
                ));
            }
            self.check_anchor(anniversaries.until.as_deref(), at, "anniversaries.until")?;
        }
        if source.account_via.is_some() && source.columns.contains_key("account_id") {
            return Err(self.error(
                format!("{at} maps account_id both through columns and account_via"),
                "remove one of them",
            ));
        }
        Ok(())
    }

    fn check_anchor(&self, anchor: Option<&str>, at: &str, key: &str) -> Result<(), DataError> {
        match anchor {
            None | Some("data_end") => Ok(()),
            Some(text) if NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok() => Ok(()),
            Some(text) => Err(self.error(
                format!("{at} {key} {text:?} is neither \"data_end\" nor a date"),
                "write \"data_end\" or a date such as \"2024-12-31\"",
            )),
        }
    }

    fn check_required(
        &self,
        kind: TableKind,
        source: &SourceSpec,
        at: &str,
    ) -> Result<(), DataError> {
        for column in kind.columns().iter().filter(|c| c.required) {
            let name = column.name;
            let provided = source.columns.contains_key(name)
                || source.constants.contains_key(name)
                || source.templates.contains_key(name)
                || (name == "account_id" && source.account_via.is_some())
                || (name == "start_date" && source.term_months.is_some())
                || (name == "date" && source.anniversaries.is_some());
            if !provided {
                return Err(self.error(
                    format!("{at} does not provide the required column {kind}.{name}"),
                    &format!(
                        "map it under columns ({name} = \"<header in the file>\"), or give it under constants"
                    ),
                ));
            }
        }
        if self.snapshot_date.is_none()
            && source
                .constants
                .iter()
                .any(|(_, v)| v.as_str() == Some("snapshot"))
        {
            return Err(self.error(
                format!("{at} uses the constant \"snapshot\" but snapshot_date is not set"),
                "add snapshot_date = \"YYYY-MM-DD\" (the day the export was taken) at the top of the mapping",
            ));
        }
        Ok(())
    }
}

impl SourceSpec {
    /// Returns a source of `file` that maps nothing yet.
    pub fn empty(file: &str) -> SourceSpec {
        SourceSpec {
            file: file.to_string(),
            columns: BTreeMap::new(),
            constants: BTreeMap::new(),
            templates: BTreeMap::new(),
            values: BTreeMap::new(),
            fill: BTreeMap::new(),
            percent: Vec::new(),
            format: FormatSpec::default(),
            keep: Vec::new(),
            skip: Vec::new(),
            account_via: None,
            open_end: None,
            term_months: None,
            anniversaries: None,
            churn_flag: None,
            unique: Vec::new(),
        }
    }
}

/// Formats a TOML constant as the text it would have in a cell.
pub fn constant_text(value: &toml::Value) -> String {
    match value {
        toml::Value::String(text) => text.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Mapping, DataError> {
        Mapping::parse(text, Path::new("m.toml"))
    }

    #[test]
    fn mapping_rejects_unknown_contract_column() {
        let err = parse(
            "[[accounts]]\nfile = \"a.csv\"\ncolumns = { account_id = \"id\", name = \"n\", customer_since = \"s\", colour = \"c\" }\n",
        )
        .unwrap_err();
        let DataError::Mapping { message, .. } = err else {
            panic!("expected a mapping error, got {err:?}");
        };
        assert_eq!(
            message,
            "[[accounts]] #1 columns.colour: the accounts table has no column \"colour\""
        );
    }

    #[test]
    fn mapping_rejects_missing_required_column() {
        let err = parse("[[accounts]]\nfile = \"a.csv\"\ncolumns = { account_id = \"id\" }\n")
            .unwrap_err();
        let DataError::Mapping { message, .. } = err else {
            panic!("expected a mapping error, got {err:?}");
        };
        assert_eq!(
            message,
            "[[accounts]] #1 does not provide the required column accounts.name"
        );
    }

    #[test]
    fn mapping_rejects_unknown_key() {
        let err = parse("colour = 1\n").unwrap_err();
        assert!(matches!(err, DataError::Mapping { .. }));
    }

    #[test]
    fn mapping_rejects_bad_rate_and_code() {
        let err = parse("[currency]\nreport = \"USD\"\nrates = { EUR = 0.0 }\n").unwrap_err();
        assert!(err.to_string().contains("rate for EUR is 0"));
        let err = parse("[currency]\nreport = \"DOLLAR\"\n").unwrap_err();
        assert!(
            err.to_string()
                .contains("\"DOLLAR\" is not an ISO 4217 code")
        );
    }

    #[test]
    fn formats_fall_back_to_global_then_default() {
        let mapping = parse(
            "[format]\ndate_format = \"%d-%m-%Y\"\nthousands = \"\"\n[[interventions]]\nfile = \"i.csv\"\ncolumns = { account_id = \"a\", date = \"d\", kind = \"k\" }\nformat = { decimal = \",\" }\n",
        )
        .unwrap();
        let formats = mapping.cell_formats(&mapping.interventions[0]);
        assert_eq!(formats.date, Some(DateFormat::Pattern("%d-%m-%Y".into())));
        assert_eq!(formats.number.thousands, None);
        assert_eq!(formats.number.decimal, ',');
        assert_eq!(formats.bools, BoolWords::default());
    }

    #[test]
    fn snapshot_date_accepts_toml_date_and_string() {
        let a = parse("snapshot_date = 2025-06-30\n").unwrap();
        let b = parse("snapshot_date = \"2025-06-30\"\n").unwrap();
        assert_eq!(a.snapshot_date, NaiveDate::from_ymd_opt(2025, 6, 30));
        assert_eq!(b.snapshot_date, a.snapshot_date);
    }
}
