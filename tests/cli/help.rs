//! The `--help` of every subcommand, nested ones included: each ends with
//! examples, one command a line, short enough that clap does not wrap them.

use super::headroom;

/// The width clap 4 wraps help text at when it cannot read a terminal's
/// width, as under tests.
const HELP_WIDTH: usize = 100;

fn help_of(path: &[String]) -> String {
    let assert = headroom().args(path).arg("--help").assert().success();
    String::from_utf8(assert.get_output().stdout.clone()).unwrap()
}

/// Lists the subcommands in a help text's `Commands:` section, without
/// clap's `help`.
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|line| line.trim() != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("  ") && !line.starts_with("   "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect()
}

/// Lists every subcommand path below the root, parents before their
/// children.
fn all_subcommands() -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let mut pending: Vec<Vec<String>> = subcommands(&help_of(&[]))
        .into_iter()
        .map(|name| vec![name])
        .collect();
    while let Some(path) = pending.pop() {
        for child in subcommands(&help_of(&path)) {
            let mut child_path = path.clone();
            child_path.push(child);
            pending.push(child_path);
        }
        found.push(path);
    }
    found
}

/// Counts the commands a line starts: `headroom ` not inside backticks.
fn commands_in(line: &str) -> usize {
    line.match_indices("headroom ")
        .filter(|(at, _)| !line[..*at].ends_with('`'))
        .count()
}

/// Returns the example lines after the `Example:` or `Examples:` line.
fn examples(help: &str) -> Option<Vec<&str>> {
    let mut lines = help.lines();
    lines.find(|line| matches!(line.trim(), "Example:" | "Examples:"))?;
    Some(lines.take_while(|line| !line.trim().is_empty()).collect())
}

#[test]
fn every_subcommand_help_has_examples() {
    let paths = all_subcommands();
    // 17 commands and `version`, plus the leaves of outcomes (3),
    // interventions (3), notes (2), models (5) and store (2).
    assert_eq!(paths.len(), 18 + 15, "{paths:?}");

    for path in &paths {
        let name = path.join(" ");
        let help = help_of(path);
        let Some(examples) = examples(&help) else {
            panic!("`headroom {name} --help` has no Example line:\n{help}");
        };
        assert!(!examples.is_empty(), "{name}: no example under Example:");
        for example in &examples {
            assert!(
                example.starts_with("  headroom "),
                "{name}: {example:?} is not one command on its own line"
            );
            assert!(
                example.len() <= HELP_WIDTH,
                "{name}: {example:?} is longer than {HELP_WIDTH} characters, so clap wraps it"
            );
        }
        for line in help.lines() {
            assert!(
                commands_in(line) <= 1,
                "{name}: {line:?} holds two commands"
            );
        }
    }
}

#[test]
fn commands_in_counts_unquoted_commands() {
    assert_eq!(commands_in("  headroom demo --dir x"), 1);
    assert_eq!(
        commands_in("Example: headroom demo headroom demo --dir x"),
        2
    );
    assert_eq!(
        commands_in("see `headroom retrain` or `headroom models`"),
        0
    );
}

#[test]
fn store_help_examples_run_in_order() {
    let dir = tempfile::tempdir().unwrap();
    headroom()
        .current_dir(dir.path())
        .args(["init", "my-project"])
        .assert()
        .success();
    let help = help_of(&["store".to_string()]);
    let examples = examples(&help).expect("store help has examples");

    for example in &examples {
        // The examples quote nothing, so splitting at spaces gives the
        // arguments.
        let args: Vec<&str> = example.split_whitespace().skip(1).collect();
        let assert = headroom().current_dir(dir.path()).args(&args).assert();
        let output = assert.get_output();
        assert!(
            output.status.success(),
            "{example} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    assert!(dir.path().join("restored/store").is_dir());
}
