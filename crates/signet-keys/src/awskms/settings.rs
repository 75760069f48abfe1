//! Credentials, region and endpoint, from where the AWS SDKs look: the environment
//! (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, `AWS_REGION`,
//! `AWS_DEFAULT_REGION`, `AWS_PROFILE`, `AWS_ENDPOINT_URL_KMS`, `AWS_ENDPOINT_URL`), then the
//! profile in the shared credentials file (`~/.aws/credentials`, or
//! `AWS_SHARED_CREDENTIALS_FILE`) and the config file (`~/.aws/config`, or `AWS_CONFIG_FILE`).
//!
//! Not read (yet): SSO sessions, `credential_process`, web identity tokens, instance
//! metadata, role assumption. A profile that only has those is "no credentials".

use std::collections::BTreeMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::sigv4::Credentials;
use crate::error::Error;

/// The environment variables read, in the order listed in the module's documentation.
const VARIABLES: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL_KMS",
    "AWS_ENDPOINT_URL",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
];
/// Variables whose values are secret.
const SECRET_VARIABLES: &[&str] = &["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];
/// The largest AWS config or credentials file read.
const MAX_FILE_BYTES: u64 = 1 << 20;

/// The AWS settings a KMS key is used with: a snapshot of the environment, the files read
/// when a key is opened.
#[derive(Clone, Default)]
pub struct AwsSettings {
    variables: BTreeMap<&'static str, String>,
    home: Option<PathBuf>,
}

impl fmt::Debug for AwsSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut map = f.debug_map();
        for (name, value) in &self.variables {
            if SECRET_VARIABLES.contains(name) {
                map.entry(name, &"<redacted>");
            } else {
                map.entry(name, value);
            }
        }
        map.finish()
    }
}

impl AwsSettings {
    /// The AWS variables of this process's environment, and `$HOME` for `~/.aws`.
    pub fn from_env() -> Self {
        let mut settings = Self {
            variables: BTreeMap::new(),
            home: std::env::var_os("HOME").map(PathBuf::from),
        };
        for name in VARIABLES {
            if let Ok(value) = std::env::var(name)
                && !value.is_empty()
            {
                settings.variables.insert(name, value);
            }
        }
        settings
    }

    /// Sets one of the AWS variables (an embedder's own configuration, or a test). Names
    /// other than those [`AwsSettings::from_env`] reads are ignored.
    pub fn with_variable(mut self, name: &str, value: impl Into<String>) -> Self {
        if let Some(known) = VARIABLES.iter().find(|v| **v == name) {
            self.variables.insert(known, value.into());
        }
        self
    }

    /// Sets the home directory `~/.aws` is looked for in.
    pub fn with_home(mut self, home: impl Into<PathBuf>) -> Self {
        self.home = Some(home.into());
        self
    }

    fn var(&self, name: &str) -> Option<&str> {
        self.variables.get(name).map(String::as_str)
    }

    fn file(&self, variable: &str, default: &str) -> Option<PathBuf> {
        self.var(variable)
            .map(PathBuf::from)
            .or_else(|| self.home.as_ref().map(|h| h.join(".aws").join(default)))
    }

    /// Resolves credentials, region and endpoint (`None` when nothing names one: the
    /// caller uses the key's region's public endpoint).
    pub(crate) fn resolve(&self) -> Result<Resolved, Error> {
        let profile = self.var("AWS_PROFILE").unwrap_or("default").to_owned();
        let credentials_path = self.file("AWS_SHARED_CREDENTIALS_FILE", "credentials");
        let config_path = self.file("AWS_CONFIG_FILE", "config");
        let credentials_file = match &credentials_path {
            Some(path) => read_profile(path, &profile, false)?,
            None => BTreeMap::new(),
        };
        let config_file = match &config_path {
            Some(path) => read_profile(path, &profile, true)?,
            None => BTreeMap::new(),
        };
        let from_files = |key: &str| {
            credentials_file
                .get(key)
                .or_else(|| config_file.get(key))
                .cloned()
        };

        let credentials = match (
            self.var("AWS_ACCESS_KEY_ID"),
            self.var("AWS_SECRET_ACCESS_KEY"),
        ) {
            (Some(id), Some(secret)) => Some(Credentials::new(
                id,
                secret,
                self.var("AWS_SESSION_TOKEN").map(str::to_owned),
            )),
            _ => match (
                from_files("aws_access_key_id"),
                from_files("aws_secret_access_key"),
            ) {
                (Some(id), Some(secret)) => Some(Credentials::new(
                    id,
                    secret,
                    from_files("aws_session_token"),
                )),
                _ => None,
            },
        };
        let region = self
            .var("AWS_REGION")
            .or_else(|| self.var("AWS_DEFAULT_REGION"))
            .map(str::to_owned)
            .or_else(|| config_file.get("region").cloned());
        let endpoint = self
            .var("AWS_ENDPOINT_URL_KMS")
            .or_else(|| self.var("AWS_ENDPOINT_URL"))
            .map(str::to_owned)
            .or_else(|| config_file.get("endpoint_url").cloned());
        Ok(Resolved {
            credentials,
            credentials_file: credentials_path.unwrap_or_default(),
            region,
            endpoint,
        })
    }
}

