//! signet's YAML trust policy: `TrustPolicy::parse` (strict YAML through serde-saphyr; globs,
//! regexes, durations, version ranges and Rego compiled while parsing), with key files
//! unreadable (`key.data` keys still load), then `lint` and `matching` on a few repositories.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_policy::lint::lint;
use signet_policy::model::TrustPolicy;

const REPOSITORIES: [&str; 4] = [
    "index.docker.io/library/ubuntu",
    "registry.example.com/prod/team/app",
    "127.0.0.1:5000/app",
    "ghcr.io/acme/app",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let no_files = |_: &str| Err(std::io::Error::other("the fuzz target reads no key files"));
    let Ok(policy) = TrustPolicy::parse(text, &no_files) else {
        return;
    };
    let _ = lint(&policy);
    for repository in REPOSITORIES {
        let _ = policy.matching(repository);
    }
});
