//! Serves the customer chat widget (`/widget.js`) and its demo page (`/widget`).

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The embed script, shipped as written (no build step).
pub const WIDGET_JS: &str = include_str!("../../static/widget.js");
/// The demo product page that hosts the widget.
pub const WIDGET_HTML: &str = include_str!("../../static/widget.html");
/// The demo page's own stylesheet (a file, so the page's CSP needs no inline styles).
pub const DEMO_CSS: &str = include_str!("../../static/demo.css");

/// The demo page may load scripts, styles and sockets from its own origin only.
/// `connect-src 'self'` covers `ws:`/`wss:` to the same host and port in current
/// browsers; the widget styles itself with a constructed stylesheet, which
/// `style-src` does not block. `img-src blob:` lets the widget preview image
/// attachments, which it fetches with the visitor token and shows by object URL.
pub const DEMO_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data: blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

const JS_CACHE: &str = "public, max-age=300";

/// FNV-1a, evaluated at compile time, so the ETag changes exactly when the file does.
const fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
        i += 1;
    }
    hash
}

const JS_HASH: u64 = fnv1a(WIDGET_JS.as_bytes());
const CSS_HASH: u64 = fnv1a(DEMO_CSS.as_bytes());

fn etag(hash: u64, len: usize) -> String {
    format!("\"{hash:016x}-{len:x}\"")
}

/// The routes of the widget; merged into the server's router.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/widget.js", get(widget_js))
        .route("/widget", get(widget_page))
        .route("/widget/demo.css", get(demo_css))
}

async fn widget_js(headers: HeaderMap) -> Response {
    cached(
        &headers,
        "application/javascript; charset=utf-8",
        WIDGET_JS,
        &etag(JS_HASH, WIDGET_JS.len()),
    )
}

async fn demo_css(headers: HeaderMap) -> Response {
    cached(
        &headers,
        "text/css; charset=utf-8",
        DEMO_CSS,
        &etag(CSS_HASH, DEMO_CSS.len()),
    )
}

async fn widget_page() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CONTENT_SECURITY_POLICY, DEMO_CSP),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        WIDGET_HTML,
    )
        .into_response()
}

/// A static file with a strong ETag; a matching `If-None-Match` gets `304`.
fn cached(
    headers: &HeaderMap,
    content_type: &'static str,
    body: &'static str,
    tag: &str,
) -> Response {
    let Ok(tag_value) = HeaderValue::from_str(tag) else {
        // Unreachable: the tag is quoted hex digits. Serve uncached rather than fail.
        return (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
    };
    let common = [
        (header::CACHE_CONTROL, HeaderValue::from_static(JS_CACHE)),
        (header::ETAG, tag_value),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        // Lets sites that set `Cross-Origin-Embedder-Policy` still load the script.
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ),
    ];
    if if_none_match(headers, tag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        StatusCode::OK,
        common,
        [(header::CONTENT_TYPE, content_type)],
        body,
    )
        .into_response()
}

/// `If-None-Match` uses the weak comparison (RFC 9110 §13.1.2): `W/` is ignored.
fn if_none_match(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .any(|candidate| candidate == "*" || candidate.trim_start_matches("W/") == tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, to_bytes};
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get_with(path: &str, extra: &[(&str, &str)]) -> Response {
        let mut req = Request::get(path);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        router::<()>()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap()
    }

    fn header_of<'a>(res: &'a Response, name: &str) -> &'a str {
        res.headers()
            .get(name)
            .unwrap_or_else(|| panic!("missing header {name}"))
            .to_str()
            .unwrap()
    }

    async fn body_text(res: Response) -> String {
        String::from_utf8(to_bytes(res.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn widget_js_is_javascript_cacheable_with_an_etag() {
        let res = get_with("/widget.js", &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            header_of(&res, "content-type"),
            "application/javascript; charset=utf-8"
        );
        assert_eq!(header_of(&res, "cache-control"), "public, max-age=300");
        assert_eq!(header_of(&res, "x-content-type-options"), "nosniff");
        let tag = header_of(&res, "etag").to_owned();
        assert!(
            tag.starts_with('"') && tag.ends_with('"'),
            "strong etag: {tag}"
        );
        assert_eq!(body_text(res).await, WIDGET_JS);
    }

    #[tokio::test]
    async fn matching_if_none_match_gets_304_without_a_body() {
        let tag = get_with("/widget.js", &[]).await.headers()["etag"]
            .to_str()
            .unwrap()
            .to_owned();
        for value in [
            tag.clone(),
            format!("W/{tag}"),
            format!("\"other\", {tag}"),
            "*".to_owned(),
        ] {
            let res = get_with("/widget.js", &[("if-none-match", &value)]).await;
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "for {value}");
            assert_eq!(header_of(&res, "etag"), tag);
            assert_eq!(header_of(&res, "cache-control"), "public, max-age=300");
            assert!(body_text(res).await.is_empty());
        }
        let res = get_with("/widget.js", &[("if-none-match", "\"stale\"")]).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(body_text(res).await.len(), WIDGET_JS.len());
    }

    #[tokio::test]
    async fn demo_page_is_html_uncached_with_a_strict_csp() {
        let res = get_with("/widget", &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header_of(&res, "content-type"), "text/html; charset=utf-8");
        assert_eq!(header_of(&res, "cache-control"), "no-cache");
        assert_eq!(header_of(&res, "x-content-type-options"), "nosniff");
        let csp = header_of(&res, "content-security-policy").to_owned();
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "connect-src 'self'",
            "img-src 'self' data: blob:",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{directive} missing from {csp}");
        }
        assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
        let html = body_text(res).await;
        assert!(html.contains("<script src=\"/widget.js\""));
        assert!(html.contains("href=\"/widget/demo.css\""));
        // The CSP forbids inline code, so the page must have none.
        assert!(!html.contains("<style") && !html.contains(" style=") && !html.contains("onclick"));
        assert_eq!(html.matches("<script").count(), 1);
    }

    #[tokio::test]
    async fn demo_stylesheet_is_css() {
        let res = get_with("/widget/demo.css", &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(header_of(&res, "content-type"), "text/css; charset=utf-8");
        assert_eq!(header_of(&res, "x-content-type-options"), "nosniff");
        assert_eq!(body_text(res).await, DEMO_CSS);
    }

    #[tokio::test]
    async fn head_answers_like_get_without_a_body() {
        let res = router::<()>()
            .oneshot(Request::head("/widget.js").body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            header_of(&res, "content-type"),
            "application/javascript; charset=utf-8"
        );
        assert!(body_text(res).await.is_empty());
    }

    #[test]
    fn widget_script_stays_small_and_never_parses_markup() {
        assert!(
            // Chat, attachments, article suggestions: still one small request.
            WIDGET_JS.len() < 40_000,
            "widget.js is {} bytes",
            WIDGET_JS.len()
        );
        // Text from others goes in with textContent; these would parse it as HTML.
        for sink in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!WIDGET_JS.contains(sink), "widget.js uses {sink}");
        }
        // `tid` is how the script spells data-testid; site owners' tests rely on these.
        for testid in [
            "launcher", "panel", "name", "email", "start", "input", "send", "messages", "rating",
            "attach", "chips", "file",
        ] {
            assert!(
                WIDGET_JS.contains(&format!("tid: '{testid}'")),
                "data-testid {testid} missing"
            );
        }
    }
}
