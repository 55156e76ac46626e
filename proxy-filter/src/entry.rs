//! The module's exports: the proxy-wasm 0.2.1 callbacks the host calls, routed to the root and
//! HTTP contexts in [`crate::filter`].
//!
//! This replaces the SDK's dispatcher, which panics (and so kills the worker's VM) when a host
//! call fails at the wrong moment: it unwraps `proxy_set_effective_context` before every callout
//! response, its `dispatch_http_call` panics on a status it does not expect (a host without
//! callouts answers `Unimplemented`), and it panics on a context or callout id it does not know.
//! The SDK's exports are `#[no_mangle]`, so they cannot be replaced one at a time: the filter
//! exports the whole (small) set itself.
//!
//! Every export here is total: an unknown context is ignored (or, for a request, fails closed),
//! a re-entrant call finds its context busy and fails closed instead of panicking, and no export
//! unwraps a host status. The host sets the effective context before each callback, so none is
//! set here except when a root context decides the requests it parked.

#![allow(unsafe_code)]

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use crate::filter::{Http, Root};

/// What a request-headers callback tells the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Action {
    /// Go on to the next filter.
    Continue = 0,
    /// Stop here: a local reply was sent, or the request waits for keys.
    Pause = 1,
}

/// The live contexts of this VM.
#[derive(Default)]
struct Contexts {
    roots: HashMap<u32, Rc<RefCell<Root>>>,
    requests: HashMap<u32, Rc<Http>>,
}

thread_local! {
    static CONTEXTS: RefCell<Contexts> = RefCell::new(Contexts::default());
}

fn root(id: u32) -> Option<Rc<RefCell<Root>>> {
    CONTEXTS.with(|c| c.try_borrow().ok()?.roots.get(&id).cloned())
}

fn request(id: u32) -> Option<Rc<Http>> {
    CONTEXTS.with(|c| c.try_borrow().ok()?.requests.get(&id).cloned())
}

/// `proxy_on_context_create`: a root context (`root_id == 0`) or a request of root `root_id`.
pub fn on_context_create(id: u32, root_id: u32) {
    if root_id == 0 {
        let fresh = Rc::new(RefCell::new(Root::default()));
        CONTEXTS.with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                c.roots.insert(id, fresh);
            }
        });
        return;
    }
    // A request of an unknown (or busy) root gets no configuration: it fails closed.
    let configured = root(root_id).and_then(|r| r.try_borrow().ok()?.configured());
    let http = Rc::new(Http::new(configured, id));
    CONTEXTS.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            c.requests.insert(id, http);
        }
    });
}

/// `proxy_on_vm_start`.
pub fn on_vm_start(id: u32, size: usize) -> bool {
    root(id).is_some_and(|r| r.try_borrow_mut().is_ok_and(|mut r| r.on_vm_start(size)))
}

/// `proxy_on_configure`: `false` rejects the configuration.
pub fn on_configure(id: u32, size: usize) -> bool {
    root(id).is_some_and(|r| r.try_borrow_mut().is_ok_and(|mut r| r.on_configure(size)))
}

/// `proxy_on_tick`.
pub fn on_tick(id: u32) {
    if let Some(r) = root(id)
        && let Ok(mut r) = r.try_borrow_mut()
    {
        r.on_tick(id);
    }
}

/// `proxy_on_http_call_response`: only root contexts make callouts.
pub fn on_http_call_response(id: u32, token: u32, headers: usize, body: usize) {
    if let Some(r) = root(id)
        && let Ok(mut r) = r.try_borrow_mut()
    {
        r.on_http_call_response(id, token, headers, body);
    }
}

/// `proxy_on_request_headers`.
pub fn on_request_headers(id: u32) -> Action {
    match request(id) {
        Some(http) => http.on_request_headers(),
        None => crate::filter::fail_closed("the request has no context"),
    }
}

