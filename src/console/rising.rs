//! The rising-problem test of the 分析 Analysis page (未呼先应): is a category's count in one
//! district over the last seven days well above that pair's own baseline? A pure function of
//! the counts, so the rule printed on the page is exactly the rule applied.
//!
//! **The rule.** Let `k` be the pair's cases opened in the last 7 days and the baseline the
//! counts of the [`BASELINE_WEEKS`] 7-day periods before it (only periods the store covers).
//! Take `λ = max(mean of the baseline, LAMBDA_FLOOR)` and flag the pair when
//! `P(X ≥ k | X ~ Poisson(λ)) < ALPHA` and `k ≥ MIN_COUNT`.
//!
//! Why this rule:
//! - Cases (not reports) are counted: reports of one incident merge into one case, so cases of
//!   a kind in a place arrive roughly independently, which is what a Poisson count assumes.
//!   One incident with fifty callers is one case and does not look like a trend.
//! - A one-sided test: only rises matter here ("act before being called"); a fall is good
//!   news, not an alarm.
//! - The baseline is the pair's own, so a district that always has many pothole reports is
//!   not flagged for having many again; a quiet one is, when it suddenly has several.
//! - `λ` is floored because a pair never seen in eight weeks does not have a rate of zero
//!   (with zero events in `n` periods the 95 % upper bound on the rate is about `3/n`, the "rule
//!   of three": 0.375 for eight weeks). Flooring at 0.5, a little above it, keeps the test from
//!   calling any first case a rise; with it, five cases of a never-seen kind in a week flag.
//! - `k ≥ MIN_COUNT` keeps one-off pairs off the list: with many (category, district) pairs,
//!   some small counts pass `ALPHA` by chance, and two or three cases are not yet a pattern.
//! - No baseline (a store younger than one full period) means no verdict: nothing is known
//!   about what is usual, and calling everything a rise would be noise.
//!
//! It is a screening rule for people to look at, not a proof: with hundreds of pairs tested
//! each week a few false flags at `ALPHA = 0.01` are expected.

/// The significance level: flag when the chance of at least `k` at the baseline rate is below.
pub const ALPHA: f64 = 0.01;
/// Fewer cases than this in the week are never flagged.
pub const MIN_COUNT: u32 = 5;
/// The least baseline rate (cases per 7 days) a pair is tested against.
pub const LAMBDA_FLOOR: f64 = 0.5;
/// How many 7-day periods before the current one make the baseline.
pub const BASELINE_WEEKS: usize = 8;

/// The test's outcome for one pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Verdict {
    /// Cases in the last 7 days.
    pub k: u32,
    /// The rate tested against: the baseline mean, floored.
    pub lambda: f64,
    /// `P(X ≥ k)` for `X ~ Poisson(λ)`.
    pub p: f64,
    /// Whether the pair is flagged as rising.
    pub rising: bool,
}

/// Tests `k` cases in the last period against the counts of earlier periods (`baseline`,
/// any order). None when there is no baseline to compare with.
pub fn assess(k: u32, baseline: &[u32]) -> Option<Verdict> {
    if baseline.is_empty() {
        return None;
    }
    let mean = baseline.iter().map(|&c| f64::from(c)).sum::<f64>() / baseline.len() as f64;
    let lambda = mean.max(LAMBDA_FLOOR);
    let p = upper_tail(u64::from(k), lambda);
    Some(Verdict {
        k,
        lambda,
        p,
        rising: k >= MIN_COUNT && p < ALPHA,
    })
}

