#!/usr/bin/env python3
"""The documents scripts/release.sh writes about a release, each a subcommand:

  sbom        merge cargo-cyclonedx's SBOM of the binary with the image's OS packages, check it
              covers every crate the binary embeds (cargo-auditable's list), validate it against
              the CycloneDX 1.5 schema (PyPI cyclonedx-python-lib)
  vuln        wrap `cargo audit bin --json` output in Cosign's vulnerability predicate
  provenance  an SLSA v1 provenance predicate describing the build
  keyless-policy
              deploy/policy.yaml with its `release` key authority replaced by a GitHub Actions
              workflow identity, for releases signed keylessly

Everything is written with sorted, stable content so that the same build gives the same
documents (timestamps excepted where they record when something ran).
"""

import argparse
import datetime
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import zlib

# Licences of the Debian packages that scripts/build-image.sh copies files from, read from
# their /usr/share/doc/PKG/copyright (not machine-readable for these packages, so written out
# here; a package missing from this table stops the release until someone reads its file).
DEBIAN_LICENCES = {
    # glibc: the libraries are LGPL-2.1-or-later (the copyright file, "GNU C Library").
    "libc6": "LGPL-2.1-or-later",
    # GCC's runtime library: GPL-3.0-or-later with the GCC Runtime Library Exception.
    "libgcc-s1": "GPL-3.0-or-later WITH GCC-exception-3.1",
    # The image holds only the certificate bundle (MPL-2.0, from Mozilla's store); the
    # package's scripts (GPL-2.0-or-later) are not copied.
    "ca-certificates": "MPL-2.0",
    # /etc/os-release only; base-files is GPL-2.0-or-later.
    "base-files": "GPL-2.0-or-later",
}


def rfc3339(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def deb_purl(pkg):
    from packageurl import PackageURL

    return PackageURL(
        type="deb",
        namespace="debian",
        name=pkg["name"],
        version=pkg["version"],
        qualifiers={"arch": pkg["architecture"], "distro": "debian-12"},
    ).to_string()


def embedded_crates(binary):
    """The crates cargo-auditable embedded in the binary's `.dep-v0` section (zlib-compressed
    JSON), as two sets of (name, version): the runtime ones, which are linked in, and the
    build-time ones (proc-macros, build-script dependencies), which are not."""
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "dep-v0")
        subprocess.run(
            ["objcopy", "--dump-section", f".dep-v0={out}", binary, os.path.join(tmp, "copy")],
            check=True,
            capture_output=True,
        )
        with open(out, "rb") as f:
            data = json.loads(zlib.decompress(f.read()))
    runtime, build = set(), set()
    for p in data["packages"]:
        (runtime if p.get("kind", "runtime") == "runtime" else build).add((p["name"], p["version"]))
    return runtime, build - runtime


def cmd_sbom(args):
    with open(args.crates) as f:
        bom = json.load(f)
    with open(args.os_packages) as f:
        packages = json.load(f)
    # cargo-cyclonedx names workspace crates by their absolute path: make them relative, so
    # the SBOM does not depend on (or reveal) where the checkout was.
    root = os.path.realpath(args.repo)
    text = json.dumps(bom).replace(f"file://{root}/", "file://./").replace(f"file://{root}", "file://.")
    bom = json.loads(text)

    components = bom.setdefault("components", [])
    for pkg in packages:
        licence = DEBIAN_LICENCES.get(pkg["name"])
        if licence is None:
            sys.exit(
                f"error: no licence recorded for the Debian package {pkg['name']}: read "
                f"/usr/share/doc/{pkg['name']}/copyright and add it to DEBIAN_LICENCES in {__file__}"
            )
        purl = deb_purl(pkg)
        components.append({
            "type": "library",
            "bom-ref": purl,
            "name": pkg["name"],
            "version": pkg["version"],
            "publisher": "Debian",
            "licenses": [{"expression": licence}],
            "purl": purl,
            "properties": [
                {"name": "signet:image:os-package", "value": "true"},
                {"name": "signet:debian:source", "value": f"{pkg['source']}@{pkg['sourceVersion']}"},
            ],
        })
    metadata = bom.setdefault("metadata", {})
    metadata.setdefault("properties", []).extend([
        {"name": "signet:image:digest", "value": args.image_digest},
        {"name": "signet:binary:sha256", "value": sha256_file(args.binary)},
    ])
    tools = metadata.setdefault("tools", [])
    if isinstance(tools, list):
        tools.append({"vendor": "signet", "name": "scripts/release-tools.py sbom", "version": "1"})

    # Every crate linked into the binary is in the SBOM. cargo-cyclonedx also lists the
    # proc-macros (compiled and run at build time, not linked): those are marked
    # `scope: excluded` ("not part of the runtime"), so a reader can tell them apart. Anything
    # else the binary's own list does not name stops the release.
    runtime, build_only = embedded_crates(args.binary)
    root = metadata.get("component", {})
    listed = {(root.get("name"), root.get("version"))}
    for c in components:
        if not c.get("purl", "").startswith("pkg:cargo/"):
            continue
        key = (c["name"], c["version"])
        listed.add(key)
        if key not in runtime and key in build_only:
            c["scope"] = "excluded"
            c.setdefault("properties", []).append({"name": "signet:crate:linked", "value": "false"})
    missing = sorted(runtime - listed)
    unknown = sorted(listed - runtime - build_only)
    if missing or unknown:
        sys.exit(
            "error: the SBOM's crates differ from those embedded in the binary by cargo-auditable:\n"
            f"  linked, missing from the SBOM: {missing}\n  in the SBOM, unknown to the binary: {unknown}"
        )
    linked = sum(1 for c in components if c.get("purl", "").startswith("pkg:cargo/") and c.get("scope") != "excluded")

    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    text = json.dumps(bom, indent=2, ensure_ascii=False) + "\n"
    errors = JsonStrictValidator(SchemaVersion.V1_5).validate_str(text)
    if errors:
        sys.exit(f"error: the SBOM does not validate against CycloneDX 1.5: {errors}")
    with open(args.out, "w") as f:
        f.write(text)
    summary = {
        "components": len(components),
        "cratesLinked": linked + 1,
        "cratesBuildTimeOnly": len(listed) - linked - 1,
        "osPackages": len(packages),
    }
    print(json.dumps(summary))


