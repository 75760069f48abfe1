//! Credentials from the Docker config, against a registry that requires them.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::common::{Scratch, sha256, stderr};
use crate::util::{Registry, make_sample_image};

/// `signet:registry-secret`, bcrypt (made with Python's `crypt.crypt(…, METHOD_BLOWFISH)`).
pub(crate) const HTPASSWD: &str =
    "signet:$2b$12$i/03WFrP6t6waGryiody7OlRp0RcVfL.LLqAYzG9jQ02txEyQuDFS";

#[test]
fn credentials_come_from_the_docker_config_and_never_appear_in_errors() {
    let open = Registry::start();
    let digest = make_sample_image(&open.host(), "private/app", "v1", sha256);
    let guarded = Registry::start_with_basic_auth(&open, HTPASSWD);
    let image = format!("{}/private/app@{digest}", guarded.host());
    let s = Scratch::new();
    let (key, public) = s.key_pair("k");

    // No credentials: refused, and the message says what to do.
    let out = s
        .signet()
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(&image)
        .assert_exit(1);
    assert!(stderr(&out).contains("refused access"), "{}", stderr(&out));

    let docker = s.path("docker");
    std::fs::create_dir_all(&docker).unwrap_or_else(|e| panic!("{e}"));
    let write_config = |user_pass: &str| {
        let config = json!({"auths": {guarded.host(): {"auth": STANDARD.encode(user_pass)}}});
        std::fs::write(docker.join("config.json"), config.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
    };

    // Wrong password: refused, and the password is not echoed.
    write_config("signet:not-the-secret");
    let out = s
        .signet()
        .env("DOCKER_CONFIG", &docker)
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg(&image)
        .assert_exit(2);
    assert!(stderr(&out).contains("refused access"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("not-the-secret"), "{}", stderr(&out));

    write_config("signet:registry-secret");
    s.signet()
        .env("DOCKER_CONFIG", &docker)
        .args(["sign", "--tlog-upload=false", "--key"])
        .arg(&key)
        .arg(&image)
        .assert_success();
    let out = s
        .signet()
        .env("DOCKER_CONFIG", &docker)
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg(&image)
        .assert_success();
    assert!(!stderr(&out).contains("registry-secret"));
    // The signature landed in the shared storage: the open registry serves it too.
    s.signet()
        .args(["verify", "--insecure-ignore-tlog=true", "--key"])
        .arg(&public)
        .arg(format!("{}/private/app@{digest}", open.host()))
        .assert_success();
}
