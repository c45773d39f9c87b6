//! Dates as call-centre systems write them, parsed with a small strftime subset (`%Y %m %d %H
//! %M %S`, `%%`, other characters literal) or the names `unix` (seconds) and `unix_ms`. Local
//! times are converted with a fixed UTC offset (China has one time zone and no summer time).

/// One configured date format, checked when the mapping is compiled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateFormat {
    Unix,
    UnixMs,
    Pattern(Vec<Piece>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Year,
    Month,
    Day,
    Hour,
    Minute,
    Second,
    Literal(char),
}

impl DateFormat {
    /// Parses a format; `Err` says what is wrong with it.
    pub fn parse(f: &str) -> Result<Self, String> {
        match f {
            "unix" => return Ok(DateFormat::Unix),
            "unix_ms" => return Ok(DateFormat::UnixMs),
            _ => {}
        }
        let mut out = Vec::new();
        let mut chars = f.chars();
        while let Some(c) = chars.next() {
            if c != '%' {
                out.push(Piece::Literal(c));
                continue;
            }
            out.push(match chars.next() {
                Some('Y') => Piece::Year,
                Some('m') => Piece::Month,
                Some('d') => Piece::Day,
                Some('H') => Piece::Hour,
                Some('M') => Piece::Minute,
                Some('S') => Piece::Second,
                Some('%') => Piece::Literal('%'),
                other => {
                    return Err(format!(
                        "unsupported directive %{} (use %Y %m %d %H %M %S, or unix / unix_ms)",
                        other.map(String::from).unwrap_or_default()
                    ));
                }
            });
        }
        for (need, name) in [
            (Piece::Year, "%Y"),
            (Piece::Month, "%m"),
            (Piece::Day, "%d"),
        ] {
            if !out.contains(&need) {
                return Err(format!("has no {name}"));
            }
        }
        Ok(DateFormat::Pattern(out))
    }

    /// Unix seconds of `v` (local time at `offset_secs` east of UTC), or None if it does not match.
    pub fn apply(&self, v: &str, offset_secs: i64) -> Option<i64> {
        match self {
            DateFormat::Unix => v.parse::<i64>().ok().filter(|s| *s >= 0),
            DateFormat::UnixMs => v
                .parse::<i64>()
                .ok()
                .filter(|s| *s >= 0)
                .map(|ms| ms / 1000),
            DateFormat::Pattern(p) => pattern(p, v).map(|s| s - offset_secs),
        }
    }
}

fn pattern(pieces: &[Piece], v: &str) -> Option<i64> {
    let b = v.as_bytes();
    let mut i = 0;
    let (mut y, mut mo, mut d, mut h, mut mi, mut s) = (0, 0, 0, 0, 0, 0);
    for p in pieces {
        let (slot, digits) = match p {
            Piece::Literal(c) => {
                let mut buf = [0u8; 4];
                let lit = c.encode_utf8(&mut buf).as_bytes();
                if !b.get(i..)?.starts_with(lit) {
                    return None;
                }
                i += lit.len();
                continue;
            }
            Piece::Year => (&mut y, 4),
            Piece::Month => (&mut mo, 2),
            Piece::Day => (&mut d, 2),
            Piece::Hour => (&mut h, 2),
            Piece::Minute => (&mut mi, 2),
            Piece::Second => (&mut s, 2),
        };
        // Exactly `digits` digits for the year; one or two for the rest (2026/3/5 9:05).
        let start = i;
        while i < b.len() && i - start < digits && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = i - start;
        if n == 0 || (digits == 4 && n != 4) {
            return None;
        }
        *slot = v.get(start..i)?.parse::<i64>().ok()?;
    }
    if i != b.len() || !(1..=12).contains(&mo) || !(0..24).contains(&h) || mi > 59 || s > 60 {
        return None;
    }
    let days =
        minhu_adapter::civil::day_number(y, u32::try_from(mo).ok()?, u32::try_from(d).ok()?)?;
    Some(days * 86_400 + h * 3600 + mi * 60 + s)
}

/// Parses `+08:00` / `-05:30` / `Z` into seconds east of UTC.
pub fn parse_offset(v: &str) -> Option<i64> {
    if v == "Z" {
        return Some(0);
    }
    let (sign, rest) = match v.as_bytes().first()? {
        b'+' => (1, &v[1..]),
        b'-' => (-1, &v[1..]),
        _ => return None,
    };
    let (h, m) = rest.split_once(':')?;
    let (h, m) = (h.parse::<i64>().ok()?, m.parse::<i64>().ok()?);
    ((0..=14).contains(&h) && (0..60).contains(&m)).then_some(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let f = DateFormat::parse("%Y-%m-%d %H:%M:%S").unwrap();
        // 2026-11-22 10:00:00 +08:00 = 02:00 UTC
        assert_eq!(
            f.apply("2026-11-22 10:00:00", 8 * 3600),
            Some(1_795_312_800)
        );
        assert_eq!(f.apply("2026-11-22 10:00", 8 * 3600), None);
        assert_eq!(f.apply("2026-02-30 10:00:00", 0), None);
        let g = DateFormat::parse("%Y年%m月%d日 %H时%M分").unwrap();
        assert_eq!(
            g.apply("2026年11月22日 10时00分", 8 * 3600),
            Some(1_795_312_800)
        );
        let h = DateFormat::parse("%Y/%m/%d %H:%M").unwrap();
        assert_eq!(h.apply("2026/11/22 10:00", 8 * 3600), Some(1_795_312_800));
        assert_eq!(DateFormat::Unix.apply("1795312800", 0), Some(1_795_312_800));
        assert!(DateFormat::parse("%H:%M").is_err());
        assert!(DateFormat::parse("%Y-%m-%d %Z").is_err());
        assert_eq!(parse_offset("+08:00"), Some(28_800));
        assert_eq!(parse_offset("08:00"), None);
    }
}
