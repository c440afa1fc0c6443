//! The tree's shape, checked on every test run: the top-level modules depend on each other
//! without a cycle (so `db` never points back at the actors that use it), and the store's
//! status words are spelled only inside `db` (and where `domain::status` defines them).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/src");

/// The words the store keeps for statuses and states; elsewhere the enums stand for them.
const STATUS_WORDS: [&str; 5] = [
    "\"pending\"",
    "\"dead\"",
    "\"delivered\"",
    "\"active\"",
    "\"inactive\"",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/db/inbound.rs` → `db`; `src/startup.rs` → `startup`. Binaries (separate crates) and the
/// crate root are not modules of the graph.
fn top_module(path: &Path) -> Option<String> {
    let rel = path.strip_prefix(SRC).ok()?;
    let first = rel.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "bin" | "lib" | "main" | "architecture_tests")).then(|| name.to_owned())
}

/// The code of a file before its test module (tests may use anything).
fn non_test_code(text: &str) -> &str {
    text.find("#[cfg(test)]").map_or(text, |i| &text[..i])
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Top-level modules named by `crate::x` paths and `use crate::{x, y::z}` groups (comments
/// are prose, not dependencies).
fn referenced_modules(code: &str) -> BTreeSet<String> {
    let code: String = code
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut out = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(i) = rest.find("crate::") {
        let before = rest[..i].chars().next_back();
        rest = &rest[i + "crate::".len()..];
        if before.is_some_and(|c| is_ident(c) || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // Names at the group's top level only: `{a, b::{c, d}}` → a, b.
            let (mut depth, mut name, mut expect_name) = (0, String::new(), true);
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => expect_name = true,
                    c if depth == 0 && expect_name && is_ident(c) => name.push(c),
                    _ if !name.is_empty() => {
                        out.insert(std::mem::take(&mut name));
                        expect_name = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                out.insert(name);
            }
            continue;
        }
        let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
        // `crate::write_message!` is a macro, not a module.
        if !name.is_empty() && !rest[name.len()..].starts_with('!') {
            out.insert(name);
        }
    }
    out
}

fn module_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let Some(from) = top_module(&file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let deps = graph.entry(from.clone()).or_default();
        for to in referenced_modules(non_test_code(&text)) {
            if to != from {
                deps.insert(to);
            }
        }
    }
    graph
}

/// A cycle in `graph`, as the path that closes it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_reference_parser_reads_paths_and_groups() {
    let code = "use crate::db::op::write;\nuse crate::{config::Config, domain::{Channel, Scope}};\n\
                crate::write_message!(X);\nlet x = crate::time::now_ms();\n/// see `crate::api`";
    let got: Vec<String> = referenced_modules(code).into_iter().collect();
    assert_eq!(got, ["config", "db", "domain", "time"]);
}

#[test]
fn a_cycle_is_found_and_reported_as_a_path() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    g.entry("a".into()).or_default().insert("b".into());
    g.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&g), None);
    g.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn the_top_level_modules_depend_on_each_other_without_a_cycle() {
    let graph = module_graph();
    assert!(graph.contains_key("db") && graph.contains_key("actors"));
    let cycle = find_cycle(&graph);
    assert_eq!(cycle, None, "module graph: {graph:#?}");
}

#[test]
fn the_store_keeps_its_status_words_to_itself() {
    let mut files = Vec::new();
    rust_files(Path::new(SRC), &mut files);
    let db = Path::new(SRC).join("db");
    let status = Path::new(SRC).join("domain/status.rs");
    let mut found = Vec::new();
    for file in files
        .iter()
        .filter(|f| !f.starts_with(&db) && **f != status)
    {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        for (n, line) in non_test_code(&text).lines().enumerate() {
            if STATUS_WORDS.iter().any(|w| line.contains(w)) {
                found.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "status words outside db:\n{}",
        found.join("\n")
    );
}
