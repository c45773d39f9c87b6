//! The complaint taxonomy (`config/taxonomy.toml`): category codes with the name operators see,
//! the department that usually handles them and the words citizens use. Every category is an
//! Open311 service: `service_code` = code, `service_name` = name, `group` = the code's part
//! before the first dot, `keywords` = the words.
use serde::Deserialize;

/// One category.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Category {
    /// Stable code, e.g. `road.pothole`.
    pub code: String,
    /// What operators and citizens see, e.g. `道路坑洼破损`.
    pub name: String,
    /// The department that usually handles it in the sample city.
    #[serde(default)]
    pub dept: String,
    /// Words citizens use.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// A longer description for Open311's `description` (default: the name).
    #[serde(default)]
    pub description: String,
}

impl Category {
    /// The Open311 `group`: the code up to its first dot.
    pub fn group(&self) -> &str {
        self.code.split('.').next().unwrap_or_default()
    }
}

/// The whole taxonomy, in file order.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Taxonomy {
    #[serde(default, rename = "category")]
    pub categories: Vec<Category>,
}

impl Taxonomy {
    /// Parses the TOML text and checks that codes are unique, non-empty and made of
    /// `[a-z0-9._-]`. The error names the problem.
    pub fn from_toml(text: &str) -> Result<Taxonomy, String> {
        let t: Taxonomy = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut seen = std::collections::HashSet::new();
        for (i, c) in t.categories.iter().enumerate() {
            let ok = !c.code.is_empty()
                && c.code.len() <= 64
                && c.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
            if !ok {
                return Err(format!(
                    "category[{i}].code must be 1 to 64 of a-z, 0-9, '.', '_', '-'"
                ));
            }
            if c.name.trim().is_empty() {
                return Err(format!("category[{i}].name must not be empty"));
            }
            if !seen.insert(c.code.as_str()) {
                return Err(format!("category[{i}].code {:?} appears twice", c.code));
            }
        }
        Ok(t)
    }

    /// The category with this code.
    pub fn get(&self, code: &str) -> Option<&Category> {
        self.categories.iter().find(|c| c.code == code)
    }
}
