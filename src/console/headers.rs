//! Security headers on every console answer: a strict Content-Security-Policy (no inline
//! script or style, nothing from other origins, no framing), no caching of pages that show
//! cases, no MIME sniffing and no referrer leaving for another site with a case number in it.
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Response;

/// The policy. `connect-src 'self'` lets the page's `EventSource` reach `/console/events`;
/// `form-action 'self'` keeps forms from posting elsewhere even if markup were injected.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
    object-src 'none'; frame-ancestors 'none'";

/// Adds the headers (axum `map_response`).
pub async fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: HeaderName, v: &'static str| {
        h.insert(k, HeaderValue::from_static(v));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CSP);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    // Not `no-referrer`: under it browsers send `Origin: null` on same-origin form posts,
    // which the origin check must then refuse. Other sites still get no referrer.
    set(h, header::REFERRER_POLICY, "same-origin");
    if !h.contains_key(header::CACHE_CONTROL) {
        set(h, header::CACHE_CONTROL, "no-store");
    }
    r
}
