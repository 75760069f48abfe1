//! Trust policies: signet's YAML policy and containers/image's `policy.json`, evaluated into
//! one [`report::PolicyReport`].

pub mod containers;
pub mod report;
