//! Open311 GeoReport v2 (<https://wiki.open311.org/GeoReport_v2>), so existing Open311 apps and
//! tools work unchanged: the service-request form post ([`Post`], [`translate_post`]), API keys
//! ([`ApiKeys`]) and the answers in JSON and XML ([`render`]).
//!
//! A post becomes a request on [`OPEN311_CHANNEL`](crate::OPEN311_CHANNEL) with
//! `source_system` `open311:<api key name>`, `category` = `service_code` and `source_id`
//! `client:<client_request_id>` when the client sends that (a Minhu extension) or
//! `sha256:<hex>` of the form's fields (api_key excepted), so a double POST is a replay.
use std::collections::{BTreeMap, HashMap};

use crate::taxonomy::Taxonomy;
use minhu_adapter::geo;

use crate::{Open311Error, extra, is_http_url, pb, sha256_hex};

pub mod render;

/// Output format, from the path's extension (`.json` when there is none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `name.json` / `name.xml` into the name and the format; no extension is JSON.
    pub fn split(file: &str) -> (&str, Format) {
        if let Some(n) = file.strip_suffix(".xml") {
            (n, Format::Xml)
        } else {
            (file.strip_suffix(".json").unwrap_or(file), Format::Json)
        }
    }
}

/// Configured API keys, kept as SHA-256 hex of the key (never the key itself).
#[derive(Debug, Clone, Default)]
pub struct ApiKeys {
    keys: Vec<(String, [u8; 32])>,
}

impl ApiKeys {
    /// Adds a key by name and lower- or upper-case hex SHA-256; false if the hash is not 64 hex.
    pub fn add(&mut self, name: &str, sha256_hex: &str) -> bool {
        let mut h = [0u8; 32];
        if hex::decode_to_slice(sha256_hex.trim(), &mut h).is_err() {
            return false;
        }
        self.keys.push((name.to_owned(), h));
        true
    }

    /// The name of the key `given`, comparing hashes in constant time.
    pub fn check(&self, given: &str) -> Option<&str> {
        use sha2::Digest;
        if given.is_empty() {
            return None;
        }
        let h: [u8; 32] = sha2::Sha256::digest(given.as_bytes()).into();
        let mut found = None;
        // Every configured key is compared, whatever matched, so timing tells nothing either.
        for (name, want) in &self.keys {
            if bool::from(subtle::ConstantTimeEq::ct_eq(&h[..], &want[..])) && found.is_none() {
                found = Some(name.as_str());
            }
        }
        found
    }
}

/// A service-request post, fields as given (`application/x-www-form-urlencoded`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Post {
    /// Every field but the attributes, by name (a repeated key keeps its last value).
    pub fields: BTreeMap<String, String>,
    /// `attribute[code]=v` (and `attribute[code][]=v`, joined with commas).
    pub attributes: BTreeMap<String, String>,
}

impl Post {
    /// Parses the urlencoded body (UTF-8).
    pub fn from_urlencoded(body: &[u8]) -> Post {
        let mut p = Post::default();
        for (k, v) in form_urlencoded::parse(body) {
            if let Some(rest) = k.strip_prefix("attribute[") {
                let code = rest.trim_end_matches("[]").trim_end_matches(']').to_owned();
                p.attributes
                    .entry(code)
                    .and_modify(|old| {
                        old.push(',');
                        old.push_str(&v);
                    })
                    .or_insert_with(|| v.clone().into_owned());
            } else {
                p.fields.insert(k.into_owned(), v.into_owned());
            }
        }
        p
    }

    /// A field, trimmed; empty when absent.
    pub fn get(&self, key: &str) -> &str {
        self.fields.get(key).map_or("", |v| v.trim())
    }

    /// SHA-256 over the fields (api_key excepted) and attributes, in key order.
    fn hash(&self) -> String {
        let mut buf = Vec::new();
        let fields = self.fields.iter().filter(|(k, _)| k.as_str() != "api_key");
        for (k, v) in fields.chain(self.attributes.iter()) {
            buf.extend_from_slice(k.as_bytes());
            buf.push(0);
            buf.extend_from_slice(v.as_bytes());
            buf.push(0);
        }
        sha256_hex(&buf)
    }
}

