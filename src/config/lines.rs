//! Line numbers for config problems: validation names a key (`rule[3].rule[0].department`);
//! this finds the line it is on, from the TOML parser's spans, so an operator can jump to it.
use std::collections::HashMap;
use std::path::PathBuf;

use toml::de::{DeTable, DeValue};

use super::problem::Problem;

/// The 1-based line of `key` in the TOML `text`: the deepest part of the key path that exists
/// (so a missing `rule[2].level` points at rule 2). None when not even the first part exists.
pub fn line_of(text: &str, key: &str) -> Option<usize> {
    let root = DeTable::parse(text).ok()?;
    let mut table: &DeTable<'_> = root.get_ref();
    let mut found: Option<std::ops::Range<usize>> = None;
    for part in key.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        let Some(value) = table.get(name) else { break };
        let mut value = value;
        found = Some(value.span());
        if let Some(i) = index {
            let Some(item) = value.get_ref().as_array().and_then(|a| a.get(i)) else {
                break;
            };
            found = Some(item.span());
            value = item;
        }
        match value.get_ref() {
            DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    found.map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1)
}

/// Fills in the line of every problem whose file can be read and whose key is found.
pub fn annotate(problems: &mut [Problem]) {
    let mut texts: HashMap<PathBuf, Option<String>> = HashMap::new();
    for p in problems
        .iter_mut()
        .filter(|p| p.line.is_none() && p.key != "-")
    {
        let text = texts
            .entry(p.file.clone())
            .or_insert_with(|| std::fs::read_to_string(&p.file).ok());
        if let Some(text) = text {
            p.line = line_of(text, &p.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "version = \"v\"\n\n[fallback]\ndepartment = \"c\"\n\n[[rule]]\nid = \"a\"\n\n[[rule]]\nid = \"b\"\ndepartment = \"x\"\n  [[rule.rule]]\n  id = \"c\"\n  level = \"Z\"\n";

    #[test]
    fn keys_map_to_their_lines() {
        assert_eq!(line_of(TEXT, "version"), Some(1));
        assert_eq!(line_of(TEXT, "fallback.department"), Some(4));
        assert_eq!(line_of(TEXT, "rule[1].department"), Some(11));
        assert_eq!(line_of(TEXT, "rule[1].rule[0].level"), Some(14));
        // A missing key points at the nearest part that exists (the rule's header).
        assert_eq!(line_of(TEXT, "rule[0].level"), Some(6));
        assert_eq!(line_of(TEXT, "nothing"), None);
    }
}
