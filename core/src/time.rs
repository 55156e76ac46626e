//! Time as the host passes it in.

use std::fmt;

/// Seconds since the Unix epoch, as the host's clock reads them.
///
/// The core never reads a clock; every check takes one of these. All arithmetic on it saturates, so
/// a fake clock near 0 (or a hostile `exp` near `i64::MAX`) can never overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UnixTime(pub i64);

impl UnixTime {
    /// The raw number of seconds.
    pub fn seconds(self) -> i64 {
        self.0
    }
}

impl fmt::Display for UnixTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
