//! AdmissionReview requests as an API server (or anyone reaching the webhook port) sends them:
//! `review::parse_review`, then the images of the object and of the old object for every
//! workload kind. Properties: every image site names a pointer that resolves, in the object,
//! to exactly the image text it reports; the number of sites stays within the limit.
#![no_main]

use libfuzzer_sys::fuzz_target;
use signet_admission::review::parse_review;
use signet_admission::workload::{self, MAX_IMAGES_PER_OBJECT, WorkloadKind};

fuzz_target!(|data: &[u8]| {
    let Ok(request) = parse_review(data) else {
        return;
    };
    assert!(!request.uid.is_empty());
    let kind = WorkloadKind::from_group_kind(&request.kind.group, &request.kind.kind);
    for object in [request.object.as_ref(), request.old_object.as_ref()].into_iter().flatten() {
        let Some(kind) = kind else { continue };
        let Ok(sites) = workload::images(kind, object) else {
            continue;
        };
        assert!(sites.len() <= MAX_IMAGES_PER_OBJECT);
        for site in &sites {
            assert_eq!(
                object.pointer(site.pointer()).and_then(|v| v.as_str()),
                Some(site.image()),
                "{}",
                site.pointer()
            );
        }
    }
});
