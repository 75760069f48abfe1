#!/usr/bin/env bash
# Time verifying all 139 CPython release bundles (../shared/testdata/realworld/cpython) in one
# process, with one BundleVerifier (the production trusted root parsed once), in a release
# build. Each bundle is checked by digest against its release manager's identity: Fulcio chain,
# SCT, Rekor SET, inclusion proof and checkpoint, RFC 3161 timestamps where present, signature.
#
# Usage:   benches/bundles.sh
#
# Environment:
#   BENCH_RUNS=5    timed passes over the 139 bundles; the median, min and max are printed
#
# It runs the ignored test `cpython_bundles_in_one_process` in
# crates/signet-verify/tests/bundle_realworld.rs with `cargo test --release`, which builds the
# release profile of signet-verify's tree first (minutes the first time). The figure excludes
# reading the files; that is printed separately.
set -eu
set -o pipefail
cd "$(dirname "$0")/.."
export BENCH_RUNS="${BENCH_RUNS:-5}"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
cargo test --release -p signet-verify --test bundle_realworld \
    cpython_bundles_in_one_process -- --ignored --nocapture 2>&1 |
    grep -E '^(cpython:|test result)'
