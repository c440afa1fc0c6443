//! openapi.yaml describes exactly the router: every (method, path) registered in
//! `src/api/mod.rs` is in the document and every documented operation is served.

use std::collections::BTreeSet;
use std::path::PathBuf;

use awc::http::{Method, StatusCode};
use serde_json::json;

use crate::admin::admin_vars;
use crate::helpers::spawn_app_with;

type Ops = BTreeSet<(String, String)>;

const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

fn repo_file(path: &str) -> String {
    std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(path)).expect(path)
}

/// The operations under `paths:` (two-space path keys, four-space method keys).
fn documented() -> Ops {
    let doc = repo_file("openapi.yaml");
    let mut ops = Ops::new();
    let mut in_paths = false;
    let mut path: Option<String> = None;
    for line in doc.lines() {
        if !line.starts_with(' ') && !line.is_empty() {
            in_paths = line == "paths:";
            continue;
        }
        if !in_paths {
            continue;
        }
        if let Some(p) = line.strip_prefix("  /") {
            path = Some(format!("/{}", p.trim_end_matches(':')));
        } else if let Some(m) = line.strip_prefix("    ").and_then(|m| m.strip_suffix(':'))
            && METHODS.contains(&m)
        {
            ops.insert((m.to_owned(), path.clone().expect("method under a path")));
        }
    }
    ops
}

/// The first string literal at or after `from`, with the index after it.
fn literal_at(src: &str, from: usize) -> Option<(String, usize)> {
    let start = from + src[from..].find('"')? + 1;
    let end = start + src[start..].find('"')?;
    Some((src[start..end].to_owned(), end + 1))
}

/// The routes registered in `routes()`: `.route("p", web::m())` inside `web::scope("s")` /
/// `web::resource("r")` (nesting by parentheses), and `.route(web::m())` on a resource.
fn registered() -> Ops {
    let src = repo_file("src/api/mod.rs");
    let start = src.find("pub fn routes(").expect("routes()");
    let body: String = src[start..]
        .lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n");
    let body = &body[..body.find("\n}").expect("end of routes()")];
    let mut ops = Ops::new();
    let mut scopes: Vec<(i32, String)> = Vec::new();
    let mut depth = 0i32;
    let mut i = 0;
    while i < body.len() {
        let rest = &body[i..];
        let prefix = || scopes.last().map(|s| s.1.clone()).unwrap_or_default();
        if rest.starts_with("web::scope(") || rest.starts_with("web::resource(") {
            let (lit, _) = literal_at(body, i).expect("scope path");
            scopes.push((depth, prefix() + &lit));
        } else if rest.starts_with(".route(") {
            let after = i + ".route(".len();
            let (path, from) = if body[after..].trim_start().starts_with('"') {
                let (lit, end) = literal_at(body, after).expect("route path");
                (prefix() + &lit, end)
            } else {
                (prefix(), after)
            };
            let method = METHODS
                .iter()
                .filter_map(|m| body[from..].find(&format!("web::{m}()")).map(|at| (at, *m)))
                .min()
                .expect("a method guard")
                .1;
            ops.insert((
                method.to_owned(),
                if path.is_empty() { "/".into() } else { path },
            ));
        }
        match body.as_bytes()[i] {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                scopes.retain(|(d, _)| *d <= depth);
            }
            _ => {}
        }
        i += 1;
    }
    ops
}

#[test]
fn every_route_is_documented_and_every_documented_operation_is_routed() {
    let (doc, routes) = (documented(), registered());
    assert!(routes.len() >= 20, "the scan found the routes: {routes:?}");
    let undocumented: Vec<_> = routes.difference(&doc).collect();
    assert!(
        undocumented.is_empty(),
        "add to openapi.yaml: {undocumented:?}"
    );
    let unrouted: Vec<_> = doc.difference(&routes).collect();
    assert!(
        unrouted.is_empty(),
        "documented but not routed: {unrouted:?}"
    );
}

#[actix_web::test]
async fn every_documented_operation_reaches_a_handler_or_its_guard() {
    let app = spawn_app_with(admin_vars()).await;
    // Served only when the channel's webhook is configured; otherwise the handler answers 404.
    let conditional = ["/v1/ingress/telegram", "/v1/ingress/whatsapp"];
    for (method, path) in documented() {
        if conditional.contains(&path.as_str()) {
            continue;
        }
        let concrete = path
            .replace("{id}", "tenant-a")
            .replace("{keyId}", "key_x")
            .replace("{eventId}", "tg:1");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let reply = app
            .call(method.clone(), &concrete, None, Some(json!({})))
            .await;
        assert_ne!(
            reply.status,
            StatusCode::NOT_FOUND,
            "{method} {path} is not routed"
        );
        assert_ne!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
    }
    app.stop().await;
}
