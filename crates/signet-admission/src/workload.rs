//! Where images are in Kubernetes objects: every kind that carries a pod spec, every list of
//! containers in it, and image volumes.
//!
//! A pod spec sits at `spec` in a Pod, at `spec.template.spec` in the workload kinds and in
//! a `PodTemplate` at `template.spec`, and at `spec.jobTemplate.spec.template.spec` in a
//! CronJob. Its images, in the fixed order they are checked: `initContainers[*].image`,
//! `containers[*].image`, `ephemeralContainers[*].image` (what `kubectl debug` adds through the
//! `pods/ephemeralcontainers` subresource) and `volumes[*].image.reference` (image volumes).
//! Nothing else in the object — labels, annotations — is read: no annotation can claim an
//! image "verified".

use std::fmt;

use serde_json::Value;

/// Most images taken from one object; an object with more is refused whole (an API server
/// limits a request to about 3 MiB, far above any real pod).
pub const MAX_IMAGES_PER_OBJECT: usize = 512;

/// One image in an object: where it is and what it says.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageSite {
    pointer: String,
    path: String,
    image: String,
}

impl ImageSite {
    /// A site at JSON pointer `pointer` (RFC 6901), shown as `path`.
    pub fn new(
        pointer: impl Into<String>,
        path: impl Into<String>,
        image: impl Into<String>,
    ) -> Self {
        Self {
            pointer: pointer.into(),
            path: path.into(),
            image: image.into(),
        }
    }

    /// The JSON pointer a patch replaces (`/spec/containers/0/image`).
    pub fn pointer(&self) -> &str {
        &self.pointer
    }

    /// The field path as `kubectl explain` writes it (`spec.containers[0].image`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The image reference as written in the object.
    pub fn image(&self) -> &str {
        &self.image
    }
}

impl fmt::Display for ImageSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:?}", self.path, self.image)
    }
}

/// A kind that carries a pod spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WorkloadKind {
    /// `v1` Pod.
    Pod,
    /// `v1` PodTemplate.
    PodTemplate,
    /// `v1` ReplicationController.
    ReplicationController,
    /// `apps/v1` Deployment.
    Deployment,
    /// `apps/v1` ReplicaSet.
    ReplicaSet,
    /// `apps/v1` StatefulSet.
    StatefulSet,
    /// `apps/v1` DaemonSet.
    DaemonSet,
    /// `batch/v1` Job.
    Job,
    /// `batch/v1` CronJob.
    CronJob,
}

impl WorkloadKind {
    /// The kind for an API group (`""` for the core group) and kind name; `None` for kinds
    /// that carry no pod spec. The older groups of the same kinds (`extensions`) are
    /// accepted: with `matchPolicy: Equivalent` the API server converts them anyway.
    pub fn from_group_kind(group: &str, kind: &str) -> Option<Self> {
        Some(match (group, kind) {
            ("", "Pod") => Self::Pod,
            ("", "PodTemplate") => Self::PodTemplate,
            ("", "ReplicationController") => Self::ReplicationController,
            ("apps" | "extensions", "Deployment") => Self::Deployment,
            ("apps" | "extensions", "ReplicaSet") => Self::ReplicaSet,
            ("apps", "StatefulSet") => Self::StatefulSet,
            ("apps" | "extensions", "DaemonSet") => Self::DaemonSet,
            ("batch", "Job") => Self::Job,
            ("batch", "CronJob") => Self::CronJob,
            _ => return None,
        })
    }

    /// The kind of a manifest from its `apiVersion` (`apps/v1`, `v1`) and `kind`.
    pub fn from_api_version(api_version: &str, kind: &str) -> Option<Self> {
        let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
        Self::from_group_kind(group, kind)
    }

