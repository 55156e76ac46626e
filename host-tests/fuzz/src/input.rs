//! The fuzz input, decoded by `arbitrary`. The first variant of each enum is the ordinary case,
//! so a short input (whose missing bytes decode as zeros) is a valid configuration and request.

use arbitrary::{Arbitrary, Unstructured};

use crate::json::{Base, Json, Mutation};
use crate::token::Built;

/// At most this many operations are run per input (bounds the time per input).
pub const MAX_OPS: usize = 48;

/// At most this many faults are set before the start.
pub const MAX_START_FAULTS: usize = 2;

/// One fuzz case.
#[derive(Clone, Debug, Arbitrary)]
pub struct Input {
    /// The plugin configuration.
    pub config: Config,
    /// The VM environment.
    pub env: EnvSpec,
    /// Leave out the `verify_signature` foreign function (all signature math in wasm).
    pub no_foreign_verify: bool,
    /// Run a second worker VM on the same clock and shared data.
    pub two_workers: bool,
    /// Faults set before the VMs start (the first [`MAX_START_FAULTS`]).
    pub start_faults: Vec<Fault>,
    /// What happens next.
    pub ops: Vec<Op>,
}

/// The plugin configuration.
#[derive(Clone, Debug)]
pub enum Config {
    /// A base document with edits.
    Base {
        /// The document.
        base: Base,
        /// Its edits, in order.
        edits: Vec<Mutation>,
    },
    /// Any bytes.
    Raw(Vec<u8>),
}

impl<'a> Arbitrary<'a> for Config {
    /// Raw bytes one time in eight: most of them are refused at the first byte.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(if u.ratio(7, 8)? {
            Self::Base {
                base: u.arbitrary()?,
                edits: u.arbitrary()?,
            }
        } else {
            Self::Raw(u.arbitrary()?)
        })
    }
}

/// The VM environment.
#[derive(Clone, Debug)]
pub enum EnvSpec {
    /// `TW_SECRET` set to the test secret.
    Secret,
    /// Nothing.
    Empty,
    /// `TOKENWARD_ENV=dev` and a weak secret.
    DevWeak,
    /// Any pairs.
    Raw(Vec<(String, String)>),
}

impl<'a> Arbitrary<'a> for EnvSpec {
    /// The secret thirteen times in sixteen: the secret-based configurations need it.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0u8..=15)? {
            0..=12 => Self::Secret,
            13 => Self::Empty,
            14 => Self::DevWeak,
            _ => Self::Raw(u.arbitrary()?),
        })
    }
}

/// A host-call fault.
#[derive(Clone, Debug, Arbitrary)]
pub struct Fault {
    /// Which worker (the second, when there is one).
    pub second: bool,
    /// Index into [`crate::drive::HOST_FUNCTIONS`].
    pub function: u8,
    /// The status it returns.
    pub status: FaultStatus,
}

/// A failure status (never `OK`: a fault is a failure).
#[derive(Clone, Debug, Arbitrary)]
pub enum FaultStatus {
    /// Index into [`crate::drive::FAULT_STATUSES`].
    Known(u8),
    /// Any value but 0.
    Other(u32),
}

/// A clock move.
#[derive(Clone, Debug, Arbitrary)]
pub enum Advance {
    /// Forward by milliseconds.
    Ms(u16),
    /// Forward by seconds.
    Secs(u16),
    /// Backwards by seconds.
    Back(u16),
}

/// How a callout is answered.
#[derive(Clone, Debug, Arbitrary)]
pub enum ReplySpec {
    /// A 200: the discovery document for a discovery path, else the test key set.
    Auto,
    /// The test key set, edited.
    Keys(Vec<Mutation>),
    /// Any status, headers and body.
    Raw {
        /// HTTP status.
        status: u16,
        /// Headers besides `:status`.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// A fuzzed JSON body with status 200.
    Json(Json),
    /// No answer (timeout, reset).
    Timeout,
}

/// One operation.
#[derive(Clone, Debug)]
pub enum Op {
    /// A request.
    Request(Box<Req>),
    /// Move the clock, then `proxy_on_tick` on one worker.
    Tick {
        /// Which worker.
        second: bool,
        /// The move.
        advance: Advance,
    },
    /// Answer one worker's pending callouts.
    Deliver {
        /// Which worker.
        second: bool,
        /// The answer.
        reply: ReplySpec,
    },
    /// Up to `steps` (mod 16, plus one) rounds of 250 ms: every worker ticks and gets
    /// [`ReplySpec::Auto`] answers.
    Settle {
        /// Rounds.
        steps: u8,
    },
    /// Make a host function fail until cleared.
    Fault(Fault),
    /// Clear one worker's faults.
    ClearFaults {
        /// Which worker.
        second: bool,
    },
    /// End an open request (decided or still paused: the client went away).
    Finish {
        /// Index among the open requests.
        which: u8,
    },
    /// Move the clock only.
    Clock(Advance),
}

impl<'a> Arbitrary<'a> for Op {
    /// A request seven times in sixteen, settling twice; the rest once each.
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match u.int_in_range(0u8..=15)? {
            0..=6 => Self::Request(u.arbitrary()?),
            7 | 8 => Self::Settle {
                steps: u.arbitrary()?,
            },
            9 => Self::Tick {
                second: u.arbitrary()?,
                advance: u.arbitrary()?,
            },
            10 => Self::Deliver {
                second: u.arbitrary()?,
                reply: u.arbitrary()?,
            },
            11 => Self::Fault(u.arbitrary()?),
            12 => Self::ClearFaults {
                second: u.arbitrary()?,
            },
            13 => Self::Finish {
                which: u.arbitrary()?,
            },
            _ => Self::Clock(u.arbitrary()?),
        })
    }
}

