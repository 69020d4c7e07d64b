//! Failed logins per network address, on this node: past a limit a minute, an address is
//! answered "too many attempts" before any password is hashed. Per account, failures lock the
//! account across nodes (the database counts them); this stops one address from guessing
//! across many accounts, or burning the CPU on password hashes of names that do not exist.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// Failed logins one address may make in a minute.
pub const FAILURES_PER_MINUTE: u32 = 20;

/// Addresses kept before old minutes are dropped.
const MAX_ADDRESSES: usize = 100_000;

#[derive(Default)]
pub struct LoginThrottle {
    /// Address → (minute, failures in it).
    failures: Mutex<HashMap<IpAddr, (i64, u32)>>,
}

impl LoginThrottle {
    /// Seconds to wait when the address has used up this minute's failures, else `None`.
    pub fn wait(&self, address: IpAddr, now_ms: i64) -> Option<i64> {
        let minute = now_ms.div_euclid(60_000);
        let failures = self.failures.lock().ok()?;
        match failures.get(&address) {
            Some((at, count)) if *at == minute && *count >= FAILURES_PER_MINUTE => {
                Some(60 - now_ms.rem_euclid(60_000) / 1000)
            }
            _ => None,
        }
    }

    /// Refuses (429, until the minute ends) an attempt from an address past its failures; an
    /// unknown address is not throttled here.
    pub fn admit(&self, from: Option<IpAddr>, now_ms: i64) -> crate::error::AppResult<()> {
        match from.and_then(|address| self.wait(address, now_ms)) {
            Some(wait) => Err(crate::error::AppError::LockedOut {
                retry_after_seconds: wait,
            }),
            None => Ok(()),
        }
    }

    /// Counts a failure from the address, when it is known.
    pub fn count(&self, from: Option<IpAddr>, now_ms: i64) {
        if let Some(address) = from {
            self.failed(address, now_ms);
        }
    }

    /// Counts a failed login from `address`.
    pub fn failed(&self, address: IpAddr, now_ms: i64) {
        let minute = now_ms.div_euclid(60_000);
        if let Ok(mut failures) = self.failures.lock() {
            if failures.len() >= MAX_ADDRESSES {
                failures.retain(|_, (at, _)| *at == minute);
            }
            let entry = failures.entry(address).or_insert((minute, 0));
            if entry.0 != minute {
                *entry = (minute, 0);
            }
            entry.1 += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_stopped_for_the_rest_of_the_minute_and_others_are_not() {
        let throttle = LoginThrottle::default();
        let (one, two): (IpAddr, IpAddr) = (
            "192.0.2.1".parse().expect("ip"),
            "192.0.2.2".parse().expect("ip"),
        );
        let now = 10 * 60_000 + 15_000;
        for _ in 0..FAILURES_PER_MINUTE {
            assert_eq!(throttle.wait(one, now), None);
            throttle.failed(one, now);
        }
        assert_eq!(throttle.wait(one, now), Some(45));
        assert_eq!(throttle.wait(two, now), None);
        assert_eq!(throttle.wait(one, now + 45_000), None, "a new minute");
    }
}