    /// The kind's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Pod => "Pod",
            Self::PodTemplate => "PodTemplate",
            Self::ReplicationController => "ReplicationController",
            Self::Deployment => "Deployment",
            Self::ReplicaSet => "ReplicaSet",
            Self::StatefulSet => "StatefulSet",
            Self::DaemonSet => "DaemonSet",
            Self::Job => "Job",
            Self::CronJob => "CronJob",
        }
    }

    /// Where the pod spec is.
    fn pod_spec(self) -> &'static [&'static str] {
        match self {
            Self::Pod => &["spec"],
            Self::PodTemplate => &["template", "spec"],
            Self::CronJob => &["spec", "jobTemplate", "spec", "template", "spec"],
            Self::ReplicationController
            | Self::Deployment
            | Self::ReplicaSet
            | Self::StatefulSet
            | Self::DaemonSet
            | Self::Job => &["spec", "template", "spec"],
        }
    }
}

/// Why images could not be taken from an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WorkloadError {
    /// More images than [`MAX_IMAGES_PER_OBJECT`].
    #[error("the object names more than {MAX_IMAGES_PER_OBJECT} images")]
    TooManyImages,
    /// A manifest without `apiVersion` or `kind`.
    #[error("the object has no {0}")]
    MissingTypeField(&'static str),
}

/// The images of `object`, a `kind` object, in the order they are checked. An object without
/// a pod spec where its kind has one (a template being deleted, a manifest with only
/// metadata) has no images.
pub fn images(kind: WorkloadKind, object: &Value) -> Result<Vec<ImageSite>, WorkloadError> {
    let mut spec = object;
    let mut pointer = String::new();
    let mut path = String::new();
    for key in kind.pod_spec() {
        match spec.get(key) {
            Some(inner) => spec = inner,
            None => return Ok(Vec::new()),
        }
        pointer.push('/');
        pointer.push_str(key);
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    }
    let mut sites = Vec::new();
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for (i, container) in items(spec, list) {
            if let Some(image) = container.get("image").and_then(Value::as_str) {
                sites.push(ImageSite::new(
                    format!("{pointer}/{list}/{i}/image"),
                    format!("{path}.{list}[{i}].image"),
                    image,
                ));
            }
        }
    }
    for (i, volume) in items(spec, "volumes") {
        if let Some(image) = volume
            .get("image")
            .and_then(|v| v.get("reference"))
            .and_then(Value::as_str)
        {
            sites.push(ImageSite::new(
                format!("{pointer}/volumes/{i}/image/reference"),
                format!("{path}.volumes[{i}].image.reference"),
                image,
            ));
        }
    }
    if sites.len() > MAX_IMAGES_PER_OBJECT {
        return Err(WorkloadError::TooManyImages);
    }
    Ok(sites)
}

/// The images of a manifest that names its own `apiVersion` and `kind`; none for a kind that
/// carries no pod spec.
pub fn images_of_manifest(object: &Value) -> Result<Vec<ImageSite>, WorkloadError> {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .ok_or(WorkloadError::MissingTypeField("apiVersion"))?;
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .ok_or(WorkloadError::MissingTypeField("kind"))?;
    match WorkloadKind::from_api_version(api_version, kind) {
        Some(kind) => images(kind, object),
        None => Ok(Vec::new()),
    }
}

