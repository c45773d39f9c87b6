//! The follow-up form (回访): the one page a follow-up link opens. `GET /v1/feedback/<token>`
//! shows the citizen what they reported and the answer, with three choices (满意 / 基本满意 /
//! 不满意), "solved: yes/no" and a text box; `POST` records the rating through the one rating
//! path ([`Ratings::rate`]). Rendered on the server, no script: it must work in any phone's
//! browser. Every refusal is a page that says what happened in the citizen's words, with
//! the HTTP status a machine would expect.
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sha2::{Digest, Sha256};

use super::HandlingError;
use super::followup_link::{LinkError, Links};
use super::rating::{MAX_TEXT, Ratings};
use crate::pb;
use crate::store::Store;

/// Largest form body accepted (the text box holds at most 2000 characters).
const MAX_BODY: usize = 16 * 1024;

struct Form {
    links: Links,
    ratings: Ratings,
    store: Store,
}

/// The form's routes; none when `[feedback]` is off.
pub fn routes(links: Option<Links>, ratings: Ratings, store: Store) -> Router {
    let Some(links) = links else {
        return Router::new();
    };
    let state = Arc::new(Form {
        links,
        ratings,
        store,
    });
    Router::new()
        .route(
            "/v1/feedback/{token}",
            get(show)
                .post(submit)
                .layer(DefaultBodyLimit::max(MAX_BODY)),
        )
        .with_state(state)
}

