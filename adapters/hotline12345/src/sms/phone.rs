//! Phone numbers as citizens and call-centre operators write them, normalised to the one form an
//! SMS gateway takes: a mainland mobile number, 11 digits `1[3-9]xxxxxxxxx`. Anything else (a
//! landline, an extension, a foreign number) cannot receive the SMS; the error says which kind
//! it was but never repeats the number, so it can be logged and stored as it is.
use std::fmt;

/// Why a number cannot receive an SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NotMobile {
    #[error("no phone number")]
    Missing,
    #[error("a landline number, not a mobile number")]
    Landline,
    #[error("not a mainland mobile number")]
    Other,
}

/// A mainland mobile number: 11 ASCII digits, `1[3-9]` then 9 more. Personal data: its
/// `Debug` is masked.
#[derive(Clone, PartialEq, Eq)]
pub struct Mobile(String);

impl Mobile {
    /// The 11 digits, as most gateways take them.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// With the country code, `+86…` (E.164), for gateways that want it.
    pub fn e164(&self) -> String {
        format!("+86{}", self.0)
    }
}

impl fmt::Debug for Mobile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Same shape as the gateway's log mask: 138****5678.
        let s = &self.0;
        write!(f, "Mobile({}****{})", &s[..3], &s[7..])
    }
}

/// Normalises `raw` to a mainland mobile number: full-width digits are read as digits; spaces,
/// dashes, dots and parentheses are dropped; a `+86`, `0086` or (before 11 digits) `86` prefix
/// is removed.
pub fn mobile(raw: &str) -> Result<Mobile, NotMobile> {
    let mut s = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            // Full-width forms, as typed with a Chinese input method.
            '０'..='９' => s.push(char::from(b'0' + (c as u32 - '０' as u32) as u8)),
            '＋' => s.push('+'),
            ' ' | '\u{3000}' | '\t' | '-' | '－' | '.' | '(' | ')' | '（' | '）' => {}
            c => s.push(c),
        }
    }
    if s.is_empty() {
        return Err(NotMobile::Missing);
    }
    let national = if let Some(rest) = s.strip_prefix("+86") {
        rest
    } else if let Some(rest) = s.strip_prefix("0086") {
        rest
    } else if s.len() == 13 && s.starts_with("86") {
        &s[2..]
    } else {
        &s
    };
    if !national.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NotMobile::Other);
    }
    let b = national.as_bytes();
    if b.len() == 11 && b[0] == b'1' && (b'3'..=b'9').contains(&b[1]) {
        return Ok(Mobile(national.to_owned()));
    }
    // An area code (0 + 2-3 digits) and a 7-8 digit local number, or the local number alone.
    let landline =
        (b.first() == Some(&b'0') && (10..=12).contains(&b.len())) || (7..=8).contains(&b.len());
    Err(if landline {
        NotMobile::Landline
    } else {
        NotMobile::Other
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_mobiles_in_the_forms_people_write_them() {
        for raw in [
            "13812345678",
            "138 1234 5678",
            "138-1234-5678",
            "+86 138 1234 5678",
            "+8613812345678",
            "008613812345678",
            "8613812345678",
            "１３８１２３４５６７８",
            "＋86 (138) 1234-5678",
        ] {
            assert_eq!(mobile(raw).map(|m| m.0), Ok("13812345678".into()), "{raw}");
        }
        assert_eq!(
            mobile("19912345678").map(|m| m.e164()),
            Ok("+8619912345678".into())
        );
    }

    #[test]
    fn refuses_landlines_and_everything_else() {
        assert_eq!(mobile("029-87654321"), Err(NotMobile::Landline));
        assert_eq!(mobile("010 1234 5678"), Err(NotMobile::Landline));
        assert_eq!(mobile("87654321"), Err(NotMobile::Landline));
        assert_eq!(mobile(""), Err(NotMobile::Missing));
        assert_eq!(mobile("  - "), Err(NotMobile::Missing));
        for raw in [
            "12812345678",  // 12x is not a mobile prefix
            "1381234567",   // 10 digits
            "138123456789", // 12 digits
            "+1 415 555 0100",
            "13812345678转123",
            "abc",
        ] {
            let got = mobile(raw);
            assert!(got.is_err(), "{raw}: {got:?}");
        }
        // The trailing space is dropped: that last one is a mobile after all.
        assert!(mobile("8613812345678 ").is_ok());
    }

    #[test]
    fn debug_is_masked() {
        let m = mobile("13812345678").map(|m| format!("{m:?}"));
        assert_eq!(m, Ok("Mobile(138****5678)".into()));
    }
}
