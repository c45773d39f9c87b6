//! Open311 answers in JSON and XML (the XML written with quick-xml, so text is escaped).
//! Element and key names are the GeoReport v2 ones; the XML has the spec's root elements
//! (`services`, `service_definition`, `service_requests`, `errors`).
use std::io;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Value, json};

use super::Format;
use crate::taxonomy::{Category, Taxonomy};
use crate::{Open311Error, pb};

/// A rendered answer: body and media type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    pub content_type: &'static str,
    pub text: String,
}

/// One node of an answer, rendered as JSON or XML alike.
enum Node {
    Text(String),
    Number(f64),
    Int(i64),
    Bool(bool),
    /// A list: JSON array, XML element per item named `item`.
    List(&'static str, Vec<Node>),
    Object(Vec<(&'static str, Node)>),
}

fn text(s: impl Into<String>) -> Node {
    Node::Text(s.into())
}

fn to_json(n: &Node) -> Value {
    match n {
        Node::Text(s) => json!(s),
        Node::Number(x) => json!(x),
        Node::Int(x) => json!(x),
        Node::Bool(b) => json!(b),
        Node::List(_, items) => Value::Array(items.iter().map(to_json).collect()),
        Node::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| ((*k).to_owned(), to_json(v)))
                .collect(),
        ),
    }
}

fn write_xml(w: &mut Writer<Vec<u8>>, name: &str, n: &Node) -> io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    match n {
        Node::Text(s) => w.write_event(Event::Text(BytesText::new(s)))?,
        Node::Number(x) => w.write_event(Event::Text(BytesText::new(&x.to_string())))?,
        Node::Int(x) => w.write_event(Event::Text(BytesText::new(&x.to_string())))?,
        Node::Bool(b) => w.write_event(Event::Text(BytesText::new(&b.to_string())))?,
        Node::List(item, items) => {
            for i in items {
                write_xml(w, item, i)?;
            }
        }
        Node::Object(fields) => {
            for (k, v) in fields {
                write_xml(w, k, v)?;
            }
        }
    }
    w.write_event(Event::End(BytesEnd::new(name)))
}

/// Renders `n` with the XML root element `root`.
fn body(root: &str, n: &Node, f: Format) -> Body {
    match f {
        Format::Json => Body {
            content_type: "application/json; charset=utf-8",
            text: to_json(n).to_string(),
        },
        Format::Xml => {
            let mut w = Writer::new(Vec::new());
            let done = w
                .write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)))
                .and_then(|()| write_xml(&mut w, root, n));
            // Writing into a Vec cannot fail; an empty body would show if it ever did.
            let text = done
                .ok()
                .and_then(|()| String::from_utf8(w.into_inner()).ok())
                .unwrap_or_default();
            Body {
                content_type: "text/xml; charset=utf-8",
                text,
            }
        }
    }
}

fn service(c: &Category) -> Node {
    let description = if c.description.is_empty() {
        &c.name
    } else {
        &c.description
    };
    Node::Object(vec![
        ("service_code", text(&c.code)),
        ("service_name", text(&c.name)),
        ("description", text(description)),
        ("metadata", Node::Bool(false)),
        ("type", text("realtime")),
        ("keywords", text(c.keywords.join(","))),
        ("group", text(c.group())),
    ])
}

/// `GET services.{json,xml}`: every category of the taxonomy.
pub fn services(t: &Taxonomy, f: Format) -> Body {
    let list = t.categories.iter().map(service).collect();
    body("services", &Node::List("service", list), f)
}

/// `GET services/{code}.{json,xml}`: the definition; Minhu's services have no attributes.
pub fn service_definition(c: &Category, f: Format) -> Body {
    let n = Node::Object(vec![
        ("service_code", text(&c.code)),
        ("attributes", Node::List("attribute", Vec::new())),
    ]);
    body("service_definition", &n, f)
}

/// The answer to a post: `[{service_request_id, service_notice, account_id}]`.
pub fn posted(service_request_id: &str, service_notice: &str, account_id: &str, f: Format) -> Body {
    let n = Node::Object(vec![
        ("service_request_id", text(service_request_id)),
        ("service_notice", text(service_notice)),
        ("account_id", text(account_id)),
    ]);
    body("service_requests", &Node::List("request", vec![n]), f)
}

