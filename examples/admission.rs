//! An admission-style program built on signet's libraries alone, with nothing from the CLI:
//! a policy file and a list of images in, one verdict per image out.
//!
//! ```sh
//! cargo run --example admission -- keys-example/policy.yaml 127.0.0.1:5000/app@sha256:…
//! ```
//!
//! It prints one line per image, `ALLOW`/`WARN`/`DENY`/`UNDECIDED`, the verified digest and
//! the first failed requirement, and exits 0 only when every image may run. A real admission
//! server keeps the loaded policy and the client across requests, caches verdicts by digest and
//! shares concurrent verifications: that is `signet-admission` (`signet admission serve`); this
//! shows the calls underneath.

use std::process::ExitCode;

use signet_oci::{ClientOptions, OciClient};
use signet_policy::file::PolicyFile;
use signet_policy::report::Decision;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(policy_path), images) = (args.next(), args.collect::<Vec<_>>()) else {
        eprintln!("usage: admission POLICY IMAGE...");
        return ExitCode::from(2);
    };
    match run(&policy_path, &images) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(error) => {
            eprintln!("admission: {error}");
            ExitCode::from(2)
        }
    }
}

fn run(policy_path: &str, images: &[String]) -> Result<bool, Box<dyn std::error::Error>> {
    // The policy: loaded and validated once (YAML trust policy or containers' policy.json).
    let policy = PolicyFile::load(std::path::Path::new(policy_path), None)?;
    let images = images
        .iter()
        .map(|i| i.parse())
        .collect::<Result<Vec<_>, _>>()?;
    // One client: one connection pool and one token flow per repository for every image.
    let client = OciClient::new(ClientOptions::default());
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs()
        .try_into()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let verdicts = runtime.block_on(policy.evaluate(&client, &images, now));
    let mut all_admitted = true;
    for verdict in &verdicts {
        let word = match verdict.decision() {
            Decision::Allow => "ALLOW",
            Decision::Warn => "WARN",
            Decision::Deny => "DENY",
            Decision::Undecided => "UNDECIDED",
        };
        all_admitted &= matches!(verdict.decision(), Decision::Allow | Decision::Warn);
        let why = verdict
            .matched_policies()
            .iter()
            .flat_map(|p| p.requirements())
            .find(|r| !r.passed())
            .map(|r| format!("{}: {}", r.requirement(), r.reason()))
            .or_else(|| verdict.note().map(str::to_owned))
            .unwrap_or_default();
        println!(
            "{word} {} {} {why}",
            verdict.image(),
            verdict.digest().unwrap_or("-")
        );
    }
    Ok(all_admitted)
}
