#!/usr/bin/env python3
"""Writes the AdmissionReview requests of this folder (except pod-create.json, written by hand,
and kubewarden-pod-creation.json, copied; see README.md).

Each request has the shape kube-apiserver sends to an admission webhook (admission.k8s.io/v1
AdmissionReview; the AdmissionRequest fields of the API reference): uid, kind and resource
(after conversion, matchPolicy: Equivalent), requestKind/requestResource/requestSubResource,
name, namespace, operation, userInfo, object and oldObject as stored (with the API server's
defaults applied: imagePullPolicy, terminationMessagePath, dnsPolicy, the projected service
account token volume, ...), dryRun, and options (CreateOptions/UpdateOptions/DeleteOptions).
Images are placeholders ({{APP}}, {{SIDECAR}}, {{INIT}}, {{DEBUG}}, {{VOLUME}}) the tests
replace with images on their registry.

    python3 tests/data/admission/generate.py    # rewrites the files; the output is stable
"""
import copy
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

ADMIN = {
    "username": "kubernetes-admin",
    "groups": ["kubeadm:cluster-admins", "system:authenticated"],
}


def controller(name):
    return {
        "username": f"system:serviceaccount:kube-system:{name}",
        "uid": "5d6f1c2e-9a34-4b7e-8c01-2f3e4a5b6c7d",
        "groups": ["system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"],
    }


def container(name, image):
    return {
        "name": name,
        "image": image,
        "resources": {},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }


def template_spec(containers, init=None, restart="Always"):
    spec = {}
    if init:
        spec["initContainers"] = init
    spec.update({
        "containers": containers,
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "securityContext": {},
        "schedulerName": "default-scheduler",
    })
    return spec


def pod_template(labels, containers, init=None, restart="Always"):
    return {
        "metadata": {"creationTimestamp": None, "labels": labels},
        "spec": template_spec(containers, init, restart),
    }


def token_volume(suffix):
    name = f"kube-api-access-{suffix}"
    volume = {
        "name": name,
        "projected": {
            "sources": [
                {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}},
            ],
            "defaultMode": 420,
        },
    }
    mount = {"name": name, "readOnly": True, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
    return volume, mount


def pod_spec(containers, volumes, init=None):
    spec = template_spec(containers, init)
    spec.update({
        "serviceAccountName": "default",
        "serviceAccount": "default",
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
        ],
        "priority": 0,
        "enableServiceLinks": True,
        "preemptionPolicy": "PreemptLowerPriority",
    })
    spec = {"volumes": volumes, **spec}
    return spec


def review(uid, group, version, kind, resource, operation, name, namespace, user, obj, old, options,
           sub_resource=None, dry_run=False):
    gvk = {"group": group, "version": version, "kind": kind}
    gvr = {"group": group, "version": version, "resource": resource}
    request = {
        "uid": uid,
        "kind": gvk,
        "resource": gvr,
    }
    if sub_resource:
        request["subResource"] = sub_resource
    request["requestKind"] = gvk
    request["requestResource"] = gvr
    if sub_resource:
        request["requestSubResource"] = sub_resource
    if name is not None:
        request["name"] = name
    request.update({
        "namespace": namespace,
        "operation": operation,
        "userInfo": user,
        "object": obj,
        "oldObject": old,
        "dryRun": dry_run,
        "options": options,
    })
    return {"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": request}


def create_options(manager, dry_run=False):
    options = {"kind": "CreateOptions", "apiVersion": "meta.k8s.io/v1"}
    if dry_run:
        options["dryRun"] = ["All"]
    options["fieldManager"] = manager
    return options


def update_options(manager):
    return {"kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1", "fieldManager": manager}


def meta(name, namespace, uid, labels, extra=None):
    m = {
        "name": name,
        "namespace": namespace,
        "uid": uid,
        "resourceVersion": "48213",
        "generation": 1,
        "creationTimestamp": "2026-11-30T09:14:02Z",
        "labels": labels,
    }
    if extra:
        m.update(extra)
    return m


def write(name, value):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


LABELS = {"app": "web"}
CONTAINERS = [container("app", "{{APP}}"), container("sidecar", "{{SIDECAR}}")]
INIT = [container("migrate", "{{INIT}}")]
TEMPLATE = pod_template(LABELS, CONTAINERS, INIT)

