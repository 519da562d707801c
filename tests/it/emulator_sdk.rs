//! The official Databricks SDK for Python against the emulator: proves the emulator's wire
//! shapes, errors and OAuth flow are what a real client expects.
//!
//! The interpreter comes from `IPSYNC_SDK_PYTHON`, by default `.venv/bin/python` under the
//! crate root, with `databricks-sdk` installed. Without it the test prints that it skips,
//! except under `CI=true`, where it fails.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;

use ipsync::emulator::{Emulator, EmulatorConfig};
use ipsync::secret::Secret;

const TOKEN: &str = "dapi-sdk-test-token";
const CLIENT_ID: &str = "sdk-service-principal";
const CLIENT_SECRET: &str = "sdk-client-secret";
const ACCOUNT_ID: &str = "8a2d0c1e-0000-4000-8000-00000000abcd";

fn sdk_python() -> Option<PathBuf> {
    let python = match std::env::var_os("IPSYNC_SDK_PYTHON").filter(|value| !value.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python"),
    };
    if python.exists() {
        return Some(python);
    }

    let message = format!(
        "no Python with databricks-sdk at `{}`; set IPSYNC_SDK_PYTHON or run \
         `python3 -m venv .venv && .venv/bin/pip install databricks-sdk`",
        python.display()
    );
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{message}");
    }
    eprintln!("skipping the Databricks SDK test: {message}");
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn python_sdk_round_trip() {
    let Some(python) = sdk_python() else {
        return;
    };
    let emulator = Emulator::start(
        "127.0.0.1:0".parse().unwrap(),
        EmulatorConfig {
            tokens: vec![Secret::new(TOKEN)],
            client: Some((CLIENT_ID.to_owned(), Secret::new(CLIENT_SECRET))),
            caller_ip: Ipv4Addr::new(203, 0, 113, 7),
            ..EmulatorConfig::default()
        },
    )
    .await
    .unwrap();
    let home = tempfile::tempdir().unwrap();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/test_emulator_sdk.py");

    // A clean environment: no user config, no DATABRICKS_* or ARM_* variables, no proxy.
    let mut command = Command::new(python);
    command
        .arg(script)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("DATABRICKS_CONFIG_FILE", "/dev/null")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("IPSYNC_EMULATOR_URL", emulator.url().as_str())
        .env("IPSYNC_EMULATOR_TOKEN", TOKEN)
        .env("IPSYNC_EMULATOR_CLIENT_ID", CLIENT_ID)
        .env("IPSYNC_EMULATOR_CLIENT_SECRET", CLIENT_SECRET)
        .env("IPSYNC_EMULATOR_ACCOUNT_ID", ACCOUNT_ID);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the SDK script failed:\n{}\n{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert!(stderr.contains("Ran 2 tests"), "{stderr}");

    let requests = emulator.requests();
    let account_token = format!("/oidc/accounts/{ACCOUNT_ID}/v1/token");
    assert!(
        requests
            .iter()
            .any(|request| request.method == "POST" && request.path == account_token),
        "{requests:#?}"
    );
    let account_lists = format!("/api/2.0/accounts/{ACCOUNT_ID}/ip-access-lists");
    for (method, path) in [
        ("GET", "/api/2.0/ip-access-lists"),
        ("POST", "/api/2.0/ip-access-lists"),
        ("GET", account_lists.as_str()),
        ("POST", account_lists.as_str()),
    ] {
        assert!(
            requests
                .iter()
                .any(|request| request.method == method && request.path == path),
            "{method} {path} missing from {requests:#?}"
        );
    }
    for method in ["PATCH", "PUT", "DELETE"] {
        assert!(
            requests.iter().any(|request| request.method == method
                && request.path.starts_with(&account_lists)),
            "{method} missing from {requests:#?}"
        );
    }
    assert!(
        requests.iter().any(|request| request.status == Some(429)),
        "{requests:#?}"
    );
}