fn degrees(p: &Post, key: &str) -> Result<Option<f64>, Open311Error> {
    match p.get(key) {
        "" => Ok(None),
        v => v
            .parse::<f64>()
            .map(Some)
            .map_err(|_| Open311Error::bad_request(format!("{key} must be a number of degrees"))),
    }
}

/// Translates a post made with the key named `key_name`. The service must be in `taxonomy`
/// (404 otherwise); a location (lat/long, address_string or address_id) is required (400).
pub fn translate_post(
    p: &Post,
    key_name: &str,
    taxonomy: &Taxonomy,
) -> Result<pb::Request, Open311Error> {
    let code = p.get("service_code");
    if code.is_empty() {
        return Err(Open311Error::bad_request("service_code is required"));
    }
    let service = taxonomy.get(code).ok_or_else(|| {
        let shown: String = code.chars().take(64).collect();
        Open311Error::not_found(format!("service_code {shown} is not a service here"))
    })?;
    let mut location = pb::Location {
        address: p.get("address_string").to_owned(),
        ..Default::default()
    };
    match (degrees(p, "lat")?, degrees(p, "long")?) {
        (None, None) => {}
        (Some(lat), Some(lng)) => {
            geo::set_position(&mut location, lat, lng, pb::CoordinateSystem::Wgs84).map_err(
                |_| {
                    Open311Error::bad_request(
                        "lat must be within ±90 and long within ±180 degrees (WGS-84)",
                    )
                },
            )?;
        }
        _ => return Err(Open311Error::bad_request("lat and long go together")),
    }
    let address_id = p.get("address_id");
    if !location.has_coordinates && location.address.is_empty() && address_id.is_empty() {
        return Err(Open311Error::bad_request(
            "a location is required: lat and long, address_string or address_id",
        ));
    }
    let mut extra = HashMap::new();
    for (key, name) in [
        (extra::DEVICE_ID, "device_id"),
        (extra::ACCOUNT_ID, "account_id"),
        (extra::ADDRESS_ID, "address_id"),
    ] {
        if !p.get(name).is_empty() {
            extra.insert(key.to_owned(), p.get(name).to_owned());
        }
    }
    for (k, v) in &p.attributes {
        extra.insert(format!("{}{k}", extra::ATTRIBUTE_PREFIX), v.clone());
    }
    let media = p.get("media_url");
    let mut attachments = Vec::new();
    if !media.is_empty() {
        if !is_http_url(media) {
            return Err(Open311Error::bad_request(
                "media_url must be an http or https URL",
            ));
        }
        attachments.push(pb::Attachment {
            url: media.to_owned(),
            ..Default::default()
        });
    }
    let (first, last) = (p.get("first_name"), p.get("last_name"));
    // Chinese names are family name first, without a space; Latin ones "first last".
    let name = if (first.is_ascii() && last.is_ascii()) || first.is_empty() || last.is_empty() {
        format!("{first} {last}").trim().to_owned()
    } else {
        format!("{last}{first}")
    };
    let client_id = p.get("client_request_id");
    if client_id.chars().count() > 64 || client_id.chars().any(char::is_control) {
        return Err(Open311Error::bad_request(
            "client_request_id must be at most 64 printable characters",
        ));
    }
    let source_id = if client_id.is_empty() {
        format!("sha256:{}", p.hash())
    } else {
        format!("client:{client_id}")
    };
    let description = match p.get("description") {
        "" => service.name.clone(),
        d => d.to_owned(),
    };
    Ok(pb::Request {
        channel: crate::OPEN311_CHANNEL as i32,
        source_system: format!("open311:{key_name}"),
        source_id,
        request_type: pb::RequestType::Complaint as i32,
        category: service.code.clone(),
        title: service.name.clone(),
        description,
        location: Some(location),
        reporter: Some(pb::Reporter {
            name,
            phone: p.get("phone").to_owned(),
            email: p.get("email").to_owned(),
            ..Default::default()
        }),
        attachments,
        extra,
        ..Default::default()
    })
}