# --- the workload kinds, created with kubectl apply --------------------------------------
workloads = {
    "deployment": ("apps", "Deployment", "deployments", {
        "replicas": 3,
        "selector": {"matchLabels": LABELS},
        "template": TEMPLATE,
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
        "revisionHistoryLimit": 10,
        "progressDeadlineSeconds": 600,
    }),
    "replicaset": ("apps", "ReplicaSet", "replicasets", {
        "replicas": 3,
        "selector": {"matchLabels": LABELS},
        "template": TEMPLATE,
    }),
    "statefulset": ("apps", "StatefulSet", "statefulsets", {
        "replicas": 3,
        "selector": {"matchLabels": LABELS},
        "template": TEMPLATE,
        "serviceName": "web",
        "podManagementPolicy": "OrderedReady",
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
        "revisionHistoryLimit": 10,
        "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
    }),
    "daemonset": ("apps", "DaemonSet", "daemonsets", {
        "selector": {"matchLabels": LABELS},
        "template": TEMPLATE,
        "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
        "revisionHistoryLimit": 10,
    }),
    "job": ("batch", "Job", "jobs", {
        "parallelism": 1,
        "completions": 1,
        "backoffLimit": 6,
        "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": "2b9f3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"}},
        "manualSelector": False,
        "template": {
            "metadata": {"creationTimestamp": None, "labels": {
                "batch.kubernetes.io/controller-uid": "2b9f3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d",
                "batch.kubernetes.io/job-name": "web", "controller-uid": "2b9f3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d", "job-name": "web"}},
            "spec": template_spec(CONTAINERS, INIT, "Never"),
        },
        "completionMode": "NonIndexed",
        "suspend": False,
        "podReplacementPolicy": "TerminatingOrFailed",
    }),
    "cronjob": ("batch", "CronJob", "cronjobs", {
        "schedule": "*/5 * * * *",
        "concurrencyPolicy": "Forbid",
        "suspend": False,
        "jobTemplate": {"metadata": {"creationTimestamp": None}, "spec": {
            "template": pod_template(LABELS, CONTAINERS, INIT, "OnFailure"),
        }},
        "successfulJobsHistoryLimit": 3,
        "failedJobsHistoryLimit": 1,
    }),
    "replicationcontroller": ("", "ReplicationController", "replicationcontrollers", {
        "replicas": 3,
        "selector": LABELS,
        "template": TEMPLATE,
    }),
}
for i, (file, (group, kind, resource, spec)) in enumerate(workloads.items()):
    api_version = f"{group}/v1" if group else "v1"
    obj = {"kind": kind, "apiVersion": api_version,
           "metadata": meta("web", "shop", f"1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e{i:02d}", LABELS),
           "spec": spec, "status": {}}
    write(f"{file}-create.json", review(
        f"3e1f2a4b-6c7d-4e8f-9a0b-1c2d3e4f5a{i:02d}", group, "v1", kind, resource, "CREATE", "web", "shop",
        ADMIN, obj, None, create_options("kubectl-client-side-apply")))

# --- a Deployment's image changed (kubectl set image), and a change to labels only --------
deployment = json.load(open(os.path.join(HERE, "deployment-create.json")))["request"]["object"]
old = copy.deepcopy(deployment)
old["metadata"]["generation"] = 1
new = copy.deepcopy(deployment)
new["metadata"]["generation"] = 2
new["metadata"]["resourceVersion"] = "48377"
new["spec"]["template"]["spec"]["containers"][0]["image"] = "{{APP_NEW}}"
write("deployment-update-image.json", review(
    "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", "apps", "v1", "Deployment", "deployments", "UPDATE", "web", "shop",
    ADMIN, new, old, update_options("kubectl-set")))
relabelled = copy.deepcopy(deployment)
relabelled["metadata"]["labels"] = {"app": "web", "tier": "frontend"}
relabelled["metadata"]["resourceVersion"] = "48391"
write("deployment-update-labels.json", review(
    "8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e", "apps", "v1", "Deployment", "deployments", "UPDATE", "web", "shop",
    ADMIN, relabelled, old, update_options("kubectl-label")))