fn items<'a>(spec: &'a Value, list: &str) -> impl Iterator<Item = (usize, &'a Value)> {
    spec.get(list)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod_spec() -> Value {
        json!({
            "initContainers": [{ "name": "init", "image": "r.example/init:1" }],
            "containers": [
                { "name": "a", "image": "r.example/a:1" },
                { "name": "b", "image": "r.example/b@sha256:0000000000000000000000000000000000000000000000000000000000000000" }
            ],
            "ephemeralContainers": [{ "name": "debugger", "image": "busybox" }],
            "volumes": [
                { "name": "data", "emptyDir": {} },
                { "name": "models", "image": { "reference": "r.example/models:v2", "pullPolicy": "IfNotPresent" } }
            ]
        })
    }

    #[test]
    fn every_list_in_a_fixed_order() {
        let pod = json!({ "apiVersion": "v1", "kind": "Pod", "spec": pod_spec() });
        let sites = images(WorkloadKind::Pod, &pod).unwrap_or_else(|e| panic!("{e}"));
        let paths: Vec<&str> = sites.iter().map(ImageSite::path).collect();
        assert_eq!(
            paths,
            [
                "spec.initContainers[0].image",
                "spec.containers[0].image",
                "spec.containers[1].image",
                "spec.ephemeralContainers[0].image",
                "spec.volumes[1].image.reference",
            ]
        );
        assert_eq!(sites[4].pointer(), "/spec/volumes/1/image/reference");
        assert_eq!(sites[3].image(), "busybox");
    }

    #[test]
    fn every_kind_that_carries_a_pod_spec() {
        let template = json!({ "spec": pod_spec() });
        let cases = [
            (
                "v1",
                "ReplicationController",
                json!({ "spec": { "template": template } }),
                "/spec/template/spec",
            ),
            (
                "v1",
                "PodTemplate",
                json!({ "template": template }),
                "/template/spec",
            ),
            (
                "apps/v1",
                "Deployment",
                json!({ "spec": { "template": template } }),
                "/spec/template/spec",
            ),
            (
                "apps/v1",
                "ReplicaSet",
                json!({ "spec": { "template": template } }),
                "/spec/template/spec",
            ),
            (
                "apps/v1",
                "StatefulSet",
                json!({ "spec": { "template": template } }),
                "/spec/template/spec",
            ),
            (
                "apps/v1",
                "DaemonSet",
                json!({ "spec": { "template": template } }),
                "/spec/template/spec",
            ),
            (
                "batch/v1",
                "Job",
                json!({ "spec": { "template": template } }),
                "/spec/template/spec",
            ),
            (
                "batch/v1",
                "CronJob",
                json!({ "spec": { "jobTemplate": { "spec": { "template": template } } } }),
                "/spec/jobTemplate/spec/template/spec",
            ),
        ];
        for (api_version, kind, mut object, prefix) in cases {
            object["apiVersion"] = json!(api_version);
            object["kind"] = json!(kind);
            let sites = images_of_manifest(&object).unwrap_or_else(|e| panic!("{kind}: {e}"));
            assert_eq!(sites.len(), 5, "{kind}");
            assert_eq!(
                sites[1].pointer(),
                format!("{prefix}/containers/0/image"),
                "{kind}"
            );
        }
    }

    #[test]
    fn kinds_without_pod_specs_have_no_images() {
        let service = json!({ "apiVersion": "v1", "kind": "Service", "spec": { "containers": [{ "image": "x" }] } });
        assert_eq!(images_of_manifest(&service), Ok(Vec::new()));
        assert_eq!(
            images_of_manifest(&json!({ "kind": "Pod" })),
            Err(WorkloadError::MissingTypeField("apiVersion"))
        );
    }

    #[test]
    fn annotations_and_labels_are_not_read() {
        // An object claiming to be verified in every place a tool might look still has its
        // image checked: only the pod spec's image fields are read.
        let pod = json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {
                "annotations": { "signet.dev/verified": "true", "cosign.sigstore.dev/signature": "x" },
                "labels": { "policy.sigstore.dev/include": "false" }
            },
            "spec": { "containers": [{ "name": "a", "image": "r.example/a:1" }] }
        });
        let sites = images_of_manifest(&pod).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(sites.len(), 1);
    }

    #[test]
    fn too_many_images_is_refused() {
        let containers: Vec<Value> = (0..=MAX_IMAGES_PER_OBJECT)
            .map(|i| json!({ "name": format!("c{i}"), "image": "r.example/a:1" }))
            .collect();
        let pod =
            json!({ "apiVersion": "v1", "kind": "Pod", "spec": { "containers": containers } });
        assert_eq!(images_of_manifest(&pod), Err(WorkloadError::TooManyImages));
    }
}
