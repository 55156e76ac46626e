//! The filter module under random configurations, requests, tokens, clock moves, callout replies
//! and host-call faults (see `src/lib.rs`): it must never trap.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: tokenward_host_fuzz::Input| tokenward_host_fuzz::run(input));
