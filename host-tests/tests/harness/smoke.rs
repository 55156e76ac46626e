//! One allow and one deny through the filter.

use crate::common::*;
use serde_json::json;
use tokenward_host_tests::Shared;

#[test]
fn allows_and_denies() {
    let shared = Shared::default();
    let now = shared.now();
    let mut vm = vm(
        &shared,
        &hs_policy(json!({ "claim_to_headers": { "sub": "x-user-id" } })),
    );
    let token = hs256(&claims("u1", now, 600), None);
    let (_, ok) = vm
        .get(
            "/",
            &[("authorization", &bearer(&token)), ("x-user-id", "spoof")],
        )
        .unwrap();
    assert_eq!(ok.status(), Some(200), "{ok:?}");
    assert_eq!(ok.header("x-user-id"), ["u1"]);
    assert!(ok.header("authorization").is_empty());
    let (_, no) = vm.get("/", &[]).unwrap();
    assert_eq!(no.status(), Some(401));
    assert_eq!(no.code().as_deref(), Some("token_missing"));
    assert_eq!(vm.metric("tokenward_allowed"), 1);
    assert_eq!(vm.metric("tokenward_denied"), 1);
    assert!(vm.trap().is_none());
}