async fn show(State(f): State<Arc<Form>>, Path(token): Path<String>) -> Response {
    let ticket_id = match f.links.verify(&token, crate::time::now_ms()) {
        Ok(t) => t,
        Err(e) => return link_refused(e),
    };
    let Ok(Some(t)) = f.store.ticket(&ticket_id).await else {
        return page(
            StatusCode::NOT_FOUND,
            "未找到诉求",
            "<p>没有找到这个链接对应的诉求。</p>",
        );
    };
    let result = match f.store.case_loop(&t.case_id, crate::time::now_ms()).await {
        Ok(Some(l)) => l
            .history
            .iter()
            .rev()
            .find(|h| h.event == "complete")
            .and_then(|h| serde_json::from_str::<serde_json::Value>(&h.detail).ok())
            .and_then(|d| d["detail"]["result"].as_str().map(str::to_owned))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let title = if t.request.title.is_empty() {
        minhu_adapter::template::truncate_chars(&t.request.description, 60)
    } else {
        t.request.title.clone()
    };
    let body = format!(
        r#"<p>诉求编号：{ticket}</p>
<p>您反映的问题：{title}</p>
<p>办理结果：{result}</p>
<form method="post">
<fieldset><legend>您对办理结果是否满意？</legend>
<label><input type="radio" name="satisfaction" value="1" required> 满意</label>
<label><input type="radio" name="satisfaction" value="2"> 基本满意</label>
<label><input type="radio" name="satisfaction" value="3"> 不满意</label>
</fieldset>
<fieldset><legend>问题是否已经解决？</legend>
<label><input type="radio" name="solved" value="yes"> 已解决</label>
<label><input type="radio" name="solved" value="no"> 未解决（将重新交办）</label>
</fieldset>
<p><label for="text">意见或仍存在的问题（未解决时必填）</label><br>
<textarea id="text" name="text" rows="5" maxlength="{MAX_TEXT}"></textarea></p>
<p><button type="submit">提交评价</button></p>
</form>"#,
        ticket = escape(&ticket_id),
        title = escape(&title),
        result = escape(&result),
    );
    page(StatusCode::OK, "办理结果评价", &body)
}

async fn submit(State(f): State<Arc<Form>>, Path(token): Path<String>, body: Bytes) -> Response {
    let ticket_id = match f.links.verify(&token, crate::time::now_ms()) {
        Ok(t) => t,
        Err(e) => return link_refused(e),
    };
    let mut r = pb::RateRequest {
        ticket_id,
        // One rating per link: the same form sent twice is the same rating.
        rating_id: format!("form-{}", &hex(&Sha256::digest(token.as_bytes()))[..32]),
        via: "form".into(),
        ..Default::default()
    };
    for (k, v) in form_urlencoded::parse(&body) {
        match k.as_ref() {
            "satisfaction" => {
                r.satisfaction = match v.as_ref() {
                    "1" => pb::Satisfaction::Satisfied as i32,
                    "2" => pb::Satisfaction::BasicallySatisfied as i32,
                    "3" => pb::Satisfaction::Dissatisfied as i32,
                    _ => -1,
                }
            }
            "solved" => {
                r.solved = match v.as_ref() {
                    "yes" => pb::Solved::Yes as i32,
                    "no" => pb::Solved::No as i32,
                    "" => pb::Solved::Unspecified as i32,
                    _ => -1,
                }
            }
            "text" => r.text = v.replace("\r\n", "\n"),
            _ => {}
        }
    }
    match f.ratings.rate(r, "form", None).await {
        Ok(a) if a.reopened => page(
            StatusCode::OK,
            "感谢您的评价",
            "<p>已收到您的评价。您反映的问题尚未解决，已重新交办承办单位办理（二次办理），办理后将再次答复您。</p>",
        ),
        Ok(a) if a.escalated => page(
            StatusCode::OK,
            "感谢您的评价",
            "<p>已收到您的评价。该问题已提交督办部门跟进。</p>",
        ),
        Ok(_) => page(
            StatusCode::OK,
            "感谢您的评价",
            "<p>已收到您的评价，谢谢！</p>",
        ),
        Err(e) => rating_refused(&e),
    }
}

fn link_refused(e: LinkError) -> Response {
    let (status, text) = match e {
        LinkError::Expired => (
            StatusCode::GONE,
            "该评价链接已过期。如需反映问题，请拨打12345热线。",
        ),
        LinkError::Forged => (StatusCode::FORBIDDEN, "该评价链接无效。"),
        LinkError::Malformed => (
            StatusCode::NOT_FOUND,
            "该评价链接不完整，请从邮件中完整复制链接。",
        ),
    };
    page(status, "链接无效", &format!("<p>{text}</p>"))
}

fn rating_refused(e: &HandlingError) -> Response {
    let (status, text) = match e {
        HandlingError::Invalid(i) => (
            StatusCode::BAD_REQUEST,
            match i.field.as_str() {
                "satisfaction" => "请选择满意、基本满意或不满意。".to_owned(),
                "text" => "问题未解决时，请写明仍存在的问题（不超过2000字）。".to_owned(),
                _ => format!("提交的内容有误（{}）。", escape(&i.field)),
            },
        ),
        HandlingError::Refused { code, .. } if *code == tonic::Code::AlreadyExists as i32 => (
            StatusCode::CONFLICT,
            "您已经评价过本次办理结果，谢谢！".to_owned(),
        ),
        HandlingError::Refused { code, .. } if *code == tonic::Code::FailedPrecondition as i32 => (
            StatusCode::CONFLICT,
            "该诉求正在重新办理中，办理完毕后您将再次收到评价邀请。".to_owned(),
        ),
        HandlingError::Refused { code, .. } if *code == tonic::Code::NotFound as i32 => (
            StatusCode::NOT_FOUND,
            "没有找到这个链接对应的诉求。".to_owned(),
        ),
        _ => (
            StatusCode::SERVICE_UNAVAILABLE,
            "系统繁忙，请稍后再试。".to_owned(),
        ),
    };
    page(status, "未能提交", &format!("<p>{text}</p>"))
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title></head>\n<body><h1>{t}</h1>\n{body}\n</body></html>\n",
        t = escape(title)
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response()
}

/// HTML text and attribute escaping.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_html_would_read() {
        assert_eq!(
            escape(r#"<b>"井盖" & 'x'</b>"#),
            "&lt;b&gt;&quot;井盖&quot; &amp; &#39;x&#39;&lt;/b&gt;"
        );
    }
}
