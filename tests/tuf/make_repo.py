#!/usr/bin/env python3
"""A TUF repository laid out as Sigstore's, made with python-tuf (PyPI `tuf`, pinned in scripts/test.sh)
for signet's end-to-end tests (tests/e2e/tuf.rs), and python-tuf's own client to check it.

    make_repo.py build --out DIR --target NAME=FILE [--target ...] [--version N]
                       [--expires-days D] [--timestamp-expires-days D]
                       [--timestamp-expires-seconds S] [--rogue-timestamp-key]
    make_repo.py check --repo DIR --state DIR --target NAME [--target ...]

`build` writes, as Sigstore's repository does with consistent snapshots: `1.root.json`,
`timestamp.json`, `N.snapshot.json`, `N.targets.json` and `targets/<sha256>.<name>`. One
ed25519 key per top-level role, threshold 1. The keys are derived from fixed seeds, so every
build signs with the same keys and a second build (another `--version`) is a later, or earlier,
state of the same repository. `--rogue-timestamp-key` signs timestamp.json with a key the root
does not list. `--timestamp-expires-days -1` makes timestamp.json expired.

`check` runs python-tuf's ngclient against the repository (files read directly, no HTTP),
keeping its trusted metadata in `--state` across runs (so rollbacks are visible), and prints
`ok` or `refused: <ExceptionClass>: <message>`. It exits 0 either way.
"""

import argparse
import hashlib
import os
import shutil
import sys
from datetime import datetime, timedelta, timezone

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from securesystemslib.signer import CryptoSigner, SSlibKey
from tuf.api.exceptions import DownloadHTTPError, RepositoryError
from tuf.api.metadata import (
    Metadata,
    MetaFile,
    Root,
    Snapshot,
    TargetFile,
    Targets,
    Timestamp,
)
from tuf.api.serialization.json import JSONSerializer
from tuf.ngclient import Updater
from tuf.ngclient.fetcher import FetcherInterface

ROLES = ("root", "targets", "snapshot", "timestamp")


def signer(name):
    """The ed25519 signer for `name`, from a fixed seed."""
    seed = hashlib.sha256(b"signet-tuf-test-key:" + name.encode()).digest()
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = SSlibKey.from_crypto(private.public_key())
    return CryptoSigner(private, public)


def build(args):
    now = datetime.now(timezone.utc).replace(microsecond=0)
    expires = now + timedelta(days=args.expires_days)
    ts_expires = now + timedelta(days=args.timestamp_expires_days)
    if args.timestamp_expires_seconds is not None:
        ts_expires = now + timedelta(seconds=args.timestamp_expires_seconds)
    signers = {role: signer(role) for role in ROLES}

    root = Metadata(Root(expires=expires, consistent_snapshot=True))
    for role in ROLES:
        root.signed.add_key(signers[role].public_key, role)

    targets = Metadata(Targets(version=args.version, expires=expires))
    os.makedirs(os.path.join(args.out, "targets"), exist_ok=True)
    for spec in args.target:
        name, _, path = spec.partition("=")
        info = TargetFile.from_file(name, path, ["sha256"])
        targets.signed.targets[name] = info
        digest = info.hashes["sha256"]
        shutil.copyfile(path, os.path.join(args.out, "targets", f"{digest}.{name}"))

    snapshot = Metadata(Snapshot(version=args.version, expires=expires))
    snapshot.signed.meta["targets.json"] = MetaFile(version=args.version)
    timestamp = Metadata(Timestamp(version=args.version, expires=ts_expires))
    timestamp.signed.snapshot_meta = MetaFile(version=args.version)

    serializer = JSONSerializer(compact=False)
    root.sign(signers["root"])
    targets.sign(signers["targets"])
    snapshot.sign(signers["snapshot"])
    timestamp.sign(signer("rogue") if args.rogue_timestamp_key else signers["timestamp"])
    root.to_file(os.path.join(args.out, "1.root.json"), serializer)
    targets.to_file(os.path.join(args.out, f"{args.version}.targets.json"), serializer)
    snapshot.to_file(os.path.join(args.out, f"{args.version}.snapshot.json"), serializer)
    timestamp.to_file(os.path.join(args.out, "timestamp.json"), serializer)


class FileFetcher(FetcherInterface):
    """Serves `http://repo.invalid/<path>` from a directory."""

    def __init__(self, directory):
        self.directory = directory

    def _fetch(self, url):
        path = os.path.join(self.directory, url.split("http://repo.invalid/", 1)[1])
        if not os.path.isfile(path):
            raise DownloadHTTPError(f"{url} not found", 404)
        with open(path, "rb") as f:
            return iter([f.read()])


def check(args):
    os.makedirs(args.state, exist_ok=True)
    with open(os.path.join(args.repo, "1.root.json"), "rb") as f:
        bootstrap = f.read()
    targets_dir = os.path.join(args.state, "targets")
    os.makedirs(targets_dir, exist_ok=True)
    try:
        updater = Updater(
            metadata_dir=args.state,
            metadata_base_url="http://repo.invalid/",
            target_dir=targets_dir,
            target_base_url="http://repo.invalid/targets/",
            fetcher=FileFetcher(args.repo),
            bootstrap=bootstrap,
        )
        updater.refresh()
        for name in args.target:
            info = updater.get_targetinfo(name)
            if info is None:
                raise RepositoryError(f"no target {name}")
            updater.download_target(info)
    except RepositoryError as error:
        print(f"refused: {type(error).__name__}: {error}")
        return
    print("ok")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build")
    b.add_argument("--out", required=True)
    b.add_argument("--target", action="append", default=[])
    b.add_argument("--version", type=int, default=1)
    b.add_argument("--expires-days", type=int, default=365)
    b.add_argument("--timestamp-expires-days", type=int, default=1)
    b.add_argument("--timestamp-expires-seconds", type=int)
    b.add_argument("--rogue-timestamp-key", action="store_true")
    c = sub.add_parser("check")
    c.add_argument("--repo", required=True)
    c.add_argument("--state", required=True)
    c.add_argument("--target", action="append", default=[])
    args = parser.parse_args()
    {"build": build, "check": check}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
