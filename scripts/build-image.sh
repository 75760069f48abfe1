#!/usr/bin/env bash
# Assemble signet's runtime image without a container engine: the Dockerfile's runtime stage,
# written as an OCI image layout (or, with --rootfs-only, the root filesystem the Dockerfile
# copies into its `scratch` stage).
#
#   scripts/build-image.sh --binary target/release/signet --out dist/image [--packages FILE]
#   scripts/build-image.sh --binary target/release/signet --rootfs-only /rootfs
#
# The image is distroless-style: no shell, no package manager. It holds
#   /usr/local/bin/signet                    the binary (the entrypoint)
#   the shared libraries it links            found with ldd, copied from this Debian machine
#   /etc/ssl/certs/ca-certificates.crt       Debian's ca-certificates bundle
#   /etc/passwd, /etc/group                  root and nonroot (UID/GID 65532)
#   /etc/nsswitch.conf, /etc/os-release      name lookups from files; what scanners read
#   /home/nonroot (0700, 65532), /tmp (1777)
#   /usr/share/doc/PKG/copyright             the licence of every OS package copied from
#   /var/lib/dpkg/status.d/PKG               each package's dpkg record, as distroless keeps
#                                            it, so that image scanners see the OS packages
# and runs as 65532:65532. --packages writes those OS packages as JSON (name, version,
# architecture, source) for the SBOM and the provenance.
#
# Reproducible: two runs over the same binary and the same Debian packages give the same image
# digest. SOURCE_DATE_EPOCH (default: the commit's time) is every file's mtime and the config's
# `created`; scripts/oci-image.py sorts the entries and fixes owners, modes and the gzip header.
#
# Labels (OCI annotations in the config): org.opencontainers.image.{source,revision,version,
# licenses,created,title}; override with SIGNET_IMAGE_SOURCE / _REVISION / _VERSION.
set -euo pipefail

usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

binary='' out='' rootfs_only='' packages_out=''
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --rootfs-only) rootfs_only=$2; shift 2 ;;
    --packages) packages_out=$2; shift 2 ;;
    -h|--help) usage ;;
    *) echo "error: unknown argument $1" >&2; usage ;;
  esac
done
[ -n "$binary" ] || usage
[ -n "$out" ] || [ -n "$rootfs_only" ] || usage
[ -x "$binary" ] || { echo "error: $binary is not an executable file" >&2; exit 2; }

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
needed=(ldd dpkg-query)
# The layout (and --packages) are written with python3; the Dockerfile's builder has none.
if [ -z "$rootfs_only" ] || [ -n "$packages_out" ]; then needed+=(python3); fi
for tool in "${needed[@]}"; do
  command -v "$tool" >/dev/null || { echo "error: $tool is needed (a Debian machine)" >&2; exit 2; }
done

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct 2>/dev/null || echo 0)
fi
case "$SOURCE_DATE_EPOCH" in
  ''|*[!0-9]*) echo "error: SOURCE_DATE_EPOCH must be seconds since 1970, not '$SOURCE_DATE_EPOCH'" >&2; exit 2 ;;
esac

# Stage into a fresh directory, so that nothing from an earlier run or the caller's umask
# reaches the image (oci-image.py sets the modes; --rootfs-only sets them with chmod).
if [ -n "$rootfs_only" ]; then
  stage=$rootfs_only
  mkdir -p "$stage"
  [ -z "$(ls -A "$stage")" ] || { echo "error: $stage is not empty" >&2; exit 2; }
else
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  stage=$scratch/rootfs
  mkdir "$stage"
fi

install_file() { # SRC DEST-IN-ROOTFS MODE
  mkdir -p "$stage/$(dirname "$2")"
  cp -L "$1" "$stage/$2"
  chmod "$3" "$stage/$2"
}