/// What the settings resolved to.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) credentials: Option<Credentials>,
    /// Where credentials were looked for, for the error that says there are none.
    pub(crate) credentials_file: PathBuf,
    pub(crate) region: Option<String>,
    pub(crate) endpoint: Option<String>,
}

/// The `key = value` pairs of `profile` in an AWS shared file (absent file: none). In the
/// config file profiles are `[profile NAME]` (`[default]` for the default one), in the
/// credentials file `[NAME]`. Indented lines (sub-sections such as `s3 =`) are skipped.
fn read_profile(
    path: &Path,
    profile: &str,
    config: bool,
) -> Result<BTreeMap<String, String>, Error> {
    let failed = |reason: String| Error::AwsConfig {
        path: path.to_path_buf(),
        reason,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(failed(e.to_string())),
    };
    let mut text = String::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| failed(e.to_string()))?;
    if text.len() as u64 > MAX_FILE_BYTES {
        return Err(failed(format!("larger than {MAX_FILE_BYTES} bytes")));
    }
    Ok(parse_profile(&text, profile, config))
}

fn parse_profile(text: &str, profile: &str, config: bool) -> BTreeMap<String, String> {
    let wanted = |section: &str| {
        let section = section.trim();
        if config && profile != "default" {
            section
                .strip_prefix("profile")
                .is_some_and(|rest| rest.starts_with([' ', '\t']) && rest.trim() == profile)
        } else {
            section == profile || (config && section == format!("profile {profile}"))
        }
    };
    let mut values = BTreeMap::new();
    let mut inside = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
            continue;
        }
        if let Some(section) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            inside = wanted(section);
            continue;
        }
        if !inside || line.starts_with([' ', '\t']) {
            continue;
        }
        if let Some((key, value)) = trimmed.split_once('=') {
            let value = value.trim();
            if !value.is_empty() {
                values
                    .entry(key.trim().to_ascii_lowercase())
                    .or_insert_with(|| value.to_owned());
            }
        }
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "\
[default]
region = eu-west-1
[profile release]
region = us-east-2
s3 =
  region = ignored
endpoint_url = http://127.0.0.1:4566
# comment
[profile other]
region = ap-south-1
";

    #[test]
    fn config_profiles_are_read_as_the_sdks_do() {
        let default = parse_profile(CONFIG, "default", true);
        assert_eq!(default.get("region").map(String::as_str), Some("eu-west-1"));
        let release = parse_profile(CONFIG, "release", true);
        assert_eq!(release.get("region").map(String::as_str), Some("us-east-2"));
        assert_eq!(
            release.get("endpoint_url").map(String::as_str),
            Some("http://127.0.0.1:4566")
        );
        // In the credentials file the section is the bare name.
        let credentials = parse_profile("[release]\naws_access_key_id = AKID\n", "release", false);
        assert_eq!(
            credentials.get("aws_access_key_id").map(String::as_str),
            Some("AKID")
        );
    }

    #[test]
    fn environment_wins_over_files_and_secrets_do_not_print() -> Result<(), Error> {
        let dir = std::env::temp_dir().join(format!("signet-keys-aws-{}", std::process::id()));
        std::fs::create_dir_all(dir.join(".aws")).map_err(|e| Error::AwsConfig {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        let write = |name: &str, text: &str| std::fs::write(dir.join(".aws").join(name), text);
        write(
            "credentials",
            "[default]\naws_access_key_id = FILEID\naws_secret_access_key = filesecret\n",
        )
        .and_then(|()| write("config", "[default]\nregion = eu-central-1\n"))
        .map_err(|e| Error::AwsConfig {
            path: dir.clone(),
            reason: e.to_string(),
        })?;
        let from_files = AwsSettings::default().with_home(&dir).resolve()?;
        assert_eq!(
            from_files
                .credentials
                .as_ref()
                .map(Credentials::access_key_id),
            Some("FILEID")
        );
        assert_eq!(from_files.region.as_deref(), Some("eu-central-1"));

        let settings = AwsSettings::default()
            .with_home(&dir)
            .with_variable("AWS_ACCESS_KEY_ID", "ENVID")
            .with_variable("AWS_SECRET_ACCESS_KEY", "envsecret")
            .with_variable("AWS_REGION", "us-west-2");
        let resolved = settings.resolve()?;
        assert_eq!(
            resolved
                .credentials
                .as_ref()
                .map(Credentials::access_key_id),
            Some("ENVID")
        );
        assert_eq!(resolved.region.as_deref(), Some("us-west-2"));
        let shown = format!("{settings:?} {resolved:?}");
        assert!(
            !shown.contains("envsecret") && !shown.contains("filesecret"),
            "{shown}"
        );
        let _ = std::fs::remove_dir_all(&dir);
        Ok(())
    }
}
