//! The signals two reports are compared by, each a plain function of compact data so that it
//! can be tested alone and computed in the index's hot loop without allocating.
//!
//! Chinese needs no word segmentation here: character bigrams carry the words ("井盖", "北门")
//! and their overlap measures similarity. Bigrams are kept as 16-bit hashes, sorted, so a
//! comparison is a merge of two short arrays.

/// FNV-1a, 64 bits. Stable across builds and platforms, unlike `std`'s hasher: sketches are
/// written to the store and compared after a restart.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Characters that carry meaning: letters (including CJK) and digits, lower-cased.
/// Punctuation and spaces differ between channels for the same words.
pub fn normalise(text: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len() / 2);
    for c in text.chars() {
        // Fast paths for what reports are made of, ASCII and the CJK Unified Ideographs block
        // (letters without case); std's Unicode tables are a binary search per character, which
        // made this the costliest step of a whole Submit (measured with callgrind).
        if c.is_ascii() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            }
        } else if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
            out.push(c);
        } else if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Sorted, de-duplicated 16-bit hashes of the character bigrams of `texts`, at most `cap`
/// (the smallest hashes: a bottom-k sample, so two long texts are still compared fairly).
pub fn bigrams(texts: &[&str], cap: usize) -> Vec<u16> {
    let mut out = Vec::new();
    for t in texts {
        let cs = normalise(t);
        for w in cs.windows(2) {
            let mut buf = [0u8; 8];
            let a = w[0].encode_utf8(&mut buf[..4]).len();
            let b = w[1].encode_utf8(&mut buf[a..]).len();
            out.push(fold16(fnv1a(&buf[..a + b])));
        }
    }
    out.sort_unstable();
    out.dedup();
    out.truncate(cap);
    out
}

fn fold16(h: u64) -> u16 {
    (h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48)) as u16
}

/// How many values two sorted slices share.
fn shared(a: &[u16], b: &[u16]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// Jaccard similarity of two sorted sets: 0 (nothing shared) to 1 (the same).
pub fn jaccard(a: &[u16], b: &[u16]) -> f64 {
    let s = shared(a, b);
    let union = a.len() + b.len() - s;
    if union == 0 {
        0.0
    } else {
        s as f64 / union as f64
    }
}

/// Overlap coefficient: shared / size of the smaller set. A short address ("东五路") that is
/// part of a longer one ("新城区解放门街道东五路") scores 1: it is less precise, not different.
pub fn overlap(a: &[u16], b: &[u16]) -> f64 {
    let min = a.len().min(b.len());
    if min == 0 {
        0.0
    } else {
        shared(a, b) as f64 / min as f64
    }
}

/// Great-circle distance in metres between two WGS-84 points (haversine).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    const R: f64 = 6_371_000.0;
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let dp = p2 - p1;
    let dl = (b.1 - a.1).to_radians();
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * R * h.sqrt().min(1.0).asin()
}

/// Place signal from two positions: 1 within `near`, falling linearly to 0 at `far`; `None`
/// beyond `far` (different spots, whatever else agrees).
pub fn place_by_distance(d: f64, near: f64, far: f64) -> Option<f64> {
    if d <= near {
        Some(1.0)
    } else if d <= far {
        Some(1.0 - (d - near) / (far - near))
    } else {
        None
    }
}

/// How strongly two addresses name different spots, 0 (compatible) to 1 (different).
///
/// Addresses of one place share a long run of characters (the road or community name); what
/// follows it is the spot ("北门口", "3号楼"). When both go on past their longest common run
/// and the two continuations share no bigrams, they name different spots. An address that stops
/// at the common part is merely less precise, not in conflict.
pub fn spot_conflict(a: &[char], b: &[char]) -> f64 {
    let (len, i, j) = longest_common_run(a, b);
    if len < 2 {
        return 0.0;
    }
    let (ta, tb) = (&a[i + len..], &b[j + len..]);
    if ta.is_empty() || tb.is_empty() {
        return 0.0;
    }
    if ta.len() < 2 || tb.len() < 2 {
        return if ta == tb { 0.0 } else { 1.0 };
    }
    // Distinct bigrams of the shorter tail found in the other (tails are short: no sets).
    let (short, long) = if ta.len() <= tb.len() {
        (ta, tb)
    } else {
        (tb, ta)
    };
    let (mut distinct, mut common) = (0usize, 0usize);
    for (k, w) in short.windows(2).enumerate() {
        if short.windows(2).take(k).any(|v| v == w) {
            continue;
        }
        distinct += 1;
        common += usize::from(long.windows(2).any(|v| v == w));
    }
    1.0 - common as f64 / distinct as f64
}

/// Longest address compared by [`longest_common_run`]; longer ones are cut (sketches keep 24).
const RUN_MAX: usize = 32;

