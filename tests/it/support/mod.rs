//! Helpers shared by the integration tests: fixture lookup, the emulator, running the binary.

#![allow(dead_code)]

pub mod auth_fakes;
pub mod fake_github;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Output;

use ipsync::databricks::{AccessList, ListType, NewAccessList, Scope};
use ipsync::emulator::{Emulator, EmulatorConfig};
use ipsync::secret::Secret;

/// The token the test emulator accepts.
pub const TOKEN: &str = "dapi-test-token-0123456789";

/// Returns the folder of the Microsoft service tags files, or `None` (after saying so) when it is
/// missing. Under `CI=true` a missing folder fails the test instead.
pub fn service_tags_dir() -> Option<PathBuf> {
    let root = match std::env::var_os("IPSYNC_FIXTURES_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures"),
    };
    let dir = root.join("service-tags");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!(
            "fixture folder `{}` is missing, and CI=true requires it",
            dir.display()
        );
    }
    eprintln!(
        "skipping: fixture folder `{}` is missing (set IPSYNC_FIXTURES_DIR)",
        dir.display()
    );
    None
}

/// Returns the path of one fixture file, or `None` when the folder is missing.
pub fn service_tags_file(name: &str) -> Option<PathBuf> {
    service_tags_dir().map(|dir| dir.join(name))
}

/// Reads the IPv4 prefixes of `tags` from a fixture, as text, for seeding a list.
pub fn fixture_ipv4(path: &Path, tags: &[&str]) -> Vec<String> {
    let bytes = std::fs::read(path).unwrap();
    let value: serde_json::Value = serde_json::from_slice(strip_bom(&bytes)).unwrap();
    let mut prefixes = Vec::new();
    for tag in value["values"].as_array().unwrap() {
        if tags.contains(&tag["name"].as_str().unwrap()) {
            for prefix in tag["properties"]["addressPrefixes"].as_array().unwrap() {
                let prefix = prefix.as_str().unwrap();
                if !prefix.contains(':') && !prefixes.iter().any(|known: &String| known == prefix) {
                    prefixes.push(prefix.to_owned());
                }
            }
        }
    }
    prefixes
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes)
}

/// Starts an emulator on a free loopback port that accepts [`TOKEN`].
pub async fn start_emulator() -> Emulator {
    Emulator::start(
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        EmulatorConfig {
            tokens: vec![Secret::new(TOKEN)],
            ..EmulatorConfig::default()
        },
    )
    .await
    .unwrap()
}

/// Seeds an allow list in the emulator's workspace.
pub fn seed_allow(emulator: &Emulator, label: &str, entries: Vec<String>) -> AccessList {
    emulator.seed(
        &Scope::Workspace,
        NewAccessList {
            label: label.to_owned(),
            list_type: ListType::Allow,
            ip_addresses: entries,
        },
    )
}

/// Seeds the allow list that admits the test process (127.0.0.1), as a real account keeps
/// a list for its runners' egress addresses; without it the emulator returns 403.
pub fn seed_runner_list(emulator: &Emulator) -> AccessList {
    seed_allow(emulator, "ci-runners", vec!["127.0.0.1/32".to_owned()])
}

/// Runs `ipsync` with only the given environment variables (plus a private `HOME`).
pub async fn run_ipsync(args: Vec<String>, env: Vec<(String, String)>) -> Output {
    let workspace = tempfile::tempdir().unwrap();
    run_ipsync_in(workspace.path(), args, env).await
}

/// Runs `ipsync` in the folder `cwd`, with only the given environment variables.
pub async fn run_ipsync_in(cwd: &Path, args: Vec<String>, env: Vec<(String, String)>) -> Output {
    let cwd = cwd.to_owned();
    tokio::task::spawn_blocking(move || {
        let home = tempfile::tempdir().unwrap();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_ipsync"));
        command.current_dir(cwd);
        command
            .env_clear()
            .env("HOME", home.path())
            .env("NO_COLOR", "1");
        command.env(
            "DATABRICKS_CONFIG_FILE",
            home.path().join("absent.databrickscfg"),
        );
        for (name, value) in env {
            command.env(name, value);
        }
        command.args(args).output().unwrap()
    })
    .await
    .unwrap()
}

/// Returns the environment that aims `ipsync` at an emulator with token authentication.
pub fn emulator_env(emulator: &Emulator) -> Vec<(String, String)> {
    vec![
        (
            "DATABRICKS_HOST".to_owned(),
            emulator.url().as_str().trim_end_matches('/').to_owned(),
        ),
        ("DATABRICKS_TOKEN".to_owned(), TOKEN.to_owned()),
    ]
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|text| (*text).to_owned()).collect()
}
