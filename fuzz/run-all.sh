#!/usr/bin/env bash
# Runs every fuzz target in turn, one at a time, for SECONDS each (default 600, the issue's
# minimum), at the lowest CPU priority: `./run-all.sh 150`, or `./run-all.sh 600 dsse_envelope`
# for some targets only. The seeds in corpus/<target>/ are read but never written: each run
# grows a scratch corpus under $FUZZ_WORK (default: a temporary directory, kept and printed
# at the end). Crashes, timeouts and out-of-memory inputs land in artifacts/<target>/.
# Prints one line per target: seconds it ran, executions, exec/s, inputs in the scratch
# corpus, and the artifacts it wrote (a crash or timeout ends that target's run early).
# Needs cargo-fuzz (`cargo install cargo-fuzz --locked`); stable Rust, no sanitizer (-s none).
# The targets are built once (`cargo fuzz build -s none`), then each libFuzzer binary is run
# directly with the arguments `cargo fuzz run` would give it (which would rebuild before every
# target). FUZZ_NO_BUILD=1 runs the binaries already built.
set -euo pipefail

cd "$(dirname "$0")"
seconds=${1:-600}
shift || true
if [ $# -gt 0 ]; then targets=("$@"); else mapfile -t targets < <(cargo fuzz list); fi
work=${FUZZ_WORK:-$(mktemp -d -t signet-fuzz.XXXXXX)}
mkdir -p "$work"

# -timeout: an input that takes longer than 20 s is a hang finding (every input here is
# parsed in well under a millisecond to tens of milliseconds); -rss_limit_mb: 2 GiB.
if [ -z "${FUZZ_NO_BUILD:-}" ]; then nice -n 19 cargo fuzz build -s none; fi
bin=target/x86_64-unknown-linux-gnu/release

status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t" "artifacts/$t"
  log=$work/$t.log
  before=$(ls "artifacts/$t" | wc -l)
  start=$SECONDS
  if nice -n 19 "$bin/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$seconds" \
      -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 "$work/$t" "corpus/$t" \
      > "$log" 2>&1; then
    result=ok
  else
    result="FAILED (see $log)"
    status=1
  fi
  took=$((SECONDS - start))
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(ls "$work/$t" | wc -l)
  after=$(ls "artifacts/$t" | wc -l)
  printf '%-20s %5ss  %10s execs  %6s exec/s  %5s corpus units  %s artifacts  %s\n' \
    "$t" "$took" "${runs:-?}" "${rate:-?}" "$units" "$((after - before))" "$result"
done
echo "scratch corpora and logs: $work"
exit $status