# --- a Pod created by the ReplicaSet controller ---------------------------------------------
volume, mount = token_volume("9qz4m")
containers = [dict(c, volumeMounts=[mount]) for c in copy.deepcopy(CONTAINERS)]
init = [dict(c, volumeMounts=[mount]) for c in copy.deepcopy(INIT)]
pod = {
    "kind": "Pod", "apiVersion": "v1",
    "metadata": {
        "generateName": "web-6d9f7c5b84-",
        "namespace": "shop",
        "uid": "0e1f2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b",
        "creationTimestamp": "2026-11-30T09:14:03Z",
        "labels": {"app": "web", "pod-template-hash": "6d9f7c5b84"},
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-6d9f7c5b84",
                             "uid": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e01", "controller": True, "blockOwnerDeletion": True}],
    },
    "spec": pod_spec(containers, [volume], init),
    "status": {"phase": "Pending", "qosClass": "BestEffort"},
}
write("pod-create-by-replicaset.json", review(
    "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "", "v1", "Pod", "pods", "CREATE", None, "shop",
    controller("replicaset-controller"), pod, None, create_options("kube-controller-manager")))

# --- kubectl debug: an ephemeral container added through pods/ephemeralcontainers ----------
running = copy.deepcopy(pod)
running["metadata"]["name"] = "web-6d9f7c5b84-x7k2q"
del running["metadata"]["generateName"]
running["metadata"]["resourceVersion"] = "48502"
running["spec"]["nodeName"] = "worker-1"
running["status"] = {"phase": "Running", "hostIP": "10.0.0.11", "podIP": "10.244.1.17", "qosClass": "BestEffort",
                     "startTime": "2026-11-30T09:14:03Z"}
debugged = copy.deepcopy(running)
debugged["spec"]["ephemeralContainers"] = [{
    "name": "debugger-4tqzw",
    "image": "{{DEBUG}}",
    "resources": {},
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
    "imagePullPolicy": "Always",
    "stdin": True,
    "tty": True,
    "targetContainerName": "app",
}]
write("pod-ephemeralcontainers-update.json", review(
    "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e", "", "v1", "Pod", "pods", "UPDATE", "web-6d9f7c5b84-x7k2q", "shop",
    ADMIN, debugged, running, update_options("kubectl-debug"), sub_resource="ephemeralcontainers"))

# --- an image volume (KEP-4639: volumes[].image) ---------------------------------------------
with_volume = copy.deepcopy(pod)
with_volume["metadata"]["generateName"] = "model-server-"
with_volume["spec"]["volumes"].append({"name": "model", "image": {"reference": "{{VOLUME}}", "pullPolicy": "IfNotPresent"}})
for c in with_volume["spec"]["containers"]:
    c["volumeMounts"].append({"name": "model", "readOnly": True, "mountPath": "/models"})
write("pod-image-volume-create.json", review(
    "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f", "", "v1", "Pod", "pods", "CREATE", None, "shop",
    controller("replicaset-controller"), with_volume, None, create_options("kube-controller-manager")))

# --- kubectl delete pod, kubectl exec, and a server-side dry run ------------------------------
write("pod-delete.json", review(
    "d4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f7a", "", "v1", "Pod", "pods", "DELETE", "web-6d9f7c5b84-x7k2q", "shop",
    ADMIN, None, running, {"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1", "propagationPolicy": "Background"}))
write("pod-exec-connect.json", review(
    "e5f6a7b8-c9d0-4e1f-8a2b-3c4d5e6f7a8b", "", "v1", "PodExecOptions", "pods", "CONNECT", "web-6d9f7c5b84-x7k2q",
    "shop", ADMIN,
    {"kind": "PodExecOptions", "apiVersion": "v1", "stdin": True, "stdout": True, "tty": True,
     "container": "app", "command": ["sh"]},
    None, None, sub_resource="exec"))
dry = json.load(open(os.path.join(HERE, "pod-create.json")))
dry["request"]["uid"] = "f6a7b8c9-d0e1-4f2a-9b3c-4d5e6f7a8b9c"
dry["request"]["dryRun"] = True
dry["request"]["options"] = create_options("kubectl-client-side-apply", dry_run=True)
write("pod-create-dry-run.json", dry)
