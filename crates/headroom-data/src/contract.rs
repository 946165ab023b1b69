//! The six tables of the data contract and the typed schema of each.
//!
//! Column types come from here, never from what the first rows of a file happen
//! to contain: ids are always text, dates are `Date`, money and usage are `f64`.

use std::fmt;

use polars::prelude::{DataType, Field, Schema};

/// One table of the data contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TableKind {
    /// One row per account.
    Accounts,
    /// One row per contract term.
    Contracts,
    /// One row per contract and entitlement.
    Entitlements,
    /// One row per account, metric and day or month.
    Usage,
    /// One row per account event: renewed, churned, expanded, contracted.
    Outcomes,
    /// One row per customer-success action.
    Interventions,
}

impl TableKind {
    /// Every table, in the order they are loaded and checked.
    pub const ALL: [TableKind; 6] = [
        TableKind::Accounts,
        TableKind::Contracts,
        TableKind::Entitlements,
        TableKind::Usage,
        TableKind::Outcomes,
        TableKind::Interventions,
    ];

    /// The table's name, also its file stem (`accounts.csv`, `usage.parquet`).
    pub fn name(self) -> &'static str {
        match self {
            TableKind::Accounts => "accounts",
            TableKind::Contracts => "contracts",
            TableKind::Entitlements => "entitlements",
            TableKind::Usage => "usage",
            TableKind::Outcomes => "outcomes",
            TableKind::Interventions => "interventions",
        }
    }

    /// Parses a table name as written in mapping files and on the command line.
    pub fn from_name(name: &str) -> Option<TableKind> {
        TableKind::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// The table's columns in contract order.
    pub fn columns(self) -> &'static [ColumnSpec] {
        match self {
            TableKind::Accounts => ACCOUNTS,
            TableKind::Contracts => CONTRACTS,
            TableKind::Entitlements => ENTITLEMENTS,
            TableKind::Usage => USAGE,
            TableKind::Outcomes => OUTCOME_COLUMNS,
            TableKind::Interventions => INTERVENTIONS,
        }
    }

    /// Whether a project needs this table to be usable at all. Outcomes and
    /// interventions may be absent; the others must exist, even if empty.
    pub fn is_required(self) -> bool {
        !matches!(self, TableKind::Outcomes | TableKind::Interventions)
    }

    /// The polars schema of the normalized table.
    pub fn schema(self) -> Schema {
        self.columns()
            .iter()
            .map(|column| Field::new(column.name.into(), column.kind.dtype()))
            .collect()
    }

    /// Looks up a column of this table by its contract name.
    pub fn column(self, name: &str) -> Option<&'static ColumnSpec> {
        self.columns().iter().find(|column| column.name == name)
    }
}

impl fmt::Display for TableKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The logical type of a contract column, which fixes its polars dtype and parser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// An identifier, kept as text exactly as written ("00123" stays "00123").
    Id,
    /// Free text.
    Text,
    /// A value from a closed set, listed in the spec.
    Category(&'static [&'static str]),
    /// A calendar date.
    Date,
    /// An amount of money in the row's currency.
    Money,
    /// An ISO 4217 currency code.
    Currency,
    /// A count or quantity (seats, limits, usage values).
    Number,
    /// A yes/no flag.
    Bool,
}

impl ColumnKind {
    /// The polars dtype this kind is stored as.
    pub fn dtype(self) -> DataType {
        match self {
            ColumnKind::Id | ColumnKind::Text | ColumnKind::Category(_) | ColumnKind::Currency => {
                DataType::String
            }
            ColumnKind::Date => DataType::Date,
            ColumnKind::Money | ColumnKind::Number => DataType::Float64,
            ColumnKind::Bool => DataType::Boolean,
        }
    }
}

/// One column of a contract table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The column name in the normalized table.
    pub name: &'static str,
    /// The logical type.
    pub kind: ColumnKind,
    /// Whether every row must have a value.
    pub required: bool,
}

const fn col(name: &'static str, kind: ColumnKind, required: bool) -> ColumnSpec {
    ColumnSpec {
        name,
        kind,
        required,
    }
}

/// Customer segments headroom knows; thresholds can differ per segment.
pub const SEGMENTS: &[&str] = &["enterprise", "mid-market", "smb"];
/// Entitlement kinds.
pub const ENTITLEMENT_KINDS: &[&str] = &["seats", "metered", "boolean"];
/// Periods an entitlement limit applies to.
pub const PERIODS: &[&str] = &["day", "month", "year", "term"];
/// How a limit is enforced.
pub const ENFORCEMENTS: &[&str] = &["hard", "soft"];
/// Outcome words; "churned" is the positive class of the churn model.
pub const OUTCOMES: &[&str] = &["renewed", "churned", "expanded", "contracted"];

use ColumnKind::{Bool, Category, Currency, Date, Id, Money, Number, Text};

const ACCOUNTS: &[ColumnSpec] = &[
    col("account_id", Id, true),
    col("name", Text, true),
    col("customer_since", Date, true),
    col("segment", Category(SEGMENTS), false),
    col("industry", Text, false),
    col("region", Text, false),
    col("owner", Text, false),
];

const CONTRACTS: &[ColumnSpec] = &[
    col("contract_id", Id, true),
    col("account_id", Id, true),
    col("start_date", Date, true),
    col("end_date", Date, true),
    col("arr", Money, true),
    col("currency", Currency, true),
    col("plan", Text, false),
    col("auto_renew", Bool, false),
];

const ENTITLEMENTS: &[ColumnSpec] = &[
    col("contract_id", Id, true),
    col("entitlement", Text, true),
    col("kind", Category(ENTITLEMENT_KINDS), true),
    col("limit", Number, false),
    col("period", Category(PERIODS), true),
    col("metric", Text, false),
    col("enforcement", Category(ENFORCEMENTS), false),
];

const USAGE: &[ColumnSpec] = &[
    col("account_id", Id, true),
    col("date", Date, true),
    col("metric", Text, true),
    col("value", Number, true),
];

const OUTCOME_COLUMNS: &[ColumnSpec] = &[
    col("account_id", Id, true),
    col("date", Date, true),
    col("outcome", Category(OUTCOMES), true),
    col("contract_id", Id, false),
    col("arr_before", Money, false),
    col("arr_after", Money, false),
    col("reason", Text, false),
];

const INTERVENTIONS: &[ColumnSpec] = &[
    col("account_id", Id, true),
    col("date", Date, true),
    col("kind", Text, true),
    col("note", Text, false),
];