/// `proxy_on_delete`: forgets the context.
pub fn on_delete(id: u32) {
    CONTEXTS.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            c.requests.remove(&id);
            c.roots.remove(&id);
        }
    });
}

/// Whether a request context is still alive (parked requests may have been deleted).
pub fn request_alive(id: u32) -> bool {
    request(id).is_some()
}

/// `proxy_on_memory_allocate`: a buffer the host fills and the module later owns as a
/// `Vec<u8>` of exactly `size` bytes (see `host::take`). Null when the allocation fails.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
fn allocate(size: usize) -> *mut u8 {
    let mut buffer: Vec<u8> = Vec::new();
    if buffer.try_reserve_exact(size).is_err() {
        return std::ptr::null_mut();
    }
    std::mem::ManuallyDrop::new(buffer).as_mut_ptr()
}

/// The raw exports. Only on wasm: a native test binary links the SDK (a dev-dependency) whose
/// exports have the same names.
#[cfg(target_arch = "wasm32")]
mod exports {
    use super::*;

    #[cfg(target_os = "wasi")]
    unsafe extern "C" {
        fn __wasm_call_ctors();
    }

    /// Module start-up: static constructors, then a panic hook that logs (release builds abort on
    /// panic; none is expected).
    #[unsafe(no_mangle)]
    pub extern "C" fn _initialize() {
        #[cfg(target_os = "wasi")]
        // SAFETY: the linker-provided constructor runner, called once before anything else.
        unsafe {
            __wasm_call_ctors();
        }
        std::panic::set_hook(Box::new(|info| {
            let _ = crate::host::log(
                crate::host::LogLevel::Critical,
                &format!("tokenward: {info}"),
            );
        }));
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn proxy_abi_version_0_2_1() {}

    #[unsafe(no_mangle)]
    pub extern "C" fn proxy_on_memory_allocate(size: usize) -> *mut u8 {
        allocate(size)
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn proxy_on_context_create(id: u32, root_id: u32) {
        on_context_create(id, root_id);
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn proxy_on_vm_start(id: u32, size: usize) -> bool {
        on_vm_start(id, size)
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn proxy_on_configure(id: u32, size: usize) -> bool {
        on_configure(id, size)
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn proxy_on_tick(id: u32) {
        on_tick(id);
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn proxy_on_request_headers(id: u32, _headers: usize, _end: u32) -> Action {
        on_request_headers(id)
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn proxy_on_http_call_response(
        id: u32,
        token: u32,
        headers: usize,
        body: usize,
        _trailers: usize,
    ) {
        on_http_call_response(id, token, headers, body);
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn proxy_on_done(_id: u32) -> bool {
        true
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn proxy_on_delete(id: u32) {
        on_delete(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_contexts_are_harmless() {
        assert!(!on_vm_start(7, 0));
        assert!(!on_configure(7, 0));
        on_tick(7);
        on_http_call_response(7, 1, 0, 0);
        on_delete(7);
        assert_eq!(on_request_headers(99), Action::Pause);
    }

    #[test]
    fn a_request_of_an_unknown_root_fails_closed() {
        on_context_create(5, 4);
        assert!(request_alive(5));
        assert_eq!(on_request_headers(5), Action::Pause);
        on_delete(5);
        assert!(!request_alive(5));
    }

    #[test]
    fn allocation_is_exact_and_survives_zero() {
        let p = allocate(16);
        assert!(!p.is_null());
        // SAFETY: `allocate` reserved exactly 16 bytes with the global allocator.
        drop(unsafe { Vec::from_raw_parts(p, 0, 16) });
        assert!(!allocate(0).is_null());
    }

    #[test]
    fn actions_match_the_sdk() {
        assert_eq!(
            Action::Continue as u32,
            proxy_wasm::types::Action::Continue as u32
        );
        assert_eq!(
            Action::Pause as u32,
            proxy_wasm::types::Action::Pause as u32
        );
    }
}
