#!/usr/bin/env python3
"""Helpers for benches/admission.sh. Standard library only. Subcommands:

  review UID OUT IMAGE...
      Writes an AdmissionReview (tests/data/admission/pod-create.json, the Pod an API server
      sends for `kubectl apply`) with UID and one container per IMAGE to OUT.

  reviews PREFIX IMAGES_FILE OUTDIR
      One review per image of IMAGES_FILE (one reference a line): OUTDIR/N.json, uid PREFIX-N.

  curl-config URL DIR OUT CA WRITE_OUT
      A curl config (for --parallel) POSTing every DIR/N.json to URL, trusting CA, output
      discarded, printing WRITE_OUT (curl's -w format) for each. Every transfer carries its own
      options: `next` resets them, so a --cacert or -w on the command line would reach only
      the first.

  decision-times LOG PREFIX OUT
      The server's own decision time (elapsedMicros, in ms) of every `admission` log line of
      LOG whose uid starts with PREFIX, one a line, into OUT; prints how many.

  percentiles FILE P...
      Prints the P-th percentiles (nearest rank) of the numbers in FILE, one a line.

  metric URL CA NAME
      The value of the Prometheus sample NAME at URL (GET over HTTPS, trusting CA).
"""

import json
import math
import os
import ssl
import sys
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, "..", "..", "tests", "data", "admission", "pod-create.json")


def review(uid, images):
    with open(TEMPLATE) as f:
        text = f.read()
    body = json.loads(text.replace("{{APP}}", "x").replace("{{SIDECAR}}", "x").replace("{{INIT}}", "x"))
    body["request"]["uid"] = uid
    spec = body["request"]["object"]["spec"]
    spec["initContainers"] = []
    spec["containers"] = [
        {"name": f"c{i}", "image": image, "imagePullPolicy": "IfNotPresent",
         "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File", "resources": {}}
        for i, image in enumerate(images)
    ]
    return body


def percentile(values, p):
    values = sorted(values)
    if not values:
        raise SystemExit("no values")
    rank = max(1, math.ceil(p / 100 * len(values)))
    return values[rank - 1]


def main(argv):
    command = argv[1]
    if command == "review":
        uid, out, images = argv[2], argv[3], argv[4:]
        with open(out, "w") as f:
            json.dump(review(uid, images), f)
    elif command == "reviews":
        prefix, images_file, outdir = argv[2], argv[3], argv[4]
        os.makedirs(outdir, exist_ok=True)
        with open(images_file) as f:
            images = [line.strip() for line in f if line.strip()]
        for n, image in enumerate(images):
            with open(os.path.join(outdir, f"{n}.json"), "w") as out:
                json.dump(review(f"{prefix}-{n}", [image]), out)
        print(len(images))
    elif command == "curl-config":
        url, directory, out, ca, write_out = argv[2], argv[3], argv[4], argv[5], argv[6]
        names = sorted((n for n in os.listdir(directory) if n.endswith(".json")), key=lambda n: int(n[:-5]))
        with open(out, "w") as f:
            for i, name in enumerate(names):
                if i:
                    f.write("next\n")
                f.write(f'url = "{url}"\n')
                f.write(f'data-binary = "@{os.path.join(directory, name)}"\n')
                f.write('header = "Content-Type: application/json"\n')
                f.write('output = "/dev/null"\n')
                f.write(f'cacert = "{ca}"\n')
                f.write('write-out = "' + write_out.replace("\\", "\\\\").replace('"', '\\"') + '\\n"\n')
    elif command == "decision-times":
        log, prefix, out = argv[2], argv[3], argv[4]
        times = []
        with open(log) as f:
            for line in f:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if event.get("msg") == "admission" and str(event.get("uid", "")).startswith(prefix):
                    times.append(event["elapsedMicros"] / 1000.0)
        with open(out, "w") as f:
            f.write("".join(f"{t}\n" for t in times))
        print(len(times))
    elif command == "percentiles":
        with open(argv[2]) as f:
            values = [float(line) for line in f if line.strip()]
        for p in argv[3:]:
            print(percentile(values, float(p)))
    elif command == "metric":
        url, ca, name = argv[2], argv[3], argv[4]
        context = ssl.create_default_context(cafile=ca)
        with urllib.request.urlopen(url, context=context) as response:
            for line in response.read().decode().splitlines():
                if line.startswith(name + " "):
                    print(line.split()[1])
                    return
        raise SystemExit(f"no sample {name} at {url}")
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
