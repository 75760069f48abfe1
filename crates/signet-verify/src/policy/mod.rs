//! Trust policies: signet's YAML policy and containers/image's `policy.json`, evaluated into
//! one [`report::PolicyReport`].

pub mod conditions;
pub mod containers;
pub mod evaluate;
pub mod glob;
pub mod lint;
pub mod model;
pub mod provenance;
pub mod report;