# The packages that own the files copied from this machine, and their files.
declare -A package_of=()
owner_of() { # PATH -> the dpkg package that ships it (merged /usr: either spelling)
  local path=$1 real pkg
  real=$(readlink -f "$path")
  for candidate in "$path" "$real" "${real#/usr}" "/usr$real"; do
    if pkg=$(dpkg-query -S "$candidate" 2>/dev/null | head -n1 | cut -d: -f1); then
      [ -n "$pkg" ] && { echo "$pkg"; return 0; }
    fi
  done
  echo "error: no Debian package ships $path" >&2
  return 1
}

install_file "$binary" usr/local/bin/signet 0755

# Shared libraries, at the paths the dynamic loader asks for (ldd's "=>" targets, and the
# interpreter itself), as regular files.
while read -r lib; do
  [ -n "$lib" ] || continue
  install_file "$lib" "${lib#/}" 0755
  pkg=$(owner_of "$lib")
  package_of[$pkg]=1
done < <(ldd "$binary" | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+ \(0x/ { print $1 }' | sort -u)

install_file /etc/ssl/certs/ca-certificates.crt etc/ssl/certs/ca-certificates.crt 0644
package_of[ca-certificates]=1
install_file /usr/lib/os-release etc/os-release 0644
package_of[base-files]=1

mkdir -p "$stage/etc"
printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$stage/etc/group"
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$stage/etc/nsswitch.conf"
chmod 0644 "$stage/etc/passwd" "$stage/etc/group" "$stage/etc/nsswitch.conf"
mkdir -p "$stage/home/nonroot" "$stage/tmp"

mapfile -t packages < <(printf '%s\n' "${!package_of[@]}" | sort)
mkdir -p "$stage/var/lib/dpkg/status.d"
for pkg in "${packages[@]}"; do
  install_file "/usr/share/doc/$pkg/copyright" "usr/share/doc/$pkg/copyright" 0644
  # The package's own record, minus the fields that describe this machine's install
  # rather than the package (Status, Conffiles).
  dpkg-query -s "$pkg" | awk '/^(Status|Conffiles):/ { skip = 1; next } /^[^ ]/ { skip = 0 } !skip' \
    >"$stage/var/lib/dpkg/status.d/$pkg"
  chmod 0644 "$stage/var/lib/dpkg/status.d/$pkg"
done

if [ -n "$packages_out" ]; then
  for pkg in "${packages[@]}"; do
    dpkg-query -W -f '${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\n' "$pkg"
  done | python3 -c '
import json, sys
rows = [line.rstrip("\n").split("\t") for line in sys.stdin if line.strip()]
print(json.dumps([dict(zip(["name", "version", "architecture", "source", "sourceVersion"], r)) for r in rows], indent=2))
' >"$packages_out"
fi

if [ -n "$rootfs_only" ]; then
  # The Dockerfile copies this tree as it is: set what oci-image.py would set.
  chown -R 0:0 "$stage"
  chown 65532:65532 "$stage/home/nonroot"
  chmod 0700 "$stage/home/nonroot"
  chmod 1777 "$stage/tmp"
  find "$stage" -type d -not -path "$stage/tmp" -not -path "$stage/home/nonroot" -exec chmod 0755 {} +
  find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
  echo "Wrote the root filesystem to $stage" >&2
  exit 0
fi

version=${SIGNET_IMAGE_VERSION:-$("$binary" version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')}
revision=${SIGNET_IMAGE_REVISION:-$("$binary" version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["gitCommit"])')}
source=${SIGNET_IMAGE_SOURCE:-$(sed -n 's/^repository = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n1)}
licenses=$(sed -n 's/^license = "\(.*\)"$/\1/p' "$repo/Cargo.toml" | head -n1)
created=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)

rm -rf "$out"
mkdir -p "$out"
python3 "$here/oci-image.py" "$stage" "$out" \
  --created "$SOURCE_DATE_EPOCH" --ref-name "$version" \
  --label "org.opencontainers.image.title=signet" \
  --label "org.opencontainers.image.source=$source" \
  --label "org.opencontainers.image.revision=$revision" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.licenses=$licenses" \
  --label "org.opencontainers.image.created=$created"
