//! Scanner velocity at the edge: how many requests a client sent in the current window, counted
//! across every Envoy worker, for the core's `scanner.max_requests_per_window`.
//!
//! The client is Envoy's downstream address (`source.address`) without its port; behind another
//! proxy, configure the HTTP connection manager's `xff_num_trusted_hops` (or
//! `original_ip_detection_extensions`) and Envoy reports the real client there, as it does for
//! its own RBAC and rate-limit filters.
//!
//! Counts live in shared data so a client spreading its connections over workers is still one
//! client. Shared data has no delete, so the store is a fixed table of [`SLOTS`] keys, each
//! `client hash | window start (ms) | count`, updated with CAS. A client takes the first of
//! [`PROBES`] slots that is free, already its own, or whose window is over. When all are held by
//! other live clients (more than ~[`SLOTS`] clients active in one window), or the host has no
//! shared data, the request is not counted and velocity is not checked for it: the core never
//! sees a made-up count (stat `tokenward_velocity_uncounted`).

use crate::host;
use crate::stats;

/// Keys in the table.
pub const SLOTS: u64 = 4096;
/// Slots tried per client.
pub const PROBES: u64 = 4;
/// CAS retries per slot.
const RETRIES: usize = 4;

/// One table slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    client: u64,
    start_ms: u64,
    count: u64,
}

impl Slot {
    fn decode(bytes: &[u8]) -> Option<Slot> {
        let word = |i: usize| -> Option<u64> {
            let b = bytes.get(i * 8..i * 8 + 8)?;
            Some(u64::from_le_bytes(<[u8; 8]>::try_from(b).ok()?))
        };
        Some(Slot {
            client: word(0)?,
            start_ms: word(1)?,
            count: word(2)?,
        })
    }

    fn encode(self) -> [u8; 24] {
        let mut out = [0u8; 24];
        for (chunk, word) in out
            .chunks_exact_mut(8)
            .zip([self.client, self.start_ms, self.count])
        {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        out
    }
}

/// What one slot holds for `client` at `now_ms`.
enum Claim {
    /// The slot is (or becomes) this client's: write this and answer its count.
    Take(Slot),
    /// Another client's live window: try the next slot.
    Busy,
}

fn claim(stored: Option<Slot>, client: u64, now_ms: u64, window_ms: u64, count: bool) -> Claim {
    let add = u64::from(count);
    match stored {
        Some(s) if s.client == client && now_ms.saturating_sub(s.start_ms) < window_ms => {
            Claim::Take(Slot {
                count: s.count.saturating_add(add),
                ..s
            })
        }
        Some(s) if s.client != client && now_ms.saturating_sub(s.start_ms) < window_ms => {
            Claim::Busy
        }
        _ => Claim::Take(Slot {
            client,
            start_ms: now_ms,
            count: add,
        }),
    }
}

/// The velocity counter of one configuration.
#[derive(Clone, Debug)]
pub struct Velocity {
    window_ms: u64,
    prefix: String,
}

impl Velocity {
    /// A counter over `window_seconds`, its table named after `scope` (the policy, so two
    /// configurations do not share counts).
    pub fn new(window_seconds: u32, scope: u64) -> Self {
        Self {
            window_ms: u64::from(window_seconds).saturating_mul(1000),
            prefix: format!("tokenward.velocity.{scope:016x}"),
        }
    }

    /// Counts a request from `client` (with `count`; without it, only reads) and returns the
    /// client's requests in the current window, this one included; `None` when it could not be
    /// counted.
    pub fn observe(&self, client: &str, now_ms: u64, count: bool) -> Option<u64> {
        let hash = fnv1a(client.as_bytes());
        for probe in 0..PROBES {
            let key = format!("{}.{}", self.prefix, hash.wrapping_add(probe) % SLOTS);
            match self.try_slot(&key, hash, now_ms, count) {
                Ok(Some(n)) => return Some(n),
                Ok(None) => {}
                Err(()) => break,
            }
        }
        stats::bump(stats::VELOCITY_UNCOUNTED);
        None
    }