/// `P(X ≥ k)` for `X ~ Poisson(lambda)`.
///
/// Computed from the probability mass at the start point, taken in log space (so `λ^k / k!`
/// never overflows for large counts), then summed term by term in the direction the terms
/// shrink: upward from `k` when `k > λ` (the tail itself, so small p-values keep their
/// precision instead of vanishing in `1 − (almost 1)`), else downward from `k − 1` for the
/// complement (the answer is then large, and subtraction loses nothing that matters).
pub fn upper_tail(k: u64, lambda: f64) -> f64 {
    if k == 0 || lambda.is_nan() || lambda == f64::INFINITY {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    // Each loop ends when a term no longer changes the sum; the cap is a guard against a
    // rate so large that even that takes too long (never for counts of cases).
    const CAP: u32 = 10_000_000;
    let kf = k as f64;
    if kf > lambda {
        let mut term = log_pmf(k, lambda).exp();
        let mut sum = 0.0;
        let mut i = kf;
        for _ in 0..CAP {
            if term <= 0.0 || term <= sum * 1e-17 {
                break;
            }
            sum += term;
            i += 1.0;
            term *= lambda / i;
        }
        sum.min(1.0)
    } else {
        let mut term = log_pmf(k - 1, lambda).exp();
        let mut sum = 0.0;
        let mut i = (k - 1) as f64;
        for _ in 0..CAP {
            sum += term;
            if i <= 0.0 || term <= 0.0 || term <= sum * 1e-17 {
                break;
            }
            term *= i / lambda;
            i -= 1.0;
        }
        (1.0 - sum).clamp(0.0, 1.0)
    }
}

/// `ln P(X = k)` for `X ~ Poisson(lambda)`, `lambda > 0`.
fn log_pmf(k: u64, lambda: f64) -> f64 {
    k as f64 * lambda.ln() - lambda - ln_factorial(k)
}

/// `ln k!`: summed exactly for small `k`, Stirling's series beyond (its error there is below
/// `1/(1680 k⁷)`, far under an f64's resolution).
fn ln_factorial(k: u64) -> f64 {
    if k < 30 {
        return (2..=k).map(|i| (i as f64).ln()).sum();
    }
    let n = k as f64;
    let inv = 1.0 / n;
    let inv2 = inv * inv;
    n * n.ln() - n
        + 0.5 * (2.0 * std::f64::consts::PI * n).ln()
        + inv * (1.0 / 12.0 - inv2 * (1.0 / 360.0 - inv2 / 1260.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tail summed the plain way, term by term from `k` upward: accurate for the small
    /// rates used here (no cancellation, and `e^-λ` is far from underflow).
    fn naive(k: u64, lambda: f64) -> f64 {
        let mut pmf = (-lambda).exp();
        let mut tail = 0.0;
        for i in 0..k + 400 {
            if i >= k {
                tail += pmf;
            }
            pmf *= lambda / (i + 1) as f64;
        }
        tail
    }

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn the_tail_matches_known_values_and_the_plain_sum() {
        // P(X ≥ 5 | λ = 1) = 1 − e⁻¹(1 + 1 + 1/2 + 1/6 + 1/24).
        let known = 1.0 - (-1f64).exp() * (1.0 + 1.0 + 0.5 + 1.0 / 6.0 + 1.0 / 24.0);
        assert!(close(upper_tail(5, 1.0), known, 1e-12));
        assert!(close(upper_tail(1, 2.0), 1.0 - (-2f64).exp(), 1e-12));
        for lambda in [0.5, 1.0, 3.0, 7.5, 20.0] {
            for k in 1..40 {
                let (got, want) = (upper_tail(k, lambda), naive(k, lambda));
                assert!(close(got, want, 1e-9), "k={k} λ={lambda}: {got} vs {want}");
            }
        }
        assert_eq!(upper_tail(0, 3.0), 1.0);
        assert_eq!(upper_tail(3, 0.0), 0.0);
    }

    #[test]
    fn stirling_joins_the_exact_sum() {
        let exact: f64 = (2..=40u64).map(|i| (i as f64).ln()).sum();
        assert!(close(ln_factorial(40), exact, 1e-14));
    }

    #[test]
    fn large_counts_neither_overflow_nor_lose_small_tails() {
        // At the mean of a large Poisson the tail is just over a half.
        let p = upper_tail(100_000, 100_000.0);
        assert!(p > 0.5 && p < 0.51, "{p}");
        // Twice the mean: astronomically unlikely, but a number, not NaN or infinity.
        let p = upper_tail(200, 100.0);
        assert!(p > 0.0 && p < 1e-15, "{p}");
        // Beyond what an f64 can hold: zero, and far below the mean: one.
        assert_eq!(upper_tail(u64::from(u32::MAX), 1.0), 0.0);
        assert_eq!(upper_tail(10, 1e9), 1.0);
        let v = assess(u32::MAX, &[u32::MAX; BASELINE_WEEKS]).unwrap();
        assert!(v.p.is_finite() && !v.rising, "{v:?}");
    }

    #[test]
    fn the_rule_flags_a_jump_over_its_own_baseline_only() {
        // Two a week for eight weeks, then nine: P ≈ 0.0002.
        let v = assess(9, &[2, 2, 2, 2, 2, 2, 2, 2]).unwrap();
        assert!(v.rising && v.p < 0.001 && v.lambda == 2.0, "{v:?}");
        // Nine again where twenty is usual is no rise.
        assert!(!assess(9, &[20; 8]).unwrap().rising);
        // Thirty where twenty is usual: p ≈ 0.022, not below 0.01.
        assert!(!assess(30, &[20; 8]).unwrap().rising);
        // Forty where twenty is usual is.
        assert!(assess(40, &[20; 8]).unwrap().rising);
    }

    #[test]
    fn never_seen_pairs_are_floored_and_small_counts_never_flag() {
        let v = assess(4, &[0; 8]).unwrap();
        assert_eq!(v.lambda, LAMBDA_FLOOR);
        assert!(v.p < ALPHA && !v.rising, "four is below MIN_COUNT: {v:?}");
        let v = assess(5, &[0; 8]).unwrap();
        assert!(v.rising, "{v:?}");
        // A single week of baseline still counts; none does not.
        assert!(assess(6, &[1]).unwrap().rising);
        assert_eq!(assess(50, &[]), None);
    }
}
