//! A callback body's fields: by dotted path into JSON (`data.phone`, `list.0.id`; numbers
//! read as their text, so a numeric message id works), or by name in a form.
use serde_json::Value;

/// The body's fields, by dotted path (JSON) or name (form).
pub(super) enum Fields {
    Json(Value),
    Form(Vec<(String, String)>),
}

impl Fields {
    pub(super) fn get(&self, field: &str) -> Option<String> {
        match self {
            Fields::Form(pairs) => pairs
                .iter()
                .find(|(k, _)| k == field)
                .map(|(_, v)| v.clone()),
            Fields::Json(v) => match crate::sms::answer::at_path(v, field)? {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            },
        }
    }
}
