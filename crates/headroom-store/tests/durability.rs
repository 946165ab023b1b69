//! A process killed right after `append_outcomes` returned keeps its outcomes.
//!
//! The test binary runs itself as the child: with `HEADROOM_STORE_CHILD` set,
//! `child_appends_then_waits` appends outcomes, prints how many it stored, and
//! waits to be killed with SIGKILL, so the store is never closed or sealed.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use headroom_store::{Outcome, Store};

const CHILD_ENV: &str = "HEADROOM_STORE_CHILD";

#[test]
fn child_appends_then_waits() {
    let Ok(dir) = std::env::var(CHILD_ENV) else {
        return;
    };
    let store = Store::open_or_create(dir).unwrap();
    let batch: Vec<_> = (0..120)
        .map(|i| outcome(&format!("A-{i:03}"), "2024-07-31", Outcome::Renewed, i + 2))
        .collect();
    let receipt = store.append_outcomes(&batch).unwrap();
    println!("stored {} outcomes", receipt.added);
    std::thread::sleep(std::time::Duration::from_secs(60));
    panic!("the parent test should have killed this process");
}

#[test]
fn killed_after_append_keeps_outcomes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_appends_then_waits",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();

    let stdout = child.stdout.take().unwrap();
    let reported = BufReader::new(stdout)
        .lines()
        .map(Result::unwrap)
        // libtest may print "test NAME ... " on the same line first.
        .find_map(|line| line.find("stored ").map(|at| line[at..].to_string()));
    child.kill().unwrap();
    child.wait().unwrap();

    assert_eq!(reported.as_deref(), Some("stored 120 outcomes"));
    assert!(!path.join(headroom_store::SEAL_FILE).exists());
    let store = Store::open(&path).unwrap();
    assert_eq!(store.outcomes().unwrap().len(), 120);
}
