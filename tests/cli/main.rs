//! End-to-end tests: each runs the built `headroom` binary in a temporary folder.

mod data;
mod features;
mod feedback;
mod help;
mod inputs;
mod mapping_hint;
mod score;
mod store;

use assert_cmd::Command;

fn headroom() -> Command {
    Command::cargo_bin("headroom").expect("the headroom binary is built for tests")
}

#[test]
fn version_prints_package_version() {
    let out = headroom().arg("version").assert().success();
    let stdout = String::from_utf8(out.get_output().stdout.clone()).unwrap();
    assert_eq!(stdout, format!("headroom {}\n", env!("CARGO_PKG_VERSION")));
}

mod sim;
mod train;
