#!/usr/bin/env python3
"""Helpers for the registry benchmarks (benches/verify-batch.sh, benches/verify-one.sh).

Standard library only. Subcommands:

  populate HOST COUNT REPOS OUT
      Pushes COUNT small distinct OCI images (one config blob, one one-file tar layer, one
      manifest each) to http://HOST, spread over REPOS repositories bench/app-NN, with 8
      keep-alive connections; writes one digest reference per line to OUT.

  urls HOST IMAGES MANIFESTS BLOBS
      For each image in IMAGES (digest references), reads its signature manifest
      (sha256-<hex>.sig) once and writes curl config files: MANIFESTS with the manifest URLs,
      BLOBS with the URLs of every layer blob of those manifests, in the same order. These are
      the objects `signet verify` reads; the lists are made outside the timed runs.

  median FILE...
      Prints the median of the numbers in each file (one number a line).
"""

import hashlib
import http.client
import io
import json
import statistics
import sys
import tarfile
import threading

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
ACCEPT = ", ".join(
    [
        OCI_MANIFEST,
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]
)


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def one_file_tar(name, content):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo(name)
        info.size = len(content)
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


class Client:
    """One keep-alive HTTP/1.1 connection to the registry."""

    def __init__(self, host):
        self.host = host
        self.conn = http.client.HTTPConnection(host, timeout=60)

    def request(self, method, path, body=None, headers=None):
        self.conn.request(method, path, body=body, headers=headers or {})
        response = self.conn.getresponse()
        data = response.read()
        return response.status, response, data

    def push_blob(self, repo, blob):
        digest = sha256(blob)
        status, response, data = self.request(
            "POST", f"/v2/{repo}/blobs/uploads/", b"", {"Content-Type": "application/octet-stream"}
        )
        if status != 202:
            raise SystemExit(f"POST /v2/{repo}/blobs/uploads/ answered {status}: {data[:200]!r}")
        location = response.getheader("Location")
        if location.startswith("http://") or location.startswith("https://"):
            location = "/" + location.split("/", 3)[3]
        separator = "&" if "?" in location else "?"
        status, _, data = self.request(
            "PUT",
            f"{location}{separator}digest={digest}",
            blob,
            {"Content-Type": "application/octet-stream"},
        )
        if status != 201:
            raise SystemExit(f"PUT blob to {repo} answered {status}: {data[:200]!r}")
        return digest

    def push_image(self, repo, index):
        layer = one_file_tar("hello.txt", f"signet bench image {repo} #{index}\n".encode())
        layer_digest = self.push_blob(repo, layer)
        config = json.dumps(
            {
                "architecture": "amd64",
                "os": "linux",
                "config": {},
                "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]},
            }
        ).encode()
        config_digest = self.push_blob(repo, config)
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
                "layers": [{"mediaType": OCI_LAYER_TAR, "digest": layer_digest, "size": len(layer)}],
            }
        ).encode()
        status, response, data = self.request(
            "PUT", f"/v2/{repo}/manifests/img-{index}", manifest, {"Content-Type": OCI_MANIFEST}
        )
        if status != 201:
            raise SystemExit(f"PUT manifest {repo}:img-{index} answered {status}: {data[:200]!r}")
        digest = response.getheader("Docker-Content-Digest")
        if digest != sha256(manifest):
            raise SystemExit(f"{repo}:img-{index}: registry digest {digest} is not the manifest's")
        return digest


def populate(host, count, repos, out):
    count, repos = int(count), int(repos)
    refs = [None] * count
    next_index = [0]
    lock = threading.Lock()
    errors = []

    def worker():
        client = Client(host)
        while True:
            with lock:
                i = next_index[0]
                next_index[0] += 1
            if i >= count or errors:
                return
            repo = f"bench/app-{i % repos:02d}"
            try:
                refs[i] = f"{host}/{repo}@{client.push_image(repo, i)}"
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise SystemExit(f"populate failed: {errors[0]}")
    with open(out, "w") as f:
        f.write("".join(r + "\n" for r in refs))


def urls(host, images, manifests_out, blobs_out):
    client = Client(host)
    manifest_lines, blob_lines = [], []
    with open(images) as f:
        refs = [line.strip() for line in f if line.strip()]
    for ref in refs:
        rest = ref[len(host) + 1 :]
        repo, digest = rest.split("@", 1)
        tag = digest.replace(":", "-") + ".sig"
        path = f"/v2/{repo}/manifests/{tag}"
        status, _, data = client.request("GET", path, headers={"Accept": ACCEPT})
        if status != 200:
            raise SystemExit(f"GET {path} answered {status}: is {ref} signed?")
        manifest_lines.append(f'url = "http://{host}{path}"\noutput = "/dev/null"\n')
        for layer in json.loads(data)["layers"]:
            blob_lines.append(
                f'url = "http://{host}/v2/{repo}/blobs/{layer["digest"]}"\noutput = "/dev/null"\n'
            )
    with open(manifests_out, "w") as f:
        f.write("".join(manifest_lines))
    with open(blobs_out, "w") as f:
        f.write("".join(blob_lines))
    print(f"{len(manifest_lines)} manifests, {len(blob_lines)} blobs")


def median(*files):
    for name in files:
        with open(name) as f:
            values = [float(line) for line in f if line.strip()]
        print(statistics.median(values))


def main():
    commands = {"populate": (populate, 4), "urls": (urls, 4)}
    if len(sys.argv) >= 2 and sys.argv[1] == "median":
        median(*sys.argv[2:])
        return
    if len(sys.argv) < 2 or sys.argv[1] not in commands or len(sys.argv) - 2 != commands[sys.argv[1]][1]:
        raise SystemExit(__doc__)
    commands[sys.argv[1]][0](*sys.argv[2:])


if __name__ == "__main__":
    main()
