//! Policy image scopes: `ScopeGlob::parse` and `matches`. Input: the glob, a newline, a
//! repository name (at most 255 bytes, as references allow). A glob matches its own
//! `example()` (what `policy lint` relies on), and matching finishes quickly for any glob a
//! policy file can hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_policy::glob::ScopeGlob;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (glob, repository) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(parsed) = ScopeGlob::parse(glob) else {
        return;
    };
    assert_eq!(parsed.as_str(), glob);
    let example = parsed.example();
    assert!(
        parsed.matches(&example),
        "glob {glob:?} does not match its own example {example:?}"
    );
    if repository.len() <= 255 {
        let _ = parsed.matches(repository);
    }
});