/// The spec's error list, `[{code, description}]`.
pub fn error(e: &Open311Error, f: Format) -> Body {
    let n = Node::Object(vec![
        ("code", Node::Int(i64::from(e.code))),
        ("description", text(&e.description)),
    ]);
    body("errors", &Node::List("error", vec![n]), f)
}

/// `open` until the department reports it done (办结/结案), then `closed`; and a note.
fn status(s: i32, department: &str, result: &str) -> (&'static str, String) {
    use pb::CaseStatus as S;
    match S::try_from(s).unwrap_or(S::Unspecified) {
        S::Unspecified | S::Open => ("open", "已受理 (registered)".into()),
        S::Dispatched => ("open", format!("已派单至 {department} (dispatched)")),
        S::Signed => (
            "open",
            format!("{department} 已签收 (accepted by the department)"),
        ),
        S::InProgress => ("open", format!("{department} 办理中 (in progress)")),
        S::ExtensionRequested => (
            "open",
            format!("{department} 办理中，申请延期 (in progress, extension requested)"),
        ),
        S::Returned => ("open", "退单，待改派 (returned, being re-routed)".into()),
        S::Completed if !result.is_empty() => ("closed", format!("已办结 (completed): {result}")),
        S::Completed => ("closed", "已办结 (completed)".into()),
        S::Closed if !result.is_empty() => ("closed", format!("已结案 (closed): {result}")),
        S::Closed => ("closed", "已结案 (closed)".into()),
    }
}

/// One ticket as an Open311 service request. `requested_datetime` is when the citizen reported
/// it (else when Minhu accepted it); `updated_datetime` is the case's last change (else the
/// acceptance time); `status_notes` carries the department's result once completed;
/// `expected_datetime` is the due date (办理时限).
fn service_request(t: &pb::GetTicketResponse, taxonomy: &Taxonomy) -> Node {
    let r = t.request.clone().unwrap_or_default();
    let (status, notes) = status(t.case_status, &t.department_id, &t.result);
    let name = taxonomy.get(&r.category).map_or("", |c| c.name.as_str());
    let when = |ts: &Option<prost_types::Timestamp>| {
        ts.as_ref()
            .and_then(crate::time::format)
            .unwrap_or_default()
    };
    let requested = r
        .reported_at
        .as_ref()
        .or(t.accepted_at.as_ref())
        .and_then(crate::time::format);
    let loc = r.location.clone().unwrap_or_default();
    let mut fields = vec![
        ("service_request_id", text(&t.ticket_id)),
        ("status", text(status)),
        ("status_notes", text(notes)),
        ("service_name", text(name)),
        ("service_code", text(&r.category)),
        ("description", text(&r.description)),
        ("agency_responsible", text(&t.department_id)),
        ("service_notice", text("")),
        ("requested_datetime", text(requested.unwrap_or_default())),
        (
            "updated_datetime",
            text(when(
                t.updated_at
                    .as_ref()
                    .map_or(&t.accepted_at, |_| &t.updated_at),
            )),
        ),
        ("expected_datetime", text(when(&t.due_at))),
        ("address", text(&loc.address)),
        (
            "address_id",
            text(
                r.extra
                    .get(crate::extra::ADDRESS_ID)
                    .cloned()
                    .unwrap_or_default(),
            ),
        ),
        ("zipcode", text("")),
    ];
    if loc.has_coordinates {
        fields.push(("lat", Node::Number(loc.lat)));
        fields.push(("long", Node::Number(loc.lng)));
    }
    let media = r
        .attachments
        .first()
        .map(|a| a.url.clone())
        .unwrap_or_default();
    fields.push(("media_url", text(media)));
    Node::Object(fields)
}

/// `GET requests/{id}` and `GET requests`: a list of service requests.
pub fn service_requests(tickets: &[pb::GetTicketResponse], taxonomy: &Taxonomy, f: Format) -> Body {
    let list = tickets
        .iter()
        .map(|t| service_request(t, taxonomy))
        .collect();
    body("service_requests", &Node::List("request", list), f)
}
