//! `signet version`: what this binary is and how it was built (recorded by `build.rs`).

use std::io::Write;
use std::process::ExitCode;

use crate::args::VersionArgs;

/// The build facts, fixed at compile time.
#[derive(Debug)]
struct BuildInfo {
    version: &'static str,
    git_commit: &'static str,
    build_date: &'static str,
    rustc: &'static str,
    target: &'static str,
}

const BUILD: BuildInfo = BuildInfo {
    version: env!("CARGO_PKG_VERSION"),
    git_commit: env!("SIGNET_BUILD_COMMIT"),
    build_date: env!("SIGNET_BUILD_DATE"),
    rustc: env!("SIGNET_BUILD_RUSTC"),
    target: env!("SIGNET_BUILD_TARGET"),
};

pub(crate) fn version(args: &VersionArgs) -> anyhow::Result<ExitCode> {
    let text = if args.json {
        let json = serde_json::json!({
            "version": BUILD.version,
            "gitCommit": BUILD.git_commit,
            "buildDate": BUILD.build_date,
            "rustc": BUILD.rustc,
            "target": BUILD.target,
        });
        format!("{json}\n")
    } else {
        format!(
            "signet {}\ngit commit: {}\nbuild date: {}\nrustc:      {}\ntarget:     {}\n",
            BUILD.version, BUILD.git_commit, BUILD.build_date, BUILD.rustc, BUILD.target
        )
    };
    // `signet version | head -1` closes the pipe early: that is not an error.
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(ExitCode::SUCCESS),
    }
}
