//! `Policy::parse` on arbitrary UTF-8, in production and in dev: `Ok` or `Err`, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tokenward_core::{Env, Policy};

fuzz_target!(|doc: &str| {
    let _ = Policy::parse(doc, &Env::new());
    let dev = Env::from([("TOKENWARD_ENV".into(), "dev".into()), ("JWT_SECRET".into(), "changeme".into())]);
    let _ = Policy::parse(doc, &dev);
});
