//! Kubernetes manifests from files: what `kubectl apply -f`, `helm template` and
//! `kustomize build` produce — YAML (or JSON) documents separated by `---`, and `List` kinds
//! (`kind: List`, `PodList`, `DeploymentList`, …) whose `items` are objects — turned into the
//! image sites of every object that carries a pod spec.

use serde_json::Value;

use crate::workload::{self, ImageSite, WorkloadError};

/// The largest manifest input read (a `helm template` of a big chart is a few MiB).
pub const MAX_MANIFEST_BYTES: u64 = 32 << 20;

/// How deeply `List`s may nest in one another.
const MAX_LIST_DEPTH: usize = 4;

/// Why manifests could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// The text is not YAML (or JSON); the message has the line and column.
    #[error("{source_name}: not YAML or JSON")]
    Syntax {
        /// Where the text came from.
        source_name: String,
        /// The parser's error, with its location.
        #[source]
        source: Box<serde_saphyr::Error>,
    },
    /// A document is not an object.
    #[error("{source_name}: document {document}: expected a Kubernetes object, found {found}")]
    NotAnObject {
        /// Where the text came from.
        source_name: String,
        /// Which document (1-based), and which list item.
        document: String,
        /// What was there.
        found: &'static str,
    },
    /// An object's images could not be taken.
    #[error("{source_name}: document {document}")]
    Workload {
        /// Where the text came from.
        source_name: String,
        /// Which document.
        document: String,
        /// Why.
        #[source]
        source: WorkloadError,
    },
    /// `List`s nested deeper than signet follows.
    #[error("{source_name}: document {document}: lists nested more than {MAX_LIST_DEPTH} deep")]
    TooDeep {
        /// Where the text came from.
        source_name: String,
        /// Which document.
        document: String,
    },
}

/// One object that carries images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    source: String,
    document: String,
    kind: String,
    name: Option<String>,
    namespace: Option<String>,
    sites: Vec<ImageSite>,
}

impl Manifest {
    /// Where it came from (a file name, or `-` for standard input).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Which document (1-based, empty documents not counted), with the list item
    /// (`3 items[1]`) for list members.
    pub fn document(&self) -> &str {
        &self.document
    }

    /// Its kind.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// `metadata.name`.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `metadata.namespace`.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Its images, in the order they are checked.
    pub fn sites(&self) -> &[ImageSite] {
        &self.sites
    }
}

/// The objects with images in `text` (from `source_name`), in document order. Documents that
/// are empty (comments only, a trailing `---`) are skipped; objects without images are left
/// out.
pub fn read_manifests(source_name: &str, text: &str) -> Result<Vec<Manifest>, ManifestError> {
    let documents: Vec<Value> =
        serde_saphyr::from_multiple(text).map_err(|source| ManifestError::Syntax {
            source_name: source_name.to_owned(),
            source: Box::new(source),
        })?;
    let mut manifests = Vec::new();
    for (i, document) in documents.iter().enumerate() {
        collect(
            source_name,
            &(i + 1).to_string(),
            document,
            0,
            &mut manifests,
        )?;
    }
    Ok(manifests)
}

fn collect(
    source_name: &str,
    document: &str,
    value: &Value,
    depth: usize,
    out: &mut Vec<Manifest>,
) -> Result<(), ManifestError> {
    let object = match value {
        Value::Null => return Ok(()),
        Value::Object(object) => object,
        other => {
            return Err(ManifestError::NotAnObject {
                source_name: source_name.to_owned(),
                document: document.to_owned(),
                found: match other {
                    Value::Array(_) => "a sequence",
                    Value::String(_) => "a string",
                    _ => "a scalar",
                },
            });
        }
    };
    let kind = object.get("kind").and_then(Value::as_str).unwrap_or("");
    if let (true, Some(items)) = (
        kind.ends_with("List"),
        object.get("items").and_then(Value::as_array),
    ) {
        if depth >= MAX_LIST_DEPTH {
            return Err(ManifestError::TooDeep {
                source_name: source_name.to_owned(),
                document: document.to_owned(),
            });
        }
        for (i, item) in items.iter().enumerate() {
            collect(
                source_name,
                &format!("{document} items[{i}]"),
                item,
                depth + 1,
                out,
            )?;
        }
        return Ok(());
    }
    let sites = workload::images_of_manifest(value).map_err(|source| ManifestError::Workload {
        source_name: source_name.to_owned(),
        document: document.to_owned(),
        source,
    })?;
    if sites.is_empty() {
        return Ok(());
    }
    let metadata = value.get("metadata");
    let text = |field: &str| {
        metadata
            .and_then(|m| m.get(field))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    out.push(Manifest {
        source: source_name.to_owned(),
        document: document.to_owned(),
        kind: kind.to_owned(),
        name: text("name"),
        namespace: text("namespace"),
        sites,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_document_yaml_with_lists_and_empty_documents() {
        let text = r#"# Source: chart/templates/service.yaml
apiVersion: v1
kind: Service
metadata: { name: web }
spec: { ports: [{ port: 80 }] }
---
# Source: chart/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: r.example/migrate:1
      containers:
        - name: web
          image: r.example/web:2
---
---
apiVersion: v1
kind: List
items:
  - apiVersion: batch/v1
    kind: CronJob
    metadata: { name: nightly }
    spec:
      jobTemplate:
        spec:
          template:
            spec:
              containers: [{ name: job, image: "r.example/job@sha256:1111111111111111111111111111111111111111111111111111111111111111" }]
"#;
        let manifests = read_manifests("chart.yaml", text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(manifests.len(), 2);
        assert_eq!(manifests[0].kind(), "Deployment");
        assert_eq!(manifests[0].namespace(), Some("shop"));
        assert_eq!(manifests[0].document(), "2");
        assert_eq!(
            manifests[0].sites()[0].path(),
            "spec.template.spec.initContainers[0].image"
        );
        assert_eq!(manifests[1].kind(), "CronJob");
        // Empty documents are not counted.
        assert_eq!(manifests[1].document(), "3 items[0]");
        assert_eq!(
            manifests[1].sites()[0].path(),
            "spec.jobTemplate.spec.template.spec.containers[0].image"
        );
    }

    #[test]
    fn json_input_reads_too() {
        let text = r#"{"apiVersion":"v1","kind":"PodList","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"a","image":"nginx"}]}}]}"#;
        let manifests = read_manifests("-", text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(manifests.len(), 1);
        assert_eq!(manifests[0].sites()[0].image(), "nginx");
    }

    #[test]
    fn malformed_input_says_where() {
        let error = read_manifests("bad.yaml", "apiVersion: v1\nkind: Pod\nspec: [unclosed\n")
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(
            error.as_ref().is_err_and(|e| e.starts_with("bad.yaml")),
            "{error:?}"
        );
        let scalar = read_manifests("s.yaml", "just text\n")
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert_eq!(
            scalar,
            Err("s.yaml: document 1: expected a Kubernetes object, found a string".to_owned())
        );
    }
}
