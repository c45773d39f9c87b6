//! Login attempts per client address (`governor`, GCRA): a burst of [`BURST`] attempts, then
//! one every [`EVERY`]. Tokens are long random strings, so guessing one is hopeless anyway;
//! the throttle keeps a script from trying, and from filling the logs with refusals.
//!
//! Every attempt counts, not only failures: an operator logs in once a shift, so a correct
//! token never meets the limit in practice, and checking before the token is looked at means
//! a throttled address learns nothing about the tokens it sends. Behind a reverse proxy every
//! operator shares the proxy's address, and so one allowance: the limit is generous for that.
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Attempts allowed at once from one address.
pub const BURST: u32 = 10;
/// Then one more each time this passes.
pub const EVERY: Duration = Duration::from_secs(10);
/// Addresses remembered before the idle ones are forgotten.
const MAX_KEYS: usize = 10_000;

/// The login throttle, shared by the console's handlers.
pub struct LoginThrottle {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        let burst = NonZeroU32::new(BURST).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::with_period(EVERY)
            .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
            .allow_burst(burst);
        Self {
            limiter: RateLimiter::keyed(quota),
        }
    }
}

impl LoginThrottle {
    /// Takes one attempt for `ip`; Err with how long to wait when it has none left.
    pub fn attempt(&self, ip: IpAddr) -> Result<(), Duration> {
        if self.limiter.len() > MAX_KEYS {
            self.limiter.retain_recent();
        }
        self.limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_gets_a_burst_then_waits_and_others_are_not_held_up() {
        let t = LoginThrottle::default();
        let a: IpAddr = "192.0.2.7".parse().unwrap_or(IpAddr::from([0, 0, 0, 0]));
        for i in 0..BURST {
            assert!(t.attempt(a).is_ok(), "attempt {i}");
        }
        let wait = t.attempt(a).expect_err("over the burst");
        assert!(wait > Duration::ZERO && wait <= EVERY, "{wait:?}");
        assert!(t.attempt(IpAddr::from([198, 51, 100, 1])).is_ok());
    }
}