def cmd_vuln(args):
    with open(args.report) as f:
        report = json.load(f)
    predicate = {
        "invocation": {
            "parameters": args.parameter,
            "uri": args.invocation_uri,
            "event_id": args.event_id,
            "builder.id": args.builder_id,
        },
        "scanner": {
            "uri": f"pkg:cargo/cargo-audit@{args.scanner_version}",
            "version": args.scanner_version,
            "db": {"uri": args.db_uri, "version": args.db_version},
            "result": report,
        },
        "metadata": {"scanStartedOn": args.started, "scanFinishedOn": args.finished},
    }
    with open(args.out, "w") as f:
        json.dump(predicate, f, indent=2)
        f.write("\n")
    v = report.get("vulnerabilities", {})
    print(json.dumps({"found": v.get("count", 0), "ids": [x["advisory"]["id"] for x in v.get("list", [])]}))


def cmd_provenance(args):
    with open(args.os_packages) as f:
        packages = json.load(f)
    source = f"git+{args.repository}" + (f"@{args.ref}" if args.ref else "")
    dependencies = [
        {"uri": source, "digest": {"gitCommit": args.commit}},
        {"name": "Cargo.lock", "uri": f"{source}#Cargo.lock", "digest": {"sha256": sha256_file(args.lockfile)}},
        {"name": "rustc", "uri": f"pkg:generic/rustc@{args.rustc_version}", "annotations": {"rustc": args.rustc}},
    ]
    for pkg in packages:
        dependencies.append({"name": pkg["name"], "uri": deb_purl(pkg), "annotations": {"role": "runtime image"}})
    predicate = {
        "buildDefinition": {
            "buildType": args.build_type,
            "externalParameters": {
                "source": {"uri": source, "digest": {"gitCommit": args.commit}},
                "buildCommand": args.build_command,
                "imageCommand": args.image_command,
            },
            "internalParameters": {
                "SOURCE_DATE_EPOCH": args.source_date_epoch,
                "target": args.target,
            },
            "resolvedDependencies": dependencies,
        },
        "runDetails": {
            "builder": {"id": args.builder_id},
            "metadata": {
                "invocationId": args.invocation_id,
                "startedOn": args.started,
                "finishedOn": now(),
            },
            "byproducts": [
                {"name": os.path.basename(p), "digest": {"sha256": sha256_file(p)}} for p in args.byproduct
            ],
        },
    }
    with open(args.out, "w") as f:
        json.dump(predicate, f, indent=2)
        f.write("\n")


def cmd_keyless_policy(args):
    with open(args.policy) as f:
        text = f.read()
    pattern = re.compile(r"(  # release-authority: begin.*?\n)(.*?)(  # release-authority: end\n)", re.S)
    if not pattern.search(text):
        sys.exit(f"error: {args.policy} has no '# release-authority: begin/end' section")
    authority = (
        "  release:\n"
        "    keyless:\n"
        "      issuer: { exact: \"https://token.actions.githubusercontent.com\" }\n"
        f"      subject: {{ exact: {json.dumps(args.subject)} }}\n"
        f"      githubWorkflowRepository: {json.dumps(args.repository)}\n"
    )
    text = pattern.sub(lambda m: m.group(1) + authority + m.group(3), text)
    for key, value in (("builderId", args.builder_id), ("sourceRepository", args.source_repository)):
        text, n = re.subn(rf"^(\s*{key}: ).*$", lambda m: m.group(1) + (
            f"{{ exact: {json.dumps(value)} }}" if key == "builderId" else json.dumps(value)
        ), text, flags=re.M)
        if n != 1:
            sys.exit(f"error: {args.policy} should have one {key}, has {n}")
    with open(args.out, "w") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("sbom")
    p.add_argument("--crates", required=True, help="cargo-cyclonedx's JSON SBOM of the binary")
    p.add_argument("--os-packages", required=True, help="scripts/build-image.sh --packages output")
    p.add_argument("--binary", required=True)
    p.add_argument("--image-digest", required=True)
    p.add_argument("--repo", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_sbom)

    p = sub.add_parser("vuln")
    p.add_argument("--report", required=True, help="cargo audit --json output")
    p.add_argument("--scanner-version", required=True)
    p.add_argument("--db-uri", required=True)
    p.add_argument("--db-version", required=True)
    p.add_argument("--started", required=True)
    p.add_argument("--finished", required=True)
    p.add_argument("--builder-id", required=True)
    p.add_argument("--invocation-uri", required=True)
    p.add_argument("--event-id", required=True)
    p.add_argument("--parameter", action="append", default=[])
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_vuln)

    p = sub.add_parser("provenance")
    for name in ("repository", "commit", "lockfile", "rustc", "rustc-version", "target",
                 "build-type", "builder-id", "invocation-id", "started", "source-date-epoch",
                 "build-command", "image-command", "os-packages", "out"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--ref", default="")
    p.add_argument("--byproduct", action="append", default=[])
    p.set_defaults(func=cmd_provenance)

    p = sub.add_parser("keyless-policy")
    for name in ("policy", "subject", "repository", "builder-id", "source-repository", "out"):
        p.add_argument(f"--{name}", required=True)
    p.set_defaults(func=cmd_keyless_policy)

    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
