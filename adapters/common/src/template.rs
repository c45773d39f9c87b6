//! Message templates of the outbound notifiers: plain text with `{name}` placeholders, filled
//! from the facts of a case (`{ticket_id}`, `{result}`, ...). `{{` and `}}` stand for literal
//! braces. Deliberately this small: operators edit these in config files, and a template that
//! names an unknown placeholder is refused when the config is checked, not when a citizen's
//! answer is due.
use std::fmt;

/// A template that does not parse, or names a placeholder the caller does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unclosed '{{' at byte {0} (write '{{{{' for a literal brace)")]
    Unclosed(usize),
    #[error("lone '}}' at byte {0} (write '}}}}' for a literal brace)")]
    LoneClose(usize),
    #[error("unknown placeholder {{{name}}}; known: {known}")]
    Unknown { name: String, known: String },
}

/// A parsed template.
#[derive(Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Template").field(&self.parts).finish()
    }
}

impl Template {
    /// Parses `text`; every placeholder must be one of `known`.
    pub fn parse(text: &str, known: &[&str]) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut lit = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|p| p.1) == Some('{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek().map(|p| p.1) == Some('}') => {
                    chars.next();
                    lit.push('}');
                }
                '}' => return Err(TemplateError::LoneClose(i)),
                '{' => {
                    let rest = &text[i + 1..];
                    let end = rest.find('}').ok_or(TemplateError::Unclosed(i))?;
                    let name = rest[..end].trim();
                    if !known.contains(&name) {
                        return Err(TemplateError::Unknown {
                            name: name.to_owned(),
                            known: known.join(", "),
                        });
                    }
                    if !lit.is_empty() {
                        parts.push(Part::Text(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Var(name.to_owned()));
                    // Skip the name and its closing brace.
                    for _ in 0..rest[..=end].chars().count() {
                        chars.next();
                    }
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            parts.push(Part::Text(lit));
        }
        Ok(Template { parts })
    }

    /// Fills the placeholders from `vars` (name, value); a name missing there renders empty.
    pub fn render(&self, vars: &[(&str, &str)]) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(name) => {
                    if let Some((_, v)) = vars.iter().find(|(k, _)| k == name) {
                        out.push_str(v);
                    }
                }
            }
        }
        out
    }
}

/// Cuts `s` to at most `max` characters (not bytes), ending in `…` when cut: WeChat's template
/// fields and SMS bodies count characters.
pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["ticket_id", "result"];

    #[test]
    fn fills_placeholders_and_keeps_escaped_braces() {
        let t = Template::parse("您的诉求 {ticket_id} 已办结：{ result } {{ok}}", KNOWN).unwrap();
        assert_eq!(
            t.render(&[("ticket_id", "T-1"), ("result", "已修复")]),
            "您的诉求 T-1 已办结：已修复 {ok}"
        );
    }

    #[test]
    fn refuses_unknown_unclosed_and_lone_braces() {
        assert_eq!(
            Template::parse("{nope}", KNOWN),
            Err(TemplateError::Unknown {
                name: "nope".into(),
                known: "ticket_id, result".into()
            })
        );
        assert_eq!(
            Template::parse("办结 {result", KNOWN),
            Err(TemplateError::Unclosed(7))
        );
        assert_eq!(
            Template::parse("a } b", KNOWN),
            Err(TemplateError::LoneClose(2))
        );
    }

    #[test]
    fn truncates_by_characters() {
        assert_eq!(truncate_chars("路灯不亮了很久", 5), "路灯不亮…");
        assert_eq!(truncate_chars("路灯", 5), "路灯");
    }
}