    /// `Ok(Some(count))` when the slot is the client's, `Ok(None)` when it is busy, `Err` when
    /// shared data fails.
    fn try_slot(
        &self,
        key: &str,
        client: u64,
        now_ms: u64,
        count: bool,
    ) -> Result<Option<u64>, ()> {
        for _ in 0..RETRIES {
            let (stored, cas) = match host::get_shared(key) {
                Ok(Some((bytes, cas))) => (Slot::decode(&bytes), cas),
                Ok(None) => (None, 0),
                Err(_) => return Err(()),
            };
            let slot = match claim(stored, client, now_ms, self.window_ms, count) {
                Claim::Busy => return Ok(None),
                Claim::Take(slot) => slot,
            };
            if !count {
                return Ok(Some(slot.count));
            }
            match host::set_shared(key, &slot.encode(), cas) {
                Ok(()) => return Ok(Some(slot.count)),
                Err(host::Status::CasMismatch) => continue,
                Err(_) => return Err(()),
            }
        }
        Err(())
    }
}

/// The client a request comes from: `source.address` without its port.
pub fn client_address() -> Option<String> {
    let bytes = host::get_property(&["source", "address"]).ok()??;
    let text = String::from_utf8(bytes).ok()?;
    Some(strip_port(&text).to_owned())
}

/// `1.2.3.4:5` to `1.2.3.4`, `[::1]:5` to `::1`; anything else as given.
fn strip_port(address: &str) -> &str {
    if let Some(rest) = address.strip_prefix('[') {
        return rest.split_once(']').map_or(address, |(ip, _)| ip);
    }
    match address.split_once(':') {
        Some((ip, port)) if !port.contains(':') => ip,
        _ => address,
    }
}

/// FNV-1a, 64-bit.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_round_trip() {
        let s = Slot {
            client: 1,
            start_ms: 2,
            count: 3,
        };
        assert_eq!(Slot::decode(&s.encode()), Some(s));
        assert_eq!(Slot::decode(&[0; 23]), None);
    }

    #[test]
    fn a_window_counts_then_restarts() {
        let mine = |start_ms, count| {
            Some(Slot {
                client: 7,
                start_ms,
                count,
            })
        };
        let Claim::Take(s) = claim(None, 7, 1000, 60_000, true) else {
            panic!("an empty slot is free");
        };
        assert_eq!((s.start_ms, s.count), (1000, 1));
        let Claim::Take(s) = claim(mine(1000, 5), 7, 60_999, 60_000, true) else {
            panic!("the client's own slot");
        };
        assert_eq!((s.start_ms, s.count), (1000, 6));
        let Claim::Take(s) = claim(mine(1000, 5), 7, 61_000, 60_000, true) else {
            panic!("a finished window restarts");
        };
        assert_eq!((s.start_ms, s.count), (61_000, 1));
        let Claim::Take(s) = claim(mine(1000, 5), 7, 2000, 60_000, false) else {
            panic!("a read");
        };
        assert_eq!(s.count, 5);
    }

    #[test]
    fn another_clients_live_window_is_busy() {
        let theirs = Some(Slot {
            client: 8,
            start_ms: 1000,
            count: 1,
        });
        assert!(matches!(claim(theirs, 7, 2000, 60_000, true), Claim::Busy));
        assert!(matches!(
            claim(theirs, 7, 61_000, 60_000, true),
            Claim::Take(Slot {
                client: 7,
                count: 1,
                ..
            })
        ));
    }

    #[test]
    fn ports_are_stripped() {
        assert_eq!(strip_port("10.0.0.1:4321"), "10.0.0.1");
        assert_eq!(strip_port("[::1]:80"), "::1");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(strip_port("envoy_internal"), "envoy_internal");
    }
}
