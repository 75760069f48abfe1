//! Records what `signet version` prints: the git commit, the build date, the rustc version and
//! the target.
//!
//! The build is reproducible: nothing here reads the clock. The build date is
//! `SOURCE_DATE_EPOCH` when it is set (the reproducible-builds convention, which the release
//! script sets to the commit's time), else the commit's own time, else `unknown`. The commit is
//! `SIGNET_GIT_COMMIT` when set (a build without `.git`, such as the Dockerfile's), else
//! `git rev-parse HEAD`, else `unknown`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-env-changed=SIGNET_GIT_COMMIT");
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    watch_git_head(&root);

    let commit = std::env::var("SIGNET_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&root, &["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    let epoch = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(value) => Some(value.trim().parse::<i64>().unwrap_or_else(|_| {
            panic!("SOURCE_DATE_EPOCH must be a number of seconds, not {value:?}")
        })),
        Err(_) => git(&root, &["log", "-1", "--format=%ct", "HEAD"]).and_then(|t| t.parse().ok()),
    };
    let date = epoch.map_or_else(|| "unknown".to_owned(), rfc3339_utc);
    let rustc = std::env::var_os("RUSTC")
        .and_then(|rustc| Command::new(rustc).arg("-V").output().ok())
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".to_owned());

    println!("cargo:rustc-env=SIGNET_BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=SIGNET_BUILD_DATE={date}");
    println!("cargo:rustc-env=SIGNET_BUILD_RUSTC={rustc}");
    println!("cargo:rustc-env=SIGNET_BUILD_TARGET={target}");
}

/// `git ARGS` in `root`; `None` when git or the repository is missing.
fn git(root: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !text.is_empty()).then_some(text)
}

/// Reruns this script when HEAD moves: HEAD itself, the branch it names, and packed-refs.
/// Only files that exist are named (cargo reruns on every build for a missing one).
fn watch_git_head(root: &Path) {
    let (Some(git_dir), Some(common_dir)) = (
        git(root, &["rev-parse", "--absolute-git-dir"]),
        git(
            root,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        ),
    ) else {
        return;
    };
    let mut watched = vec![Path::new(&git_dir).join("HEAD")];
    if let Some(branch) = git(root, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(Path::new(&common_dir).join(branch));
    }
    watched.push(Path::new(&common_dir).join("packed-refs"));
    for path in watched.iter().filter(|p| p.is_file()) {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

/// Seconds since the epoch as `YYYY-MM-DDTHH:MM:SSZ` (proleptic Gregorian, UTC).
fn rfc3339_utc(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    // Howard Hinnant's days_from_civil, inverted (era of 400 years = 146 097 days).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}
