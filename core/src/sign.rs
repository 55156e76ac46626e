//! Placeholder: written by the request-layer work.
