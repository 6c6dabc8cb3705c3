//! Log formats, read from the real binary's stderr: journal lines under
//! systemd (priority prefix, no timestamp of our own) and JSON lines.

use std::io::{BufRead, BufReader};
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// `possync run` against a shop nobody answers at; the lines it logs
/// until it has said it listens and that the pull failed.
fn run_agent(dir: &Path, extra: &[&str], journal: bool) -> Vec<String> {
    let config = dir.join("possync.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"127.0.0.1:0\"\ndata_dir = \"{}\"\n\n[store]\nurl = \"http://127.0.0.1:9\"\nconsumer_key = \"ck_x\"\nconsumer_secret = \"cs_x\"\nauth = \"oauth1\"\ntimeout_secs = 2\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    let meta = std::fs::metadata(format!("/proc/self/fd/{}", writer.as_raw_fd())).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_possync"));
    cmd.args(extra)
        .arg("--config")
        .arg(&config)
        .arg("run")
        .env("POSSYNC_LOG", "info")
        .env_remove("JOURNAL_STREAM")
        .stdout(Stdio::null())
        .stderr(writer);
    if journal {
        cmd.env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()));
    } else {
        // As a child of a journald-connected process would inherit it.
        cmd.env("JOURNAL_STREAM", "1:1");
    }
    let mut child = cmd.spawn().unwrap();
    drop(cmd);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(reader).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut lines = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !(lines.iter().any(|l: &String| l.contains("listening"))
        && lines.iter().any(|l: &String| {
            l.contains("WARN")
                || l.contains("ERROR")
                || l.starts_with("<4>")
                || l.starts_with("<3>")
        }))
    {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => lines.push(line),
            Err(_) => break,
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    lines
}

#[test]
fn under_systemd_lines_carry_priorities_and_no_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let lines = run_agent(dir.path(), &[], true);
    let listening = lines
        .iter()
        .find(|l| l.contains("listening"))
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert!(listening.starts_with("<6>"), "{listening}");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<4>") || l.starts_with("<3>")),
        "the failed pull is a warning or an error: {lines:#?}"
    );
    let year = chrono::Utc::now().format("%Y-").to_string();
    for l in lines.iter().filter(|l| l.starts_with('<')) {
        assert!(!l.contains(&year), "no timestamp of our own: {l}");
    }
}

#[test]
fn a_journal_stream_that_is_not_stderr_keeps_text_lines() {
    // JOURNAL_STREAM inherited by a child whose stderr goes elsewhere.
    let dir = tempfile::tempdir().unwrap();
    let lines = run_agent(dir.path(), &[], false);
    let listening = lines.iter().find(|l| l.contains("listening")).unwrap();
    assert!(!listening.starts_with('<'), "{listening}");
    assert!(listening.contains("INFO"), "{listening}");
}

#[test]
fn log_format_json_writes_one_object_a_line() {
    let dir = tempfile::tempdir().unwrap();
    let lines = run_agent(dir.path(), &["--log-format", "json"], true);
    let objects: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let listening = objects
        .iter()
        .find(|o| o["fields"]["message"] == "listening")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(listening["level"], "INFO");
    assert!(listening["timestamp"].is_string());
    assert!(
        objects
            .iter()
            .any(|o| o["level"] == "WARN" || o["level"] == "ERROR")
    );
}