/// (length, start in a, start in b) of the longest common run of characters: the classic
/// dynamic programme over two rows kept on the stack.
fn longest_common_run(a: &[char], b: &[char]) -> (usize, usize, usize) {
    let (a, b) = (&a[..a.len().min(RUN_MAX)], &b[..b.len().min(RUN_MAX)]);
    let mut prev = [0u8; RUN_MAX + 1];
    let mut cur = [0u8; RUN_MAX + 1];
    let mut best = (0, 0, 0);
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            cur[j] = if a[i - 1] == b[j - 1] {
                prev[j - 1] + 1
            } else {
                0
            };
            let run = usize::from(cur[j]);
            if run > best.0 {
                best = (run, i - run, j - run);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    best
}

/// The numbers a text mentions (house, building, gate numbers), up to `cap`, sorted.
pub fn numbers(texts: &[&str], cap: usize) -> Vec<u32> {
    let mut out = Vec::new();
    for t in texts {
        let mut cur: Option<u32> = None;
        for c in t.chars().chain(std::iter::once(' ')) {
            match c.to_digit(10) {
                Some(d) if c.is_ascii_digit() => {
                    cur = Some(cur.unwrap_or(0).saturating_mul(10).saturating_add(d));
                }
                _ => out.extend(cur.take()),
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out.truncate(cap);
    out
}

/// True when both texts give numbers and none is shared: "3号楼" and "12号院" are different
/// buildings, a strong sign of different problems next door to each other.
pub fn numbers_conflict(a: &[u32], b: &[u32]) -> bool {
    !a.is_empty() && !b.is_empty() && !a.iter().any(|n| b.contains(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_fast_paths_agree_with_the_unicode_definition() {
        let text = "东五路KTV，半夜ＡＢＣ唱歌！Äpfel 12号楼 ⅫⅣ ﹏ 𠀀 ｱｲ Straße";
        let general: Vec<char> = text
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        assert_eq!(normalise(text), general);
    }

    #[test]
    fn bigram_similarity_is_high_for_rewordings_and_low_for_other_problems() {
        let a = bigrams(&["东五路西侧路口的KTV半夜唱歌声音很大"], 64);
        let b = bigrams(&["东五路西侧路口KTV半夜唱歌，声音很大！"], 64);
        let c = bigrams(&["桃农小区下水管道堵塞"], 64);
        assert!(jaccard(&a, &b) > 0.8, "{}", jaccard(&a, &b));
        assert!(jaccard(&a, &c) < 0.1);
        assert_eq!(jaccard(&[], &[]), 0.0);
    }

    #[test]
    fn a_shorter_address_inside_a_longer_one_overlaps_fully() {
        let short = bigrams(&["东五路"], 32);
        let long = bigrams(&["新城区解放门街道东五路"], 32);
        assert_eq!(overlap(&short, &long), 1.0);
    }

    #[test]
    fn distance_matches_a_known_pair() {
        // Two points 0.001 degree of latitude apart: about 111 m.
        let d = distance_m((34.27, 108.89), (34.271, 108.89));
        assert!((d - 111.2).abs() < 0.5, "{d}");
        assert_eq!(place_by_distance(100.0, 150.0, 250.0), Some(1.0));
        assert_eq!(place_by_distance(200.0, 150.0, 250.0), Some(0.5));
        assert_eq!(place_by_distance(300.0, 150.0, 250.0), None);
    }

    #[test]
    fn spots_after_the_common_name_conflict_only_when_both_are_given() {
        let c = |a: &str, b: &str| spot_conflict(&normalise(a), &normalise(b));
        assert_eq!(
            c(
                "莲湖区土门街道惠民北坊社区3号楼",
                "莲湖区土门街道惠民北坊社区12号院"
            ),
            1.0
        );
        assert_eq!(
            c("莲湖区惠民北坊社区附近西侧路口", "土门街道惠民北坊社区"),
            0.0
        );
        assert_eq!(
            c("雁塔区长安中路附近南门", "雁塔区小寨路街道长安中路南门"),
            0.0
        );
        assert!(c("桃农小区附近北门口", "桃农小区附近南门") > 0.5);
    }

    #[test]
    fn different_numbers_conflict_and_missing_numbers_do_not() {
        let a = numbers(&["惠民北坊社区3号楼", "3号楼楼下"], 4);
        assert_eq!(a, [3]);
        let b = numbers(&["惠民北坊社区12号院"], 4);
        assert!(numbers_conflict(&a, &b));
        assert!(!numbers_conflict(&a, &[]));
        assert!(!numbers_conflict(&a, &[3, 12]));
    }

    #[test]
    fn hashes_are_stable() {
        // Written to the store: a change here would silently change decisions after upgrades.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }
}
