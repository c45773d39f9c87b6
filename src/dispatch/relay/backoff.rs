//! Retry delays after a failed publish: exponential from `retry_backoff_min`, capped at
//! `retry_backoff_max`, with jitter so rows that failed together (a missing binding, a broker
//! hiccup) do not come back in lock-step.
use std::time::Duration;

use rand::Rng;

/// The delay before retry number `attempt` (1 = the first retry).
pub(crate) fn delay(min: Duration, max: Duration, attempt: u32, rng: &mut impl Rng) -> Duration {
    let max = max.max(min);
    // 2^(attempt-1), saturating long before u32 overflows; the cap does the rest.
    let factor = 1u32 << attempt.saturating_sub(1).min(20);
    let base = min.saturating_mul(factor).min(max);
    // "Equal jitter": somewhere between half and all of the exponential delay, never below the
    // configured minimum, so the retry rate stays bounded while the spread stays wide.
    let jittered = base.mul_f64(rng.random_range(0.5..=1.0));
    jittered.max(min).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    const MIN: Duration = Duration::from_millis(200);
    const MAX: Duration = Duration::from_secs(30);

    #[test]
    fn grows_exponentially_within_jitter() {
        let mut rng = StdRng::seed_from_u64(7);
        for attempt in 1..=6u32 {
            let base = MIN * (1 << (attempt - 1));
            for _ in 0..100 {
                let d = delay(MIN, MAX, attempt, &mut rng);
                assert!(d >= (base / 2).max(MIN) && d <= base, "{attempt}: {d:?}");
            }
        }
    }

    #[test]
    fn capped_at_max_even_for_huge_attempts() {
        let mut rng = StdRng::seed_from_u64(1);
        for attempt in [20, 31, 32, 1000, u32::MAX] {
            let d = delay(MIN, MAX, attempt, &mut rng);
            assert!(d >= MAX / 2 && d <= MAX, "{attempt}: {d:?}");
        }
    }

    #[test]
    fn attempt_zero_and_inverted_bounds_are_safe() {
        let mut rng = StdRng::seed_from_u64(3);
        assert_eq!(delay(MIN, MIN, 0, &mut rng), MIN);
        // A max below min is a config mistake; the minimum wins rather than panicking.
        assert_eq!(delay(MIN, Duration::ZERO, 5, &mut rng), MIN);
    }
}
