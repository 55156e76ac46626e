//! wasm-bindgen bindings of `tokenward-core` for the `tokenward` npm package.
//!
//! Placeholder member: the bindings land with the npm package issue.
