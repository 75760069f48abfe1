//! `signet version`: what this binary is and how it was built (recorded by `build.rs`).

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
    if args.json {
        let json = serde_json::json!({
            "version": BUILD.version,
            "gitCommit": BUILD.git_commit,
            "buildDate": BUILD.build_date,
            "rustc": BUILD.rustc,
            "target": BUILD.target,
        });
        println!("{json}");
    } else {
        println!("signet {}", BUILD.version);
        println!("git commit: {}", BUILD.git_commit);
        println!("build date: {}", BUILD.build_date);
        println!("rustc:      {}", BUILD.rustc);
        println!("target:     {}", BUILD.target);
    }
    Ok(ExitCode::SUCCESS)
}
