//! A strict, small reader for WeChat's flat `<xml><Field>value</Field>…</xml>` documents, on
//! quick-xml's event reader.
//!
//! Refused outright, never expanded: a DOCTYPE (and with it every entity declaration) and any
//! entity reference other than XML's five predefined ones and character references. That closes
//! XXE and "billion laughs" whatever the rest of the document says. Also refused: a root other
//! than `<xml>`, text outside it, truncation, mismatched tags, nesting deeper than
//! [`MAX_DEPTH`], and more than [`MAX_FIELDS`] fields.
//!
//! Nested fields (some events carry `<ScanCodeInfo><ScanResult>…</ScanResult></ScanCodeInfo>`)
//! are well-formedness-checked but only the root's direct children are kept.
use quick_xml::events::Event;
use quick_xml::reader::Reader;

use crate::error::WechatError;

/// Deepest element nesting accepted (the root counts as 1).
pub const MAX_DEPTH: usize = 8;
/// Most direct children of the root accepted.
pub const MAX_FIELDS: usize = 64;

/// The root's direct children, in document order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first field of that name, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The field's value, trimmed, or `MissingField` when absent or blank.
    pub fn require(&self, name: &'static str) -> Result<&str, WechatError> {
        match self.get(name).map(str::trim) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(WechatError::MissingField(name)),
        }
    }

    /// The field's value trimmed, or "" when absent.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).map_or("", str::trim)
    }
}

fn xml_err(e: impl std::fmt::Display) -> WechatError {
    WechatError::Xml(e.to_string())
}

/// Parses a WeChat XML document. See the module doc for what is refused.
pub fn parse(doc: &str) -> Result<Fields, WechatError> {
    let mut reader = Reader::from_str(doc);
    let cfg = reader.config_mut();
    cfg.check_end_names = true;
    cfg.check_comments = true;
    cfg.expand_empty_elements = false;
    let mut fields = Vec::new();
    // Open elements: 0 before and after the root (a second root is refused by `start_root`).
    let mut depth = 0usize;
    let mut root_seen = false;
    let mut current: Option<(String, String)> = None;
    loop {
        match reader.read_event().map_err(xml_err)? {
            Event::DocType(_) => return Err(WechatError::Dtd("DOCTYPE declaration".into())),
            Event::Decl(_) | Event::Comment(_) => {}
            Event::PI(_) => return Err(xml_err("processing instructions are not accepted")),
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_owned();
                if depth == 0 {
                    start_root(&name, &mut root_seen)?;
                }
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(xml_err(format!("nested deeper than {MAX_DEPTH}")));
                }
                if depth == 2 {
                    current = Some((name, String::new()));
                }
            }
            Event::Empty(e) => {
                let name = e.local_name().as_ref().to_owned();
                match depth {
                    0 => start_root(&name, &mut root_seen)?, // `<xml/>`: no fields
                    1 => push(&mut fields, (name, String::new()))?,
                    _ => {}
                }
            }
            Event::End(_) => {
                if depth == 2
                    && let Some(f) = current.take()
                {
                    push(&mut fields, f)?;
                }
                depth = depth.saturating_sub(1);
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                if depth == 0 && !s.trim().is_empty() {
                    return Err(xml_err("text outside the <xml> element"));
                }
                if let Some((_, v)) = current.as_mut().filter(|_| depth == 2) {
                    v.push_str(&s);
                }
            }
            Event::CData(c) => {
                if depth == 0 {
                    return Err(xml_err("CDATA outside the <xml> element"));
                }
                if let Some((_, v)) = current.as_mut().filter(|_| depth == 2) {
                    v.push_str(&c.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().map_err(xml_err)? {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_xml_entity(&r)
                        .ok_or_else(|| WechatError::Dtd(format!("entity reference &{};", &*r)))?
                        .to_owned(),
                };
                if depth == 0 {
                    return Err(xml_err("reference outside the <xml> element"));
                }
                if let Some((_, v)) = current.as_mut().filter(|_| depth == 2) {
                    v.push_str(&resolved);
                }
            }
            Event::Eof => break,
        }
    }
    if !root_seen {
        return Err(xml_err("empty document; expected <xml>…</xml>"));
    }
    if depth != 0 {
        return Err(xml_err("truncated: the document ends inside an element"));
    }
    Ok(Fields(fields))
}

fn start_root(name: &str, seen_root: &mut bool) -> Result<(), WechatError> {
    if *seen_root {
        return Err(xml_err("more than one root element"));
    }
    if name != "xml" {
        return Err(xml_err(format!("root element is <{name}>, expected <xml>")));
    }
    *seen_root = true;
    Ok(())
}

fn push(fields: &mut Vec<(String, String)>, f: (String, String)) -> Result<(), WechatError> {
    if fields.len() >= MAX_FIELDS {
        return Err(xml_err(format!("more than {MAX_FIELDS} fields")));
    }
    fields.push(f);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cdata_text_and_references() {
        let f = parse(
            "<?xml version=\"1.0\"?><xml><ToUserName><![CDATA[gh_1]]></ToUserName>\
             <CreateTime>1348831860</CreateTime><Content>a &lt;b&gt; &#x4E95;&#30422;</Content>\
             <Info><A>deep</A></Info><Empty/></xml>\n",
        )
        .expect("parses");
        assert_eq!(f.get("ToUserName"), Some("gh_1"));
        assert_eq!(f.get("CreateTime"), Some("1348831860"));
        assert_eq!(f.get("Content"), Some("a <b> 井盖"));
        assert_eq!(f.get("Info"), Some(""));
        assert_eq!(f.get("Empty"), Some(""));
        assert_eq!(f.require("Empty"), Err(WechatError::MissingField("Empty")));
    }

    #[test]
    fn refuses_dtd_and_custom_entities() {
        let xxe = "<?xml version=\"1.0\"?><!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\
                   <xml><Content>&x;</Content></xml>";
        assert!(matches!(parse(xxe), Err(WechatError::Dtd(_))));
        let undeclared = "<xml><Content>&lol;</Content></xml>";
        assert!(matches!(parse(undeclared), Err(WechatError::Dtd(_))));
    }

    #[test]
    fn refuses_malformed_and_truncated_documents() {
        for bad in [
            "",
            "   ",
            "<xml><Content>hi</Content>",
            "<xml><Content>hi</xml>",
            "<xml><Content>hi</Contents></xml>",
            "<root><A>1</A></root>",
            "<xml></xml><xml></xml>",
            "junk<xml></xml>",
            "<xml><A>1</A></xml>junk",
            "<xml><A><![CDATA[unterminated</A></xml>",
            "<xml><A>&amp</A></xml>",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        let deep = format!("<xml>{}{}</xml>", "<a>".repeat(20), "</a>".repeat(20));
        assert!(parse(&deep).is_err());
    }
}
