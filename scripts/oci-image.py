#!/usr/bin/env python3
"""Write a staged root filesystem as a one-layer OCI image layout, byte for byte reproducibly.

Called by scripts/build-image.sh; see there for the image's contents. Everything that could
differ between two builds of the same inputs is fixed here, not taken from the staging
directory: entries are sorted by path; every entry's mtime is SOURCE_DATE_EPOCH; owners are
0:0 except /home/nonroot (65532:65532); modes are 0755 for directories and executables, 0644
for other files, 01777 for /tmp, 0700 for /home/nonroot; user and group names are empty; the
gzip header carries no name and mtime 0. The JSON documents are written with a fixed key order
and no whitespace. So the image digest depends only on the staged files' contents, their
executable bits, SOURCE_DATE_EPOCH, the labels, and this machine's zlib (the compressed
bytes; the uncompressed layer's diff_id does not depend on it).

usage: oci-image.py ROOTFS OUT --created EPOCH --ref-name NAME [--label KEY=VALUE]...
"""

import argparse
import datetime
import gzip
import hashlib
import io
import json
import os
import stat
import sys
import tarfile

NONROOT = 65532
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
ENTRYPOINT = "/usr/local/bin/signet"


def entry_owner_mode(path, st):
    """(uid, gid, mode) for an entry; `path` is relative, without a leading slash."""
    if path == "tmp":
        return 0, 0, 0o1777
    if path == "home/nonroot" or path.startswith("home/nonroot/"):
        owner = NONROOT
    else:
        owner = 0
    if stat.S_ISDIR(st.st_mode):
        mode = 0o700 if path == "home/nonroot" else 0o755
    elif stat.S_ISLNK(st.st_mode):
        mode = 0o777
    elif st.st_mode & stat.S_IXUSR:
        mode = 0o755
    else:
        mode = 0o644
    return owner, owner, mode


def layer_tar(rootfs, epoch):
    """The uncompressed layer: every entry under `rootfs`, sorted, normalised."""
    paths = []
    for top, dirs, files in os.walk(rootfs):
        dirs.sort()
        for name in dirs + files:
            full = os.path.join(top, name)
            paths.append(os.path.relpath(full, rootfs))
    paths.sort()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel in paths:
            full = os.path.join(rootfs, rel)
            st = os.lstat(full)
            info = tarfile.TarInfo(rel)
            info.uid, info.gid, info.mode = entry_owner_mode(rel, st)
            info.uname = info.gname = ""
            info.mtime = epoch
            if stat.S_ISDIR(st.st_mode):
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif stat.S_ISLNK(st.st_mode):
                info.type = tarfile.SYMTYPE
                info.linkname = os.readlink(full)
                tar.addfile(info)
            elif stat.S_ISREG(st.st_mode):
                info.size = st.st_size
                with open(full, "rb") as f:
                    tar.addfile(info, f)
            else:
                sys.exit(f"error: {rel}: only directories, regular files and symlinks belong in the image")
    return out.getvalue()


def canonical(document):
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


def write_blob(out, data):
    digest = hashlib.sha256(data).hexdigest()
    path = os.path.join(out, "blobs", "sha256", digest)
    with open(path, "wb") as f:
        f.write(data)
    return f"sha256:{digest}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rootfs")
    parser.add_argument("out")
    parser.add_argument("--created", type=int, required=True, help="SOURCE_DATE_EPOCH")
    parser.add_argument("--ref-name", required=True, help="the tag recorded in index.json")
    parser.add_argument("--label", action="append", default=[], help="KEY=VALUE")
    parser.add_argument("--architecture", default="amd64")
    args = parser.parse_args()

    labels = {}
    for label in args.label:
        key, sep, value = label.partition("=")
        if not sep or not key:
            sys.exit(f"error: --label {label!r} is not KEY=VALUE")
        labels[key] = value
    created = datetime.datetime.fromtimestamp(args.created, datetime.timezone.utc)
    created = created.strftime("%Y-%m-%dT%H:%M:%SZ")

    os.makedirs(os.path.join(args.out, "blobs", "sha256"), exist_ok=True)
    tar = layer_tar(args.rootfs, args.created)
    diff_id = "sha256:" + hashlib.sha256(tar).hexdigest()
    gz = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz, compresslevel=9, mtime=0) as z:
        z.write(tar)
    layer = gz.getvalue()
    layer_digest = write_blob(args.out, layer)

    config = {
        "created": created,
        "architecture": args.architecture,
        "os": "linux",
        "config": {
            "User": "65532:65532",
            "Env": [
                "PATH=/usr/local/bin:/usr/bin:/bin",
                "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
            ],
            "Entrypoint": [ENTRYPOINT],
            "WorkingDir": "/home/nonroot",
            "Labels": dict(sorted(labels.items())),
        },
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": created, "created_by": "scripts/build-image.sh"}],
    }
    config_bytes = canonical(config)
    config_digest = write_blob(args.out, config_bytes)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config_bytes)},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": layer_digest, "size": len(layer)}],
        "annotations": {"org.opencontainers.image.created": created},
    }
    manifest_bytes = canonical(manifest)
    manifest_digest = write_blob(args.out, manifest_bytes)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": manifest_digest,
                "size": len(manifest_bytes),
                "platform": {"architecture": args.architecture, "os": "linux"},
                "annotations": {"org.opencontainers.image.ref.name": args.ref_name},
            }
        ],
    }
    with open(os.path.join(args.out, "index.json"), "wb") as f:
        f.write(canonical(index))
    with open(os.path.join(args.out, "oci-layout"), "wb") as f:
        f.write(canonical({"imageLayoutVersion": "1.0.0"}))
    print(json.dumps({
        "digest": manifest_digest,
        "layerSize": len(layer),
        "layerUncompressedSize": len(tar),
        "diffId": diff_id,
    }))


if __name__ == "__main__":
    main()
