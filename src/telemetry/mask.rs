//! Masking of personal data for logs and error messages. Logs leave the e-government network
//! (log shippers, vendors' support): a phone number or name in them is a leak. Anything that
//! identifies a citizen goes through one of these before it is formatted.
use std::fmt;

/// `13812345678` → `138****5678`; short values keep only their last two characters.
pub fn phone(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    match chars.len() {
        0 => String::new(),
        n if n >= 7 => format!(
            "{}****{}",
            chars[..3].iter().collect::<String>(),
            chars[n - 4..].iter().collect::<String>()
        ),
        n => format!(
            "{}{}",
            "*".repeat(n.saturating_sub(2)),
            chars[n.saturating_sub(2)..].iter().collect::<String>()
        ),
    }
}

/// `张三丰` → `张**`: the family name alone identifies no one.
pub fn name(v: &str) -> String {
    let mut c = v.chars();
    match c.next() {
        None => String::new(),
        Some(first) => format!("{first}{}", "*".repeat(c.count())),
    }
}

/// `zhang.san@example.cn` → `z***@example.cn`.
pub fn email(v: &str) -> String {
    match v.split_once('@') {
        Some((user, domain)) => format!(
            "{}***@{domain}",
            user.chars().next().map(String::from).unwrap_or_default()
        ),
        None => "***".into(),
    }
}

/// A WeChat openid: first 4 characters and the length, enough to correlate log lines.
pub fn openid(v: &str) -> String {
    format!(
        "{}…({})",
        v.chars().take(4).collect::<String>(),
        v.chars().count()
    )
}

/// A reporter, masked, for `tracing` fields: `reporter = %Masked(&r)`.
pub struct MaskedReporter<'a>(pub &'a crate::pb::Reporter);

impl fmt::Display for MaskedReporter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self.0;
        write!(
            f,
            "name={} phone={} openid={} email={}",
            name(&r.name),
            phone(&r.phone),
            openid(&r.wechat_openid),
            email(&r.email)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_hide_the_identifying_part() {
        assert_eq!(phone("13812345678"), "138****5678");
        assert_eq!(phone("110"), "*10");
        assert_eq!(phone(""), "");
        assert_eq!(name("张三丰"), "张**");
        assert_eq!(email("zhang.san@example.cn"), "z***@example.cn");
        assert_eq!(openid("oABCDEFGHIJKLMN"), "oABC…(15)");
        let r = crate::pb::Reporter {
            name: "李四".into(),
            phone: "13987654321".into(),
            ..Default::default()
        };
        let s = MaskedReporter(&r).to_string();
        assert!(!s.contains("13987654321") && !s.contains("李四"), "{s}");
    }
}
