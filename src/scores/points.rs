//! The numbers a score is made of, kept exact: sub-scores are whole points, totals and averages
//! are hundredths of a point, shares are fractions. Integers rather than floats because scores
//! are compared and ranked: two departments with the same record must tie (1, 1, 3), and a
//! float sum such as 0.1 + 0.2 would part them on noise, differently on another platform.
use std::cmp::Ordering;
use std::fmt;

use serde::{Deserialize, Serialize};

/// A full part, and the best total: 100 points.
pub const FULL: u32 = 100;

/// Points in hundredths: 9350 is 93.50. A case's total is exact in hundredths because the
/// weights are whole percentages of whole-point parts.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Hundredths(pub u32);

impl fmt::Display for Hundredths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// A share as an exact fraction, e.g. 7 ratings of 9 满意 or 基本满意. `den` 0 means nothing
/// to measure (no ratings at all): no rate, ranked after every department that has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Rate {
    pub num: u32,
    pub den: u32,
}

impl Rate {
    pub fn new(num: u32, den: u32) -> Rate {
        Rate { num, den }
    }

    /// The share in basis points (1/10000, rounded half up), for display: 7/9 is 7778.
    /// None when there is nothing to measure.
    pub fn basis_points(self) -> Option<u32> {
        (self.den > 0).then(|| {
            let bp = div_round(u128::from(self.num) * 10_000, u128::from(self.den));
            u32::try_from(bp).unwrap_or(u32::MAX)
        })
    }

    /// Better (Greater) is the larger share; a rate with nothing to measure is below every
    /// rate that has something, and equal to another such. Compared by cross-multiplying, so
    /// 1/2 and 2/4 are equal.
    pub fn cmp_share(self, other: Rate) -> Ordering {
        match (self.den, other.den) {
            (0, 0) => Ordering::Equal,
            (0, _) => Ordering::Less,
            (_, 0) => Ordering::Greater,
            _ => (u64::from(self.num) * u64::from(other.den))
                .cmp(&(u64::from(other.num) * u64::from(self.den))),
        }
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.basis_points() {
            Some(bp) => write!(
                f,
                "{}/{} ({}.{:02}%)",
                self.num,
                self.den,
                bp / 100,
                bp % 100
            ),
            None => write!(f, "-"),
        }
    }
}

/// `n / d` rounded half up (`d` 0 gives 0, so no input can make it divide by zero). The one
/// rounding rule of the module: operators check scores by hand, and half up is what they do.
pub fn div_round(n: u128, d: u128) -> u128 {
    if d == 0 {
        return 0;
    }
    n / d + u128::from(n % d >= d - n % d)
}

/// Working time in hours with one decimal, for reasons: 9_000_000 ms is "2.5".
pub(crate) fn hours(ms: i64) -> String {
    let tenths = div_round(u128::from(ms.max(0).unsigned_abs()), 360_000);
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// `part / whole` as a whole percentage, rounded half up, for reasons.
pub(crate) fn percent(part: i64, whole: i64) -> u128 {
    div_round(
        u128::from(part.max(0).unsigned_abs()) * 100,
        u128::from(whole.max(0).unsigned_abs()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_up_and_never_divides_by_zero() {
        assert_eq!(div_round(7, 2), 4); // 3.5
        assert_eq!(div_round(5, 3), 2); // 1.67
        assert_eq!(div_round(4, 3), 1); // 1.33
        assert_eq!(div_round(6, 3), 2);
        assert_eq!(div_round(0, 3), 0);
        assert_eq!(div_round(9, 0), 0);
        assert_eq!(hours(9_000_000), "2.5");
        assert_eq!(hours(-5), "0.0");
        assert_eq!(percent(25, 40), 63); // 62.5
        assert_eq!(Hundredths(9350).to_string(), "93.50");
        assert_eq!(Hundredths(5).to_string(), "0.05");
    }

    #[test]
    fn rates_compare_exactly_and_empty_is_lowest() {
        assert_eq!(Rate::new(1, 2).cmp_share(Rate::new(2, 4)), Ordering::Equal);
        assert_eq!(
            Rate::new(2, 3).cmp_share(Rate::new(3, 5)),
            Ordering::Greater
        );
        assert_eq!(
            Rate::new(0, 1).cmp_share(Rate::new(0, 0)),
            Ordering::Greater
        );
        assert_eq!(Rate::new(0, 0).cmp_share(Rate::new(0, 0)), Ordering::Equal);
        assert_eq!(Rate::new(7, 9).basis_points(), Some(7778));
        assert_eq!(Rate::new(0, 0).basis_points(), None);
        assert_eq!(Rate::new(7, 9).to_string(), "7/9 (77.78%)");
    }
}
