//! The crate's top-level modules and who imports whom, read from the source: every
//! `crate::<module>` path in code (in `use` lines, grouped `crate::{a, b}` imports and inline
//! paths alike), with comments and string literals left out.
//!
//! The outbox sits between the store, which writes its rows, and the relay (`dispatch`), which
//! publishes them; it must import neither, and neither may import the other. More generally, a
//! module that imports one that imports it back is a cycle a reader cannot follow. Some such
//! pairs are older than this test (mostly `config`, whose sections name other modules' types,
//! and `telemetry`, whose registry holds other modules' gauges); they are listed in
//! [`KNOWN_PAIRS`] so that the test fails on any new pair, and on a listed pair that no longer
//! exists (so the list only shrinks).
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Pairs of modules that import each other today, each written once, alphabetically.
const KNOWN_PAIRS: &[(&str, &str)] = &[
    ("clocks", "router"),
    ("config", "merge"),
    ("config", "notify"),
    ("config", "protect"),
    ("config", "router"),
    ("config", "store"),
    ("console", "store"),
    ("handling", "intake"),
    ("handling", "store"),
    ("intake", "protect"),
    ("intake", "router"),
    ("merge", "store"),
    ("notify", "store"),
    ("notify", "telemetry"),
    ("router", "store"),
    ("router", "telemetry"),
];

/// Modules that must be on no cycle at all, however long.
const ACYCLIC: &[&str] = &["outbox", "db", "json", "time"];

type Graph = BTreeMap<String, BTreeMap<String, BTreeSet<PathBuf>>>;

/// Modules that import nothing that imports them back.
const NO_PAIRS: &[&str] = &["outbox", "dispatch", "db", "json", "time"];

#[test]
fn the_outbox_imports_neither_the_store_nor_the_relay() {
    let g = graph();
    let outbox = g.get("outbox").expect("src/outbox exists");
    for m in ["store", "dispatch", "notify", "handling", "intake"] {
        assert!(
            !outbox.contains_key(m),
            "outbox imports {m}: {:?}",
            outbox.get(m)
        );
    }
    for (a, b) in [("store", "dispatch"), ("dispatch", "store")] {
        assert!(
            !g[a].contains_key(b),
            "{a} imports {b}: {:?} (what both need belongs in outbox)",
            g[a].get(b)
        );
    }
    assert!(g["store"].contains_key("outbox") && g["dispatch"].contains_key("outbox"));
}

#[test]
fn no_new_pair_of_modules_imports_each_other() {
    let g = graph();
    let mut found = BTreeSet::new();
    for (a, targets) in &g {
        for b in targets.keys() {
            if a < b && g.get(b).is_some_and(|t| t.contains_key(a)) {
                found.insert((a.clone(), b.clone()));
            }
        }
    }
    let known: BTreeSet<(String, String)> = KNOWN_PAIRS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let new: Vec<String> = found
        .difference(&known)
        .map(|(a, b)| format!("{a} <-> {b}: {a} in {:?}, {b} in {:?}", g[a][b], g[b][a]))
        .collect();
    assert!(
        new.is_empty(),
        "modules that import each other:\n{}",
        new.join("\n")
    );
    for m in NO_PAIRS {
        assert!(
            !KNOWN_PAIRS.iter().any(|(a, b)| a == m || b == m),
            "{m} must import nothing that imports it back"
        );
    }
    let gone: Vec<_> = known.difference(&found).collect();
    assert!(
        gone.is_empty(),
        "no longer import each other, take them off KNOWN_PAIRS: {gone:?}"
    );
}

#[test]
fn the_shared_layers_are_on_no_cycle() {
    let g = graph();
    for m in ACYCLIC {
        let back: Vec<&String> = reachable(&g, m)
            .into_iter()
            .filter(|n| reachable(&g, n).iter().any(|r| r == m))
            .collect();
        assert!(back.is_empty(), "{m} is on a cycle through {back:?}");
    }
}

#[test]
fn the_reader_sees_every_kind_of_import() {
    let code = strip(
        r##"use crate::a::X; // crate::commented
        use crate::{b, c::{D, E}};
        /* crate::block /* nested crate::n */ */
        let s = "crate::in_string"; let r = r#"crate::raw"#; let c = '"';
        fn f<'a>(x: &'a str) -> crate::d::T { crate::e::f() }"##,
    );
    let mut mods: Vec<String> = crate_paths(&code).into_iter().collect();
    mods.sort();
    assert_eq!(mods, ["a", "b", "c", "d", "e"]);
}

/// Module → module it imports → the files that do.
fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut g = Graph::new();
    for file in rust_files(&src) {
        let rel = file.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("non-empty");
        let name = first.as_os_str().to_string_lossy();
        let module = name.trim_end_matches(".rs").to_string();
        if ["lib", "main", "bin"].contains(&module.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("readable source");
        let entry = g.entry(module.clone()).or_default();
        for target in crate_paths(&strip(&text)) {
            if target != module && target != "pb" {
                entry.entry(target).or_default().insert(rel.to_path_buf());
            }
        }
    }
    g
}

fn reachable<'g>(g: &'g Graph, from: &str) -> BTreeSet<&'g String> {
    let mut seen = BTreeSet::new();
    let mut todo: Vec<&String> = g.get(from).map(|t| t.keys().collect()).unwrap_or_default();
    while let Some(n) = todo.pop() {
        if seen.insert(n) {
            todo.extend(g.get(n.as_str()).into_iter().flat_map(|t| t.keys()));
        }
    }
    seen
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("readable dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The top-level modules named after `crate::` in `code`, including each name in a grouped
/// `crate::{…}` import.
fn crate_paths(code: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue; // `$crate::` or `foo_crate::`
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && depth == 0 && (c.is_alphabetic() || c == '_') => {
                        out.insert(ident(&group[i..]).to_string());
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                out.insert(name.to_string());
            }
        }
    }
    out
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// `text` with comments, string and character literals blanked out.
fn strip(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('#') || next == Some('"')) && !ident_before(&chars, i) {
            let hashes = chars[i + 1..].iter().take_while(|&&h| h == '#').count();
            if chars.get(i + 1 + hashes) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            i += 2 + hashes;
            while i < chars.len() {
                if chars[i] == '"'
                    && chars[i + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&h| h == '#')
                        .count()
                        == hashes
                {
                    i += 1 + hashes;
                    break;
                }
                i += 1;
            }
            out.push_str("\"\"");
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && (chars.get(i + 2) == Some(&'\'') || next == Some('\\')) {
            // A character literal ('x', '\n', '\''); a lifetime ('a) has no closing quote.
            i += 1;
            while i < chars.len() && chars[i] != '\'' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}
