//! A CLI that installs like one (issue 13): `signet version`, shell completions, man pages, and
//! progress that is drawn only on a terminal.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{Scratch, stderr, stdout};

fn git(args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("git: {e}"));
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out).trim().to_owned()
}

/// `date -u -d @SECONDS +%Y-%m-%dT%H:%M:%SZ`: an independent formatter for the build date.
fn rfc3339(seconds: &str) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{seconds}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap_or_else(|e| panic!("date: {e}"));
    stdout(&out).trim().to_owned()
}

#[test]
fn version_names_the_commit_the_build_date_rustc_and_target() {
    let s = Scratch::new();
    let out = s.signet().args(["version", "--json"]).assert_success();
    let json: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("version --json is not JSON: {e}"));
    assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(json["gitCommit"], git(&["rev-parse", "HEAD"]));
    // The build date is SOURCE_DATE_EPOCH when the build had one, else the commit's time.
    let epoch = option_env!("SOURCE_DATE_EPOCH")
        .map(str::to_owned)
        .unwrap_or_else(|| git(&["log", "-1", "--format=%ct", "HEAD"]));
    assert_eq!(json["buildDate"], rfc3339(&epoch));
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("-vV")
        .output()
        .unwrap_or_else(|e| panic!("rustc: {e}"));
    let rustc = stdout(&rustc);
    let host = rustc
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .unwrap_or_default();
    assert_eq!(json["target"], host);
    assert!(
        json["rustc"]
            .as_str()
            .is_some_and(|r| r.starts_with("rustc 1.")),
        "{json}"
    );

    let plain = s.signet().arg("version").assert_success();
    let plain = stdout(&plain);
    assert!(
        plain.starts_with(&format!("signet {}\n", env!("CARGO_PKG_VERSION"))),
        "{plain}"
    );
    for value in ["gitCommit", "buildDate", "rustc", "target"] {
        let v = json[value].as_str().unwrap_or_default();
        assert!(plain.contains(v), "plain output lacks {value} {v}: {plain}");
    }
}

#[test]
fn completions_for_each_shell_know_the_commands() {
    let s = Scratch::new();
    for (shell, marker) in [
        ("bash", "complete -F _signet"),
        ("zsh", "#compdef signet"),
        ("fish", "complete -c signet"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let out = s.signet().args(["completion", shell]).assert_success();
        let script = stdout(&out);
        assert!(script.contains(marker), "{shell}: no {marker:?}");
        assert!(
            script.contains("verify-attestation") && script.contains("certificate-identity"),
            "{shell}: the completion does not know signet's commands and flags"
        );
    }
    let out = s.signet().args(["completion", "tcsh"]).assert_exit(2);
    assert!(
        stderr(&out).contains("invalid value 'tcsh'"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn manpages_cover_every_command() {
    let s = Scratch::new();
    s.signet().args(["manpages", "man"]).assert_success();
    let dir = s.path("man");
    let mut pages: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    pages.sort();
    // The commands `signet --help` lists (and their subcommands), each with a page.
    let help = stdout(&s.signet().arg("--help").assert_success());
    for command in help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
    {
        let page = format!("signet-{command}.1");
        assert!(pages.contains(&page), "no {page} in {pages:?}");
    }
    for page in [
        "signet.1",
        "signet-attach-sbom.1",
        "signet-policy-explain.1",
    ] {
        assert!(pages.contains(&page.to_owned()), "no {page} in {pages:?}");
    }
    let sign = std::fs::read_to_string(dir.join("signet-sign.1")).unwrap_or_default();
    let version = format!("\"signet {}\"", env!("CARGO_PKG_VERSION"));
    let title = sign
        .lines()
        .find(|l| l.starts_with(".TH "))
        .unwrap_or_default();
    assert!(
        title.starts_with(".TH signet-sign 1 ") && title.contains(&version),
        "{title}"
    );
    assert!(
        sign.contains("signet\\-sign") && sign.contains("tlog\\-upload"),
        "{sign}"
    );
}

/// `sign-blob` over a 40 MiB file: (what a terminal showed, what a pipe got).
fn sign_large_file(s: &Scratch, quiet: bool) -> (String, String) {
    let file = s.path("large.bin");
    if !file.exists() {
        let f = std::fs::File::create(&file).unwrap_or_else(|e| panic!("{e}"));
        f.set_len(40 << 20).unwrap_or_else(|e| panic!("{e}"));
        s.key_pair("k");
    }
    let signet = Path::new(env!("CARGO_BIN_EXE_signet"));
    let quiet = if quiet { " --quiet" } else { "" };
    let command = format!(
        "'{}' sign-blob{quiet} --tlog-upload=false --key k.key large.bin",
        signet.display()
    );
    // `script` gives the command a pseudo-terminal and records what it drew.
    let tty = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(s.dir.path())
        .env("COSIGN_PASSWORD", crate::common::PASSWORD)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("script (util-linux): {e}"));
    assert!(tty.status.success(), "{}", stdout(&tty));
    let piped = s
        .signet()
        .args([
            "sign-blob",
            "--tlog-upload=false",
            "--key",
            "k.key",
            "large.bin",
        ])
        .assert_success();
    (stdout(&tty), stderr(&piped))
}

#[test]
fn progress_is_drawn_on_a_terminal_only_and_never_with_quiet() {
    let s = Scratch::new();
    let (terminal, piped) = sign_large_file(&s, false);
    assert!(
        terminal.contains("Hashing large.bin: 40.0 MiB / 40.0 MiB (100%)"),
        "no progress on a terminal: {terminal:?}"
    );
    assert!(!piped.contains("Hashing"), "progress on a pipe: {piped:?}");
    assert!(
        !piped.contains('\r') && !piped.contains('\x1b'),
        "control characters on a pipe: {piped:?}"
    );
    let (terminal, _) = sign_large_file(&s, true);
    assert!(
        !terminal.contains("Hashing"),
        "progress despite --quiet: {terminal:?}"
    );
}