impl Req {
    /// A GET of `/` with a valid HS256 token: run after the operations, on every worker.
    pub fn ordinary(second: bool) -> Self {
        Self {
            second,
            method: Method::Get,
            path: PathSpec::Known(0, None),
            credential: Some(Credential {
                place: Place::Authorization,
                scheme: Scheme::Bearer,
                token: TokenSpec::Built(Built::ordinary()),
            }),
            headers: Vec::new(),
            keep_open: false,
            source: Source::Same,
        }
    }
}

/// A request.
#[derive(Clone, Debug, Arbitrary)]
pub struct Req {
    /// Which worker.
    pub second: bool,
    /// `:method`.
    pub method: Method,
    /// `:path`.
    pub path: PathSpec,
    /// A credential.
    pub credential: Option<Credential>,
    /// Further headers.
    pub headers: Vec<Header>,
    /// Leave it open after it is decided (ended by [`Op::Finish`] or at the end).
    pub keep_open: bool,
    /// The client address (property `source.address`, read by the scanner's velocity limit).
    pub source: Source,
}

/// Property `source.address` for this and later requests of the worker.
#[derive(Clone, Debug, Arbitrary)]
pub enum Source {
    /// As before (unset at first).
    Same,
    /// One of [`crate::drive::SOURCES`].
    Known(u8),
    /// Any bytes.
    Raw(Vec<u8>),
}

/// `:method`.
#[derive(Clone, Debug, Arbitrary)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `OPTIONS`.
    Options,
    /// `DELETE`.
    Delete,
    /// Any bytes.
    Raw(Vec<u8>),
    /// No `:method` entry.
    Missing,
}

/// `:path`.
#[derive(Clone, Debug, Arbitrary)]
pub enum PathSpec {
    /// One of [`crate::drive::PATHS`], with an optional query.
    Known(u8, Option<String>),
    /// Any bytes.
    Raw(Vec<u8>),
    /// No `:path` entry.
    Missing,
}

/// Where and how the token travels.
#[derive(Clone, Debug, Arbitrary)]
pub struct Credential {
    /// The header, cookie or query parameter.
    pub place: Place,
    /// The `Authorization` scheme (header places only).
    pub scheme: Scheme,
    /// The token.
    pub token: TokenSpec,
}

/// Where the token goes.
#[derive(Clone, Debug, Arbitrary)]
pub enum Place {
    /// `authorization`.
    Authorization,
    /// `x-mcp-proxy-auth`.
    McpProxy,
    /// Cookie `auth_token`.
    Cookie,
    /// Query parameter `access_token`.
    Query,
    /// Two `authorization` entries, the second with this value.
    Twice(Vec<u8>),
}

/// The scheme before the token.
#[derive(Clone, Debug, Arbitrary)]
pub enum Scheme {
    /// `Bearer `.
    Bearer,
    /// `bearer `.
    Lower,
    /// Nothing.
    Bare,
    /// `Bearer  ` (two spaces).
    DoubleSpace,
    /// `Basic `.
    Basic,
    /// Any prefix.
    Raw(String),
}

/// The token.
#[derive(Clone, Debug, Arbitrary)]
pub enum TokenSpec {
    /// Built from a valid token and signed.
    Built(Built),
    /// Any bytes (non-UTF-8 included).
    Raw(Vec<u8>),
    /// A built token with one byte changed.
    Flipped {
        /// The token.
        built: Built,
        /// The byte (modulo the length).
        at: u16,
        /// XOR mask (0 becomes 1).
        xor: u8,
    },
}

/// A further request header.
#[derive(Clone, Debug, Arbitrary)]
pub struct Header {
    /// The name.
    pub name: HeaderName,
    /// The value.
    pub value: Vec<u8>,
}

/// A header name.
#[derive(Clone, Debug, Arbitrary)]
pub enum HeaderName {
    /// One of [`crate::drive::HEADER_NAMES`].
    Known(u8),
    /// Any bytes.
    Raw(Vec<u8>),
}
