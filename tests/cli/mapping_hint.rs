//! The `values` lines `headroom import` suggests for category words outside
//! the contract, pasted into the mapping block that the hint names.

use std::fs;
use std::path::Path;

use headroom_data::Tables;

use super::headroom;

const MAPPING: &str = r#"[[accounts]]
file = "crm_accounts.csv"
columns = { account_id = "Id", name = "Name", customer_since = "Since", segment = "Tier" }

[[contracts]]
file = "contracts.csv"
columns = { contract_id = "contract_id", account_id = "account_id", start_date = "start_date", end_date = "end_date", arr = "arr", currency = "currency" }

[[entitlements]]
file = "entitlements.csv"
columns = { contract_id = "contract_id", entitlement = "entitlement", kind = "kind", limit = "limit", period = "period" }

[[usage]]
file = "usage.csv"
columns = { account_id = "account_id", date = "date", metric = "metric", value = "value" }
"#;

/// Writes exports whose accounts use `Enterprise`, `Mid Market` and `SMB `
/// as segments and whose entitlements use `Monthly` as a period.
fn write_exports(dir: &Path) {
    fs::create_dir_all(dir).unwrap();
    fs::write(
        dir.join("crm_accounts.csv"),
        "Id,Name,Since,Tier\n\
         A1,Acme,2020-01-15,Enterprise\n\
         A2,Beta,2021-06-01,Mid Market\n\
         A3,Gamma,2021-06-01,SMB \n",
    )
    .unwrap();
    fs::write(
        dir.join("contracts.csv"),
        "contract_id,account_id,start_date,end_date,arr,currency\n\
         C1,A1,2024-01-01,2025-01-01,120000,USD\n\
         C2,A2,2024-03-01,2025-03-01,9500,USD\n\
         C3,A3,2024-03-01,2025-03-01,4000,USD\n",
    )
    .unwrap();
    fs::write(
        dir.join("entitlements.csv"),
        "contract_id,entitlement,kind,limit,period\n\
         C1,seats,seats,100,term\n\
         C2,seats,seats,10,Monthly\n\
         C3,seats,seats,5,term\n",
    )
    .unwrap();
    fs::write(
        dir.join("usage.csv"),
        "account_id,date,metric,value\nA1,2024-01-31,active_users,80\n",
    )
    .unwrap();
}

/// Pastes each suggested `values` line of the import's stderr under the
/// `file = "..."` line that its hint names.
fn paste_suggestions(mapping: &str, stderr: &str) -> String {
    let mut pasted = mapping.to_string();
    let mut block = None;
    for line in stderr.lines() {
        if let Some(start) = line.find("block with file = ") {
            let rest = &line[start + "block with file = ".len()..];
            let end = rest[1..].find('"').unwrap() + 2;
            block = Some(format!("file = {}", &rest[..end]));
        }
        if line.trim_start().starts_with("values.") {
            let file_line = block
                .take()
                .expect("a hint names the block before its line");
            let at = pasted.find(&file_line).expect("the mapping has the block") + file_line.len();
            pasted.insert_str(at, &format!("\n{}", line.trim()));
        }
    }
    pasted
}

fn texts(tables: &polars::prelude::DataFrame, column: &str) -> Vec<String> {
    tables
        .column(column)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap().to_string())
        .collect()
}

#[test]
fn suggested_value_lines_fix_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    write_exports(&exports);
    let mapping = dir.path().join("crm.toml");
    fs::write(&mapping, MAPPING).unwrap();
    let project = dir.path().join("project");
    let import = || {
        headroom()
            .arg("import")
            .arg(&exports)
            .arg("--mapping")
            .arg(&mapping)
            .arg("--out")
            .arg(&project)
            .assert()
    };

    let rejected = import().failure();
    let stderr = String::from_utf8(rejected.get_output().stderr.clone()).unwrap();
    let suggested: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("values."))
        .collect();
    assert_eq!(
        suggested,
        [
            r#"values.segment = { "Enterprise" = "enterprise", "Mid Market" = "mid-market", "SMB " = "smb" }"#,
            r#"values.period = { "Monthly" = "month" }"#,
        ],
        "{stderr}"
    );
    fs::write(&mapping, paste_suggestions(MAPPING, &stderr)).unwrap();
    import().success();

    let tables = Tables::read_project(&project).unwrap();
    assert_eq!(
        texts(&tables.accounts, "segment"),
        ["enterprise", "mid-market", "smb"]
    );
    assert_eq!(
        texts(&tables.entitlements, "period"),
        ["term", "month", "term"]
    );
}

#[test]
fn hint_names_words_without_close_value() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("exports");
    write_exports(&exports);
    fs::write(
        exports.join("crm_accounts.csv"),
        "Id,Name,Since,Tier\nA1,Acme,2020-01-15,Gold\nA2,Beta,2021-06-01,smb\nA3,Gamma,2021-06-01,smb\n",
    )
    .unwrap();
    fs::write(
        exports.join("entitlements.csv"),
        "contract_id,entitlement,kind,limit,period\nC1,seats,seats,100,term\nC2,seats,seats,10,term\nC3,seats,seats,5,term\n",
    )
    .unwrap();
    let mapping = dir.path().join("crm.toml");
    fs::write(&mapping, MAPPING).unwrap();

    let rejected = headroom()
        .arg("validate")
        .arg(&exports)
        .arg("--mapping")
        .arg(&mapping)
        .assert()
        .failure();

    let stdout = String::from_utf8(rejected.get_output().stdout.clone()).unwrap();
    assert!(
        stdout.contains(
            "or add a line such as `values.segment = { \"word\" = \"enterprise\" }` to the [[accounts]] block with file = \"crm_accounts.csv\" in"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("no allowed value is close to \"Gold\": add it to the line"),
        "{stdout}"
    );
}
