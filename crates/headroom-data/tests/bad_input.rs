//! Each rule for bad input, on a small fixture written to a temporary folder:
//! the exact value read, or the exact error with its file, line, column and value.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use headroom_data::{
    Check, DataError, Issue, Loaded, Location, Mapping, Severity, Tables, TablesMeta,
    arr_in_reporting_currency, import, load,
};
use polars::prelude::*;

const ACCOUNTS: &str = "account_id,name,customer_since,segment\n\
A1,Acme,2020-01-15,enterprise\n\
A2,Beta,2021-06-01,smb\n";
const CONTRACTS: &str = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,A1,2024-01-01,2025-01-01,120000,USD\n\
C2,A2,2024-03-01,2025-03-01,9500,USD\n";
const ENTITLEMENTS: &str = "contract_id,entitlement,kind,limit,period\n\
C1,seats,seats,100,term\n\
C2,seats,seats,10,term\n";
const USAGE: &str = "account_id,date,metric,value\n\
A1,2024-01-31,active_users,80\n\
A2,2024-01-31,active_users,12\n";

/// Writes a valid folder in the contract format, with some files replaced.
fn fixture(replace: &[(&str, &str)]) -> tempfile::TempDir {
    let mut files: BTreeMap<&str, &str> = BTreeMap::from([
        ("accounts.csv", ACCOUNTS),
        ("contracts.csv", CONTRACTS),
        ("entitlements.csv", ENTITLEMENTS),
        ("usage.csv", USAGE),
    ]);
    for (name, text) in replace {
        files.insert(name, text);
    }
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

fn load_contract(dir: &Path) -> Loaded {
    load(dir, &Mapping::contract()).unwrap()
}

fn load_mapped(dir: &Path, mapping: &str) -> Loaded {
    let path = dir.join("mapping.toml");
    std::fs::write(&path, mapping).unwrap();
    load(dir, &Mapping::load(&path).unwrap()).unwrap()
}

fn errors(loaded: &Loaded) -> Vec<&Issue> {
    loaded
        .report
        .issues()
        .iter()
        .filter(|i| i.severity == Severity::Error)
        .collect()
}

fn floats(df: &DataFrame, name: &str) -> Vec<Option<f64>> {
    df.column(name).unwrap().f64().unwrap().iter().collect()
}

fn texts(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

fn file_name(issue: &Issue) -> String {
    issue
        .file
        .as_ref()
        .and_then(|f| f.file_name())
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn valid_fixture_has_no_errors() {
    let dir = fixture(&[]);
    let loaded = load_contract(dir.path());
    assert_eq!(loaded.report.error_count(), 0, "{}", loaded.report.render());
    assert_eq!(loaded.tables.accounts.height(), 2);
    assert_eq!(loaded.tables.usage.height(), 2);
}

#[test]
fn money_with_symbol_and_padding_parses() {
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,A1,2024-01-01,2025-01-01,\"$120,000\",USD\n\
C2,A2,2024-03-01,2025-03-01, 9500 ,USD\n";
    let dir = fixture(&[("contracts.csv", contracts)]);
    let loaded = load_contract(dir.path());
    assert_eq!(loaded.report.error_count(), 0);
    assert_eq!(
        floats(&loaded.tables.contracts, "arr"),
        [Some(120000.0), Some(9500.0)]
    );
}

#[test]
fn money_other_format_errors_on_line() {
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,A1,2024-01-01,2025-01-01,\"$120,000\",USD\n\
C2,A2,2024-03-01,2025-03-01,\"1.299,99 EUR\",USD\n";
    let dir = fixture(&[("contracts.csv", contracts)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    let error = errors[0];
    assert_eq!(error.check, Check::BadValue);
    assert_eq!(file_name(error), "contracts.csv");
    assert_eq!(error.location, Some(Location::Line(3)));
    assert_eq!(error.column.as_deref(), Some("arr"));
    assert_eq!(error.value.as_deref(), Some("1.299,99 EUR"));
    assert_eq!(
        error.message,
        "amount is marked as EUR but the row's currency is USD"
    );
    assert!(!error.hint.is_empty());
}

#[test]
fn money_european_number_is_rejected() {
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,A1,2024-01-01,2025-01-01,\"1.299,99\",USD\n\
C2,A2,2024-03-01,2025-03-01,9500,USD\n";
    let dir = fixture(&[("contracts.csv", contracts)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].message, "not a number");
    assert_eq!(errors[0].location, Some(Location::Line(2)));
}

#[test]
fn percent_strings_read_as_fractions() {
    let usage =
        "account,day,metric,share\nA1,2024-01-31,adoption,85%\nA2,2024-01-31,adoption,62 %\n";
    let dir = fixture(&[("adoption.csv", usage)]);
    let mapping = format!(
        "{}\n[[usage]]\nfile = \"adoption.csv\"\ncolumns = {{ account_id = \"account\", date = \"day\", metric = \"metric\", value = \"share\" }}\npercent = [\"value\"]\n",
        contract_sources(&["accounts", "contracts", "entitlements"])
    );
    let loaded = load_mapped(dir.path(), &mapping);
    assert_eq!(loaded.report.error_count(), 0, "{}", loaded.report.render());
    assert_eq!(
        floats(loaded.tables.usage.frame().unwrap(), "value"),
        [Some(0.85), Some(0.62)]
    );
}

/// Mapping sources that read the fixture's contract files unchanged.
fn contract_sources(tables: &[&str]) -> String {
    let mut out = String::new();
    for table in tables {
        let kind = headroom_data::TableKind::from_name(table).unwrap();
        let columns: Vec<String> = kind
            .columns()
            .iter()
            .filter(|c| {
                let header = match *table {
                    "accounts" => ACCOUNTS,
                    "contracts" => CONTRACTS,
                    "entitlements" => ENTITLEMENTS,
                    _ => USAGE,
                };
                header
                    .lines()
                    .next()
                    .unwrap()
                    .split(',')
                    .any(|h| h == c.name)
            })
            .map(|c| format!("{0} = \"{0}\"", c.name))
            .collect();
        out.push_str(&format!(
            "[[{table}]]\nfile = \"{table}.csv\"\ncolumns = {{ {} }}\n",
            columns.join(", ")
        ));
    }
    out
}

#[test]
fn dates_in_both_orders_ask_for_a_format() {
    let usage = "account_id,date,metric,value\n\
A1,13/04/2025,active_users,80\n\
A2,04/13/2025,active_users,12\n";
    let dir = fixture(&[("usage.csv", usage)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1, "{}", loaded.report.render());
    let error = errors[0];
    assert_eq!(error.check, Check::AmbiguousDates);
    assert_eq!(error.column.as_deref(), Some("date"));
    assert_eq!(error.location, Some(Location::Line(3)));
    assert_eq!(
        error.message,
        "dates imply both day-first order (\"13/04/2025\", line 2) and month-first order (\"04/13/2025\", line 3)"
    );
    assert!(error.hint.contains("set date_format in the mapping"));
}

#[test]
fn day_first_dates_are_inferred_with_a_note() {
    let usage = "account_id,date,metric,value\n\
A1,13/04/2025,active_users,80\n\
A2,04/05/2025,active_users,12\n";
    let dir = fixture(&[("usage.csv", usage)]);
    let loaded = load_contract(dir.path());
    assert_eq!(loaded.report.error_count(), 0);
    let dates: Vec<_> = loaded
        .tables
        .usage
        .frame()
        .unwrap()
        .column("date")
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .iter()
        .map(|d| headroom_data::cell::from_epoch_days(d.unwrap()).to_string())
        .collect();
    // 04/05/2025 read day first is 4 May 2025.
    assert_eq!(dates, ["2025-04-13", "2025-05-04"]);
    assert_eq!(loaded.report.of(Check::DateOrderInferred).len(), 1);
}

#[test]
fn dates_off_format_error_per_line() {
    let usage = "account_id,date,metric,value\n\
A1,31-01-2024,active_users,80\n\
A2,2024-01-31,active_users,12\n\
A1,31/01/2024,active_users,70\n";
    let dir = fixture(&[("usage.csv", usage)]);
    let mapping = format!(
        "{}\n[[usage]]\nfile = \"usage.csv\"\ncolumns = {{ account_id = \"account_id\", date = \"date\", metric = \"metric\", value = \"value\" }}\nformat = {{ date_format = \"%d-%m-%Y\" }}\n",
        contract_sources(&["accounts", "contracts", "entitlements"])
    );
    let loaded = load_mapped(dir.path(), &mapping);
    let errors = errors(&loaded);
    let lines: Vec<_> = errors.iter().map(|e| e.location).collect();
    assert_eq!(lines, [Some(Location::Line(3)), Some(Location::Line(4))]);
    assert!(
        errors
            .iter()
            .all(|e| e.message == "not a date in the format %d-%m-%Y")
    );
    assert_eq!(errors[0].value.as_deref(), Some("2024-01-31"));
}

#[test]
fn blank_required_date_is_error() {
    let accounts = "account_id,name,customer_since\nA1,Acme,2020-01-15\nA2,Beta,  \n";
    let dir = fixture(&[("accounts.csv", accounts)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::MissingValue);
    assert_eq!(errors[0].location, Some(Location::Line(3)));
    assert_eq!(errors[0].column.as_deref(), Some("customer_since"));
}

#[test]
fn blank_numeric_cells_are_null_and_counted() {
    let entitlements = "contract_id,entitlement,kind,limit,period\n\
C1,seats,seats,100,term\n\
C2,seats,seats,   ,term\n";
    let dir = fixture(&[("entitlements.csv", entitlements)]);
    let loaded = load_contract(dir.path());
    assert_eq!(loaded.report.error_count(), 0);
    let limit = loaded.tables.entitlements.column("limit").unwrap();
    assert_eq!(limit.dtype(), &DataType::Float64);
    assert_eq!(
        floats(&loaded.tables.entitlements, "limit"),
        [Some(100.0), None]
    );
    let notes = loaded.report.of(Check::UnlimitedLimit);
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].count, 1);
}

#[test]
fn blank_usage_value_needs_fill() {
    let usage = "account_id,date,metric,value\nA1,2024-01-31,active_users,80\nA2,2024-01-31,active_users,\n";
    let dir = fixture(&[("usage.csv", usage)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::MissingValue);
    assert_eq!(errors[0].location, Some(Location::Line(3)));

    let mapping = format!(
        "{}\n[[usage]]\nfile = \"usage.csv\"\ncolumns = {{ account_id = \"account_id\", date = \"date\", metric = \"metric\", value = \"value\" }}\nfill = {{ value = 0 }}\n",
        contract_sources(&["accounts", "contracts", "entitlements"])
    );
    let loaded = load_mapped(dir.path(), &mapping);
    assert_eq!(loaded.report.error_count(), 0);
    assert_eq!(
        floats(loaded.tables.usage.frame().unwrap(), "value"),
        [Some(80.0), Some(0.0)]
    );
    let filled = loaded.report.of(Check::Filled);
    assert_eq!(filled.len(), 1);
    assert_eq!(filled[0].count, 1);
    assert_eq!(
        filled[0].message,
        "1 blank cell(s) in usage.value filled with \"0\" (mapping fill)"
    );
}

#[test]
fn ids_keep_leading_zeros() {
    let accounts = "account_id,name,customer_since\n00123,Acme,2020-01-15\nA2,Beta,2021-06-01\n";
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,00123,2024-01-01,2025-01-01,120000,USD\n\
C2,A2,2024-03-01,2025-03-01,9500,USD\n";
    let usage = "account_id,date,metric,value\n00123,2024-01-31,active_users,80\n";
    let dir = fixture(&[
        ("accounts.csv", accounts),
        ("contracts.csv", contracts),
        ("usage.csv", usage),
    ]);
    let loaded = load_contract(dir.path());
    assert_eq!(loaded.report.error_count(), 0);
    assert_eq!(
        texts(&loaded.tables.accounts, "account_id"),
        [Some("00123".to_string()), Some("A2".to_string())]
    );
}

#[test]
fn unknown_currency_code_is_error() {
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,A1,2024-01-01,2025-01-01,120000,USD\n\
C2,A2,2024-03-01,2025-03-01,9500,DOLLARS\n";
    let dir = fixture(&[("contracts.csv", contracts)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].message, "unknown currency code \"DOLLARS\"");
    assert_eq!(errors[0].location, Some(Location::Line(3)));
    assert_eq!(errors[0].column.as_deref(), Some("currency"));
}

#[test]
fn minor_units_follow_each_currency() {
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,A1,2024-01-01,2025-01-01,12345,JPY\n\
C2,A2,2024-03-01,2025-03-01,12345,USD\n";
    let dir = fixture(&[("contracts.csv", contracts)]);
    let mapping = format!(
        "{}\n[[contracts]]\nfile = \"contracts.csv\"\ncolumns = {{ contract_id = \"contract_id\", account_id = \"account_id\", start_date = \"start_date\", end_date = \"end_date\", arr = \"arr\", currency = \"currency\" }}\nformat = {{ money_unit = \"minor\" }}\n",
        contract_sources(&["accounts", "entitlements", "usage"])
    );
    let loaded = load_mapped(dir.path(), &mapping);
    assert_eq!(loaded.report.error_count(), 0, "{}", loaded.report.render());
    // 12345 yen have no minor unit; 12345 cents are 123.45 dollars.
    assert_eq!(
        floats(&loaded.tables.contracts, "arr"),
        [Some(12345.0), Some(123.45)]
    );
}

#[test]
fn mixed_currencies_without_fx_are_refused_where_summed() {
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,A1,2024-01-01,2025-01-01,1000,EUR\n\
C2,A2,2024-03-01,2025-03-01,500,USD\n";
    let dir = fixture(&[("contracts.csv", contracts)]);
    let loaded = load_contract(dir.path());
    let warnings = loaded.report.of(Check::Currency);
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].severity, Severity::Warning);

    let err = arr_in_reporting_currency(&loaded.tables).unwrap_err();
    let DataError::MixedCurrencies { currencies, .. } = &err else {
        panic!("expected mixed currencies, got {err:?}");
    };
    assert_eq!(currencies, &["EUR".to_string(), "USD".to_string()]);
    assert!(err.to_string().contains("no FX table"));
}

#[test]
fn fx_table_converts_arr_to_reporting_currency() {
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,A1,2024-01-01,2025-01-01,1000,EUR\n\
C2,A2,2024-03-01,2025-03-01,500,USD\n";
    let dir = fixture(&[("contracts.csv", contracts)]);
    let mapping = format!(
        "[currency]\nreport = \"USD\"\nrates = {{ EUR = 1.08 }}\n{}",
        contract_sources(&["accounts", "contracts", "entitlements", "usage"])
    );
    let loaded = load_mapped(dir.path(), &mapping);
    assert_eq!(loaded.report.error_count(), 0);
    assert_eq!(loaded.tables.meta.currency.as_deref(), Some("USD"));
    let expr = arr_in_reporting_currency(&loaded.tables).unwrap();
    let converted = loaded
        .tables
        .contracts
        .clone()
        .lazy()
        .select([expr])
        .collect()
        .unwrap();
    // 1000 EUR x 1.08 USD/EUR = 1080 USD; 500 USD stay 500.
    assert_eq!(
        floats(&converted, "arr_reporting"),
        [Some(1080.0), Some(500.0)]
    );
}

#[test]
fn fx_table_without_a_needed_rate_is_error() {
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,A1,2024-01-01,2025-01-01,1000,GBP\n\
C2,A2,2024-03-01,2025-03-01,500,USD\n";
    let dir = fixture(&[("contracts.csv", contracts)]);
    let mapping = format!(
        "[currency]\nreport = \"USD\"\nrates = {{ EUR = 1.08 }}\n{}",
        contract_sources(&["accounts", "contracts", "entitlements", "usage"])
    );
    let loaded = load_mapped(dir.path(), &mapping);
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].message,
        "1 contract(s) in GBP but [currency] has no rate from GBP to USD"
    );
}

#[test]
fn negative_limit_is_error_and_zero_is_unlimited() {
    let entitlements = "contract_id,entitlement,kind,limit,period\n\
C1,seats,seats,-5,term\n\
C2,seats,seats,0,term\n";
    let dir = fixture(&[("entitlements.csv", entitlements)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::NegativeValue);
    assert_eq!(errors[0].location, Some(Location::Line(2)));
    assert_eq!(errors[0].value.as_deref(), Some("-5"));
    // The limit of 0 becomes null (unlimited), never a divisor.
    assert_eq!(floats(&loaded.tables.entitlements, "limit")[1], None);
    let unlimited = loaded.report.of(Check::UnlimitedLimit);
    assert_eq!(unlimited[0].count, 1);
}

#[test]
fn usage_above_limit_is_kept_and_counted() {
    let entitlements = "contract_id,entitlement,kind,limit,period,metric\n\
C1,seats,seats,50,term,active_users\n\
C2,seats,seats,10,term,active_users\n";
    let usage = "account_id,date,metric,value\n\
A1,2024-01-31,active_users,80\n\
A2,2024-01-31,active_users,12\n\
A2,2024-03-31,active_users,12\n";
    let dir = fixture(&[("entitlements.csv", entitlements), ("usage.csv", usage)]);
    let loaded = load_contract(dir.path());
    assert_eq!(loaded.report.error_count(), 0);
    // A1 uses 80 of 50 seats in January and A2 12 of 10 in March: both rows
    // stay and are counted. A2's January row predates its contract (from
    // 2024-03-01), so no limit applies to it.
    assert_eq!(
        floats(loaded.tables.usage.frame().unwrap(), "value"),
        [Some(80.0), Some(12.0), Some(12.0)]
    );
    let above = loaded.report.of(Check::AboveLimit);
    assert_eq!(above.len(), 1);
    assert_eq!(above[0].count, 2);
}

#[test]
fn unknown_outcome_words_are_listed() {
    let outcomes = "account_id,date,outcome\n\
A1,2024-06-30,renewed\n\
A2,2024-07-31,Churned \n\
A1,2024-08-31,lost\n\
A2,2024-09-30,lost\n";
    let dir = fixture(&[("outcomes.csv", outcomes)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    let error = errors[0];
    assert_eq!(error.check, Check::UnknownCategory);
    assert_eq!(error.count, 3);
    assert_eq!(
        error.message,
        "3 value(s) outside renewed, churned, expanded, contracted: \"Churned \" (1 row(s): line 3); \"lost\" (2 row(s): line 4, line 5)"
    );
    assert_eq!(loaded.tables.outcomes.height(), 4);
}

#[test]
fn mapping_maps_unknown_outcome_words() {
    let outcomes = "account_id,date,outcome\nA2,2024-07-31,Churned \nA1,2024-08-31,lost\n";
    let dir = fixture(&[("outcomes.csv", outcomes)]);
    let mapping = format!(
        "{}\n[[outcomes]]\nfile = \"outcomes.csv\"\ncolumns = {{ account_id = \"account_id\", date = \"date\", outcome = \"outcome\" }}\nvalues.outcome = {{ \"Churned \" = \"churned\", lost = \"churned\" }}\n",
        contract_sources(&["accounts", "contracts", "entitlements", "usage"])
    );
    let loaded = load_mapped(dir.path(), &mapping);
    assert_eq!(loaded.report.error_count(), 0);
    assert_eq!(
        texts(&loaded.tables.outcomes, "outcome"),
        [Some("churned".to_string()), Some("churned".to_string())]
    );
}

#[test]
fn duplicate_account_ids_are_errors() {
    let accounts = "account_id,name,customer_since\nA1,Acme,2020-01-15\nA2,Beta,2021-06-01\nA1,Acme Again,2022-01-01\n";
    let dir = fixture(&[("accounts.csv", accounts)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::DuplicateKey);
    assert_eq!(errors[0].value.as_deref(), Some("A1"));
    assert_eq!(errors[0].location, Some(Location::Line(4)));
    assert_eq!(
        errors[0].message,
        "duplicate accounts account_id: A1 appears on 2 rows (line 2, line 4)"
    );
}

#[test]
fn contract_of_unknown_account_is_error() {
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,A1,2024-01-01,2025-01-01,120000,USD\n\
C2,A9,2024-03-01,2025-03-01,9500,USD\n";
    let dir = fixture(&[("contracts.csv", contracts)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::UnknownReference);
    assert_eq!(errors[0].value.as_deref(), Some("A9"));
    assert_eq!(errors[0].location, Some(Location::Line(3)));
    assert_eq!(
        errors[0].message,
        "contracts.account_id points to no row of accounts"
    );
}

#[test]
fn end_before_start_is_error_with_contract_id() {
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency\n\
C1,A1,2024-01-01,2025-01-01,120000,USD\n\
C2,A2,2024-03-01,2023-03-01,9500,USD\n";
    let dir = fixture(&[("contracts.csv", contracts)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::EndBeforeStart);
    assert_eq!(
        errors[0].message,
        "contract C2 ends (2023-03-01) before it starts (2024-03-01)"
    );
    assert_eq!(errors[0].location, Some(Location::Line(3)));
}

#[test]
fn errors_are_collected_up_to_the_cap() {
    let mut usage = String::from("account_id,date,metric,value\n");
    for i in 0..60 {
        usage.push_str(&format!("A1,2024-01-31,metric_{i},bad{i}\n"));
    }
    let dir = fixture(&[("usage.csv", &usage)]);
    let loaded = load_contract(dir.path());
    assert_eq!(loaded.report.error_count(), 60);
    assert_eq!(errors(&loaded).len(), 50);
    assert!(
        loaded
            .report
            .render()
            .contains("usage.csv: and 10 more errors")
    );
    // Every kept error names its own line: lines 2..=51.
    let last = errors(&loaded).last().unwrap().location;
    assert_eq!(last, Some(Location::Line(51)));
}

#[test]
fn messages_name_file_line_column_value_and_hint() {
    let usage = "account_id,date,metric,value\nA1,2024-01-31,active_users,12abc\n";
    let dir = fixture(&[("usage.csv", usage)]);
    let loaded = load_contract(dir.path());
    let rendered = errors(&loaded)[0].render();
    let path = dir.path().join("usage.csv");
    assert_eq!(
        rendered,
        format!(
            "error: {}:2: column \"value\": not a number: \"12abc\"\n  hint: write the number as 1,234.5 (thousands separator ',', decimal mark '.'), or set `thousands` and `decimal` in the mapping",
            path.display()
        )
    );
}

#[test]
fn missing_column_is_error_naming_the_header() {
    let usage = "account_id,day,metric,value\nA1,2024-01-31,active_users,1\n";
    let dir = fixture(&[("usage.csv", usage)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::MissingColumn);
    assert_eq!(errors[0].column.as_deref(), Some("date"));
    assert!(errors[0].hint.contains("account_id, day, metric, value"));
}

#[test]
fn missing_required_table_is_error() {
    let dir = fixture(&[]);
    std::fs::remove_file(dir.path().join("entitlements.csv")).unwrap();
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::MissingFile);
    assert_eq!(file_name(errors[0]), "entitlements");
}

fn write_parquet(path: &Path, df: &mut DataFrame) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let file = std::fs::File::create(path).unwrap();
    ParquetWriter::new(file).finish(df).unwrap();
}

fn typed_usage(accounts: &[&str], days: &[i32], values: &[f64]) -> DataFrame {
    let n = accounts.len();
    DataFrame::new(
        n,
        vec![
            Column::new("account_id".into(), accounts),
            Series::new("date".into(), days)
                .cast(&DataType::Date)
                .unwrap()
                .into_column(),
            Column::new("metric".into(), vec!["active_users"; n]),
            Column::new("value".into(), values),
        ],
    )
    .unwrap()
}

#[test]
fn parquet_part_folder_passes_through() {
    let dir = fixture(&[]);
    std::fs::remove_file(dir.path().join("usage.csv")).unwrap();
    // 19753 is 2024-01-31 and 19782 is 2024-02-29 in days since 1970-01-01.
    write_parquet(
        &dir.path().join("usage/part-00000.parquet"),
        &mut typed_usage(&["A1", "A2"], &[19753, 19753], &[80.0, 12.0]),
    );
    write_parquet(
        &dir.path().join("usage/part-00001.parquet"),
        &mut typed_usage(&["A1"], &[19782], &[75.0]),
    );
    let loaded = load_contract(dir.path());
    assert_eq!(loaded.report.error_count(), 0, "{}", loaded.report.render());
    assert_eq!(
        floats(loaded.tables.usage.frame().unwrap(), "value"),
        [Some(80.0), Some(12.0), Some(75.0)]
    );
    let summary = &loaded.report.tables[&headroom_data::TableKind::Usage];
    assert_eq!(summary.date_ranges[0].1.to_string(), "2024-01-31");
    assert_eq!(summary.date_ranges[0].2.to_string(), "2024-02-29");
}

#[test]
fn parquet_negative_value_names_part_and_row() {
    let dir = fixture(&[]);
    std::fs::remove_file(dir.path().join("usage.csv")).unwrap();
    write_parquet(
        &dir.path().join("usage/part-00000.parquet"),
        &mut typed_usage(&["A1", "A2"], &[19753, 19753], &[80.0, -3.0]),
    );
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::NegativeValue);
    assert_eq!(file_name(errors[0]), "part-00000.parquet");
    assert_eq!(errors[0].location, Some(Location::Row(2)));
}

#[test]
fn import_writes_nothing_on_errors() {
    let usage = "account_id,date,metric,value\nA1,2024-01-31,active_users,12abc\n";
    let dir = fixture(&[("usage.csv", usage)]);
    let project = tempfile::tempdir().unwrap();
    let err = import(dir.path(), &Mapping::contract(), project.path()).unwrap_err();
    assert!(matches!(err, DataError::Invalid { .. }));
    assert!(!project.path().join("tables").exists());
}

#[test]
fn import_round_trips_through_project() {
    let dir = fixture(&[]);
    let project = tempfile::tempdir().unwrap();
    import(dir.path(), &Mapping::contract(), project.path()).unwrap();
    let tables = Tables::read_project(project.path()).unwrap();
    assert_eq!(tables.accounts.height(), 2);
    assert_eq!(tables.contracts.height(), 2);
    assert_eq!(tables.outcomes.height(), 0);
    assert_eq!(tables.meta.currency.as_deref(), Some("USD"));
    assert_eq!(
        floats(&tables.contracts, "arr"),
        [Some(120000.0), Some(9500.0)]
    );
}

#[test]
fn usage_rolls_up_to_month_by_metric_rule() {
    let usage = "account,day,metric,value\n\
A1,2024-01-03,api_calls,10\n\
A1,2024-01-20,api_calls,5\n\
A1,2024-01-03,active_users,7\n\
A1,2024-01-20,active_users,9\n\
A1,2024-01-05,storage_gb,4\n\
A1,2024-01-25,storage_gb,2\n\
A1,2024-01-05,nps,6\n\
A1,2024-01-25,nps,9\n";
    let dir = fixture(&[("events.csv", usage)]);
    let mapping = format!(
        "usage_grain = \"month\"\n[rollups]\nactive_users = \"max\"\nstorage_gb = \"last\"\nnps = \"mean\"\n{}\n[[usage]]\nfile = \"events.csv\"\ncolumns = {{ account_id = \"account\", date = \"day\", metric = \"metric\", value = \"value\" }}\n",
        contract_sources(&["accounts", "contracts", "entitlements"])
    );
    let loaded = load_mapped(dir.path(), &mapping);
    assert_eq!(loaded.report.error_count(), 0, "{}", loaded.report.render());
    let usage = loaded.tables.usage.frame().unwrap();
    let metrics = texts(usage, "metric");
    let values = floats(usage, "value");
    let by_metric: BTreeMap<_, _> = metrics
        .into_iter()
        .map(|m| m.unwrap())
        .zip(values.into_iter().map(|v| v.unwrap()))
        .collect();
    // sum 10 + 5, max(7, 9), last by date (2 on the 25th), mean (6 + 9) / 2.
    assert_eq!(by_metric["api_calls"], 15.0);
    assert_eq!(by_metric["active_users"], 9.0);
    assert_eq!(by_metric["storage_gb"], 2.0);
    assert_eq!(by_metric["nps"], 7.5);
    let summary = &loaded.report.tables[&headroom_data::TableKind::Usage];
    assert_eq!(summary.date_ranges[0].1.to_string(), "2024-01-31");
    assert_eq!(
        loaded.tables.meta.rollups.get("nps"),
        Some(&headroom_data::Rollup::Mean)
    );
}

#[test]
fn duplicate_usage_keys_without_grain_are_errors() {
    let usage = "account_id,date,metric,value\n\
A1,2024-01-31,active_users,80\n\
A1,2024-01-31,active_users,81\n";
    let dir = fixture(&[("usage.csv", usage)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::DuplicateKey);
    assert_eq!(
        errors[0].value.as_deref(),
        Some("A1, 2024-01-31, active_users")
    );
}

#[test]
fn exclusions_drop_accounts_everywhere_and_count() {
    let accounts = "account_id,name,customer_since,segment,type\n\
A1,Acme,2020-01-15,enterprise,customer\n\
A2,Beta,2021-06-01,smb,internal\n";
    let dir = fixture(&[("accounts.csv", accounts)]);
    let mapping = format!(
        "[exclude]\nrules = [{{ file = \"accounts.csv\", column = \"type\", equals = \"internal\", reason = \"internal account\" }}]\n{}",
        contract_sources(&["accounts", "contracts", "entitlements", "usage"])
    );
    let loaded = load_mapped(dir.path(), &mapping);
    assert_eq!(loaded.report.error_count(), 0, "{}", loaded.report.render());
    assert_eq!(loaded.tables.accounts.height(), 1);
    assert_eq!(loaded.tables.contracts.height(), 1);
    assert_eq!(loaded.tables.entitlements.height(), 1);
    assert_eq!(loaded.tables.usage.height(), 1);
    let excluded = loaded.report.of(Check::Excluded);
    let counts: Vec<usize> = excluded.iter().map(|i| i.count).collect();
    // One row each of contracts, entitlements and usage, then one account.
    assert_eq!(counts, [1, 1, 1, 1]);
}

#[test]
fn open_end_rolls_to_next_term_anniversary() {
    let contracts = "contract_id,account_id,start_date,end_date,arr,currency,billing\n\
C1,A1,2023-03-15,,120000,USD,annual\n\
C2,A2,2024-06-11,,9500,USD,monthly\n";
    let dir = fixture(&[("contracts.csv", contracts)]);
    let mapping = format!(
        "{}\n[[contracts]]\nfile = \"contracts.csv\"\ncolumns = {{ contract_id = \"contract_id\", account_id = \"account_id\", start_date = \"start_date\", end_date = \"end_date\", arr = \"arr\", currency = \"currency\" }}\nopen_end = {{ term_column = \"billing\", terms = {{ annual = 12, monthly = 1 }}, after = \"2024-12-31\" }}\n",
        contract_sources(&["accounts", "entitlements", "usage"])
    );
    let loaded = load_mapped(dir.path(), &mapping);
    assert_eq!(loaded.report.error_count(), 0, "{}", loaded.report.render());
    let ends: Vec<String> = loaded
        .tables
        .contracts
        .column("end_date")
        .unwrap()
        .date()
        .unwrap()
        .physical()
        .iter()
        .map(|d| headroom_data::cell::from_epoch_days(d.unwrap()).to_string())
        .collect();
    // Annual from 2023-03-15: 2024-03-15 is past, 2025-03-15 is next.
    // Monthly from 2024-06-11: the first 11th after 2024-12-31 is 2025-01-11.
    assert_eq!(ends, ["2025-03-15", "2025-01-11"]);
}

#[test]
fn flat_portfolio_example_expands_to_snapshot() {
    let root = workspace_root();
    let dir = root.join("data/examples/flat-portfolio");
    let mapping = Mapping::load(&root.join("data/mappings/flat-portfolio.toml")).unwrap();
    let loaded = load(&dir, &mapping).unwrap();
    assert_eq!(loaded.report.error_count(), 0, "{}", loaded.report.render());
    let tables = &loaded.tables;
    // 15 rows less one internal and one trial account.
    assert_eq!(tables.accounts.height(), 13);
    assert_eq!(
        tables.meta.snapshot_date.map(|d| d.to_string()).as_deref(),
        Some("2025-03-31")
    );
    let names = texts(&tables.contracts, "account_id");
    let arr = floats(&tables.contracts, "arr");
    let arr_of = |name: &str| {
        let i = names
            .iter()
            .position(|n| n.as_deref() == Some(name))
            .unwrap();
        arr[i]
    };
    assert_eq!(arr_of("Northwind Traders"), Some(120000.0));
    assert_eq!(arr_of("Corvid Analytics"), Some(9500.0));
    let metrics = texts(tables.usage.frame().unwrap(), "metric");
    let accounts = texts(tables.usage.frame().unwrap(), "account_id");
    let values = floats(tables.usage.frame().unwrap(), "value");
    let adoption = (0..metrics.len())
        .find(|&i| {
            metrics[i].as_deref() == Some("feature_adoption")
                && accounts[i].as_deref() == Some("Corvid Analytics")
        })
        .map(|i| values[i]);
    assert_eq!(adoption, Some(Some(0.62)));
    assert_eq!(
        texts(&tables.entitlements, "metric")[0].as_deref(),
        Some("active_users")
    );
    let above = loaded.report.of(Check::AboveLimit);
    // Corvid Analytics: 17 active users on 15 seats.
    assert_eq!(above[0].count, 1);
    assert_eq!(TablesMeta::default().currency, None);
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .unwrap()
        .to_path_buf()
}

#[test]
fn non_utf8_file_is_one_error() {
    let dir = fixture(&[]);
    std::fs::write(
        dir.path().join("accounts.csv"),
        b"account_id,name,customer_since\nA1,Caf\xe9 Ltd,2020-01-15\n",
    )
    .unwrap();
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    // The contracts and usage rows that point to accounts are not reported:
    // the accounts table could not be read at all.
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::MissingFile);
    assert!(errors[0].hint.contains("UTF-8"));
}

#[test]
fn outcome_amounts_take_contract_currency() {
    let outcomes = "account_id,date,outcome,arr_before,arr_after\n\
A1,2025-01-01,expanded,\"$120,000\",150000\n\
A2,2025-03-01,contracted,9500,\"€8,000\"\n";
    let dir = fixture(&[("outcomes.csv", outcomes)]);
    let loaded = load_contract(dir.path());
    // Every contract is in USD, so "$120,000" reads as USD and "€8,000" is
    // rejected; plain numbers need no currency.
    assert_eq!(
        floats(&loaded.tables.outcomes, "arr_before"),
        [Some(120000.0), Some(9500.0)]
    );
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].column.as_deref(), Some("arr_after"));
    assert_eq!(errors[0].location, Some(Location::Line(3)));
    assert_eq!(
        errors[0].message,
        "amount is marked as EUR but the row's currency is USD"
    );
}

#[test]
fn project_tables_reload_with_their_meta() {
    let dir = fixture(&[]);
    let mapping = format!(
        "snapshot_date = \"2024-12-31\"\n[rollups]\nactive_users = \"max\"\n{}",
        contract_sources(&["accounts", "contracts", "entitlements", "usage"])
    );
    let first = load_mapped(dir.path(), &mapping);
    let project = tempfile::tempdir().unwrap();
    first.tables.write_project(project.path()).unwrap();

    let again = load_contract(&project.path().join("tables"));
    assert_eq!(again.report.error_count(), 0, "{}", again.report.render());
    assert_eq!(
        again.tables.meta.rollups.get("active_users"),
        Some(&headroom_data::Rollup::Max)
    );
    assert_eq!(
        again
            .tables
            .meta
            .snapshot_date
            .map(|d| d.to_string())
            .as_deref(),
        Some("2024-12-31")
    );
    assert_eq!(again.tables.usage.height(), 2);
}

#[test]
fn unquoted_separator_is_error_on_its_line() {
    let accounts = "account_id,name,customer_since\nA1,Acme, Inc.,2020-01-15\nA2,Beta,2021-06-01\n";
    let dir = fixture(&[("accounts.csv", accounts)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].location, Some(Location::Line(2)));
    assert_eq!(
        errors[0].message,
        "record has 4 fields but the header has 3"
    );
    assert!(errors[0].hint.contains("\"Acme, Inc.\""));
}

#[test]
fn lookup_key_with_two_accounts_is_error() {
    let subscriptions = "subscription_id,account_id\nS1,A1\nS2,A2\nS1,A2\n";
    let events = "subscription_id,day,count\nS1,2024-01-31,5\nS2,2024-01-31,7\n";
    let dir = fixture(&[("subscriptions.csv", subscriptions), ("events.csv", events)]);
    let mapping = format!(
        "{}\n[[usage]]\nfile = \"events.csv\"\ncolumns = {{ date = \"day\", value = \"count\" }}\nconstants = {{ metric = \"events\" }}\naccount_via = {{ file = \"subscriptions.csv\", key = \"subscription_id\" }}\n",
        contract_sources(&["accounts", "contracts", "entitlements"])
    );
    let loaded = load_mapped(dir.path(), &mapping);
    let errors = errors(&loaded);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::DuplicateKey);
    assert_eq!(errors[0].location, Some(Location::Line(4)));
    assert_eq!(
        errors[0].message,
        "subscription_id S1 belongs to two accounts, A1 and A2"
    );
    assert_eq!(
        texts(loaded.tables.usage.frame().unwrap(), "account_id"),
        [Some("A1".to_string()), Some("A2".to_string())]
    );
}

#[test]
fn failed_dates_do_not_look_like_duplicates() {
    let usage = "account_id,date,metric,value\n\
A1,13/04/2025,active_users,80\n\
A1,04/13/2025,active_users,70\n";
    let dir = fixture(&[("usage.csv", usage)]);
    let loaded = load_contract(dir.path());
    let errors = errors(&loaded);
    // Only the date order is reported; both dates are unreadable, so the two
    // rows must not be reported as one repeated key.
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].check, Check::AmbiguousDates);
}
