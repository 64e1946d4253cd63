//! The dependency rule of the tree, checked on every test run.
//!
//! `src/` is layered by folder (see the README's "Architecture"):
//!
//! ```text
//! cli -> app -> config -> ui, report -> model -> insight -> core
//!               config -> sources ----------------------> core
//!        app -> store -> insight, core
//! ```
//!
//! Imports point down only; siblings on a floor never import each other.
//! This test reads every `crate::`, `self::` and `super::` path in `src/`
//! (comments skipped, `use` groups expanded), resolves it to the module it
//! names, and fails naming each file, line and path that points the wrong
//! way. It also fails on any import circle between files (a module may use
//! its own ancestors, which it is part of; every other edge must be
//! acyclic) and on IO crates used outside the layer that owns them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The top-level modules and what each may import from the crate (besides
/// itself). Written out in full rather than derived, so the table reads as
/// the rule does.
const LAYERS: &[(&str, &[&str])] = &[
    ("core", &[]),
    ("insight", &["core"]),
    ("sources", &["core"]),
    ("store", &["insight", "core"]),
    ("model", &["insight", "core"]),
    ("ui", &["model", "insight", "core"]),
    ("report", &["model", "insight", "core"]),
    (
        "config",
        &["ui", "report", "model", "insight", "sources", "core"],
    ),
    (
        "app",
        &[
            "config", "ui", "report", "model", "insight", "sources", "store", "core",
        ],
    ),
    (
        "cli",
        &[
            "app",
            "config",
            "ui",
            "report",
            "model",
            "insight",
            "sources",
            "store",
            "core",
            "simulator",
        ],
    ),
    // The simulator stands apart: it speaks the vendors' wire formats and
    // shares only the source configuration's defaults with the cockpit.
    ("simulator", &["sources::config"]),
];

/// External crates that only some layers may use: the terminal, SQLite,
/// HTTP clients and task spawning stay at the edges.
const CRATES: &[(&str, &[&str])] = &[
    ("rusqlite", &["store", "sources::resume"]),
    ("postgres", &["store"]),
    ("reqwest", &["sources"]),
    ("crossterm", &["model", "ui", "app"]),
    ("ratatui", &["model", "ui", "app"]),
    ("tokio::spawn", &["app", "simulator", "sources::resume"]),
    ("spawn_blocking", &["app", "simulator", "sources::resume"]),
];

/// One source file: its module path (`insight::health::trend`) and text.
struct File {
    path: String,
    module: Vec<String>,
    text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Finding {
    file: String,
    line: usize,
    message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

fn module_of(relative: &str) -> Vec<String> {
    let stem = relative.trim_end_matches(".rs");
    if stem == "lib" || stem == "main" {
        return Vec::new();
    }
    stem.split('/').map(str::to_owned).collect()
}

fn read_tree(root: &Path) -> Vec<File> {
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src/") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path
                    .strip_prefix(root)
                    .expect("under src/")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push(File {
                    module: module_of(&relative),
                    path: format!("src/{relative}"),
                    text: std::fs::read_to_string(&path).expect("read a source file"),
                });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The text with comments blanked (line numbers kept), so a doc link to a
/// higher layer is not an import.
fn strip_comments(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            if c == b'\\' && i + 1 < bytes.len() {
                out.push_str("  ");
                i += 2;
                continue;
            }
            if c == b'"' {
                in_string = false;
            }
            out.push(if c == b'\n' { '\n' } else { ' ' });
            i += 1;
        } else if c == b'"' {
            in_string = true;
            out.push(' ');
            i += 1;
        } else if text[i..].starts_with("//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if text[i..].starts_with("/*") {
            let end = text[i + 2..]
                .find("*/")
                .map_or(bytes.len(), |e| i + 2 + e + 2);
            for ch in text[i..end].chars() {
                out.push(if ch == '\n' { '\n' } else { ' ' });
            }
            i = end;
        } else if c == b'\'' && i + 2 < bytes.len() && bytes[i + 2] == b'\'' {
            // A char literal such as '"' must not open a string.
            out.push_str("   ");
            i += 3;
        } else if c == b'\''
            && i + 3 < bytes.len()
            && bytes[i + 1] == b'\\'
            && bytes[i + 3] == b'\''
        {
            out.push_str("    ");
            i += 4;
        } else {
            let ch = text[i..].chars().next().expect("a char");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expand a path tail that may hold `{…}` groups into plain paths.
fn expand(tail: &str) -> Vec<Vec<String>> {
    let tail = tail.trim();
    let Some(open) = tail.find('{') else {
        return vec![
            tail.split("::")
                .map(str::trim)
                .filter(|s| !s.is_empty() && *s != "*")
                .map(str::to_owned)
                .collect(),
        ];
    };
    let prefix: Vec<String> = tail[..open]
        .split("::")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let inner = &tail[open + 1..tail.rfind('}').unwrap_or(tail.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    let mut out = Vec::new();
    for part in parts {
        let part = part.split(" as ").next().unwrap_or("").trim();
        if part.is_empty() {
            continue;
        }
        for rest in expand(part) {
            let mut path = prefix.clone();
            path.extend(rest.into_iter().filter(|s| s != "self"));
            out.push(path);
        }
    }
    out
}

/// The inline modules (`mod tests { … }`) open from each offset of a
/// comment- and string-free text on: (offset, their names, outermost
/// first), in order of offset.
fn inline_scopes(text: &str) -> Vec<(usize, Vec<String>)> {
    let bytes = text.as_bytes();
    // Each open inline module: its name and the brace depth outside it.
    let mut open: Vec<(String, usize)> = Vec::new();
    let names = |open: &[(String, usize)]| open.iter().map(|(n, _)| n.clone()).collect();
    let mut scopes = vec![(0, Vec::new())];
    let mut depth = 0usize;
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if open.last().is_some_and(|(_, outside)| *outside == depth) {
                    open.pop();
                    scopes.push((i, names(&open)));
                }
            }
            b'm' if text[i..].starts_with("mod ")
                && !text[..i].chars().next_back().is_some_and(is_ident) =>
            {
                let rest = text[i + 4..].trim_start();
                let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
                if !name.is_empty() && rest[name.len()..].trim_start().starts_with('{') {
                    open.push((name, depth));
                    scopes.push((i, names(&open)));
                }
            }
            _ => {}
        }
    }
    scopes
}

/// Every crate-internal path a file names, absolute, with its line. A
/// path inside an inline module resolves from that module.
fn references(file: &File) -> Vec<(usize, Vec<String>)> {
    let text = strip_comments(&file.text);
    let scopes = inline_scopes(&text);
    let mut out = Vec::new();
    for root in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = text[from..].find(root) {
            let start = from + at;
            from = start + root.len();
            let before = text[..start].chars().next_back();
            if before.is_some_and(|c| is_ident(c) || c == ':' || c == '$') {
                continue;
            }
            // The path runs while it is made of identifiers, `::`, and
            // balanced groups.
            let bytes = text.as_bytes();
            let (mut end, mut depth) = (start, 0);
            while end < bytes.len() {
                let c = bytes[end] as char;
                if c == '{' {
                    depth += 1;
                } else if c == '}' {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                } else if !(is_ident(c) || c == ':' || (depth > 0 && " ,\n\r\t*".contains(c))) {
                    break;
                }
                end += 1;
            }
            let line = text[..start].matches('\n').count() + 1;
            let raw = &text[start..end];
            let inline = scopes
                .iter()
                .rev()
                .find(|(at, _)| *at <= start)
                .map_or(&[][..], |(_, names)| &names[..]);
            let module: Vec<String> = file.module.iter().chain(inline).cloned().collect();
            for path in expand(raw) {
                if let Some(absolute) = absolute(&module, &path) {
                    out.push((line, absolute));
                }
            }
        }
    }
    out
}

/// Resolve `crate::…`, `self::…` and `super::…` against the module the
/// path is written in (the file's, or an inline module's inside it). A
/// bare `super` (`use super::*`, its glob dropped) names a module, not an
/// item: nothing to check.
fn absolute(module: &[String], path: &[String]) -> Option<Vec<String>> {
    let (head, rest) = path.split_first()?;
    let mut base = match head.as_str() {
        "crate" => Vec::new(),
        "self" => module.to_vec(),
        "super" => {
            let mut base = module.to_vec();
            base.pop()?;
            base
        }
        _ => return None,
    };
    let mut rest = rest;
    while let Some((first, tail)) = rest.split_first() {
        if first != "super" {
            break;
        }
        base.pop()?;
        rest = tail;
    }
    if head == "super" && rest.is_empty() {
        return None;
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

fn starts_with(path: &[String], prefix: &str) -> bool {
    let prefix: Vec<&str> = prefix.split("::").collect();
    path.len() >= prefix.len() && path.iter().zip(&prefix).all(|(a, b)| a == b)
}

/// The file (module) a path lands in: its longest prefix that is a module.
fn target<'a>(modules: &'a BTreeSet<Vec<String>>, path: &[String]) -> Option<&'a Vec<String>> {
    (1..=path.len())
        .rev()
        .find_map(|n| modules.get(&path[..n].to_vec()))
}

/// Check a tree: wrong-way imports, import circles, IO crates out of place.
fn check(files: &[File]) -> Vec<Finding> {
    let allowed: BTreeMap<&str, &[&str]> = LAYERS.iter().copied().collect();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
    let mut findings = Vec::new();
    let mut edges: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    let index: BTreeMap<&Vec<String>, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (&f.module, i))
        .collect();
    for (i, file) in files.iter().enumerate() {
        let Some(layer) = file.module.first() else {
            continue; // lib.rs / main.rs only declare the layers
        };
        let Some(may) = allowed.get(layer.as_str()) else {
            findings.push(Finding {
                file: file.path.clone(),
                line: 1,
                message: format!("`{layer}` is not a layer of the dependency rule"),
            });
            continue;
        };
        for (line, path) in references(file) {
            let Some(to) = path.first() else { continue };
            if to != layer && !may.iter().any(|m| starts_with(&path, m)) {
                findings.push(Finding {
                    file: file.path.clone(),
                    line,
                    message: format!("{layer} may not import {to} (`crate::{}`)", path.join("::")),
                });
            }
            if let Some(dest) = target(&modules, &path)
                && dest != &file.module
                // A module is part of its ancestors and may use them.
                && !file.module.starts_with(dest)
            {
                edges.entry(i).or_default().insert(index[dest]);
            }
        }
        let code = strip_comments(&file.text);
        for (krate, owners) in CRATES {
            if owners.iter().any(|o| starts_with(&file.module, o)) {
                continue;
            }
            if let Some(at) = code.find(krate) {
                findings.push(Finding {
                    file: file.path.clone(),
                    line: code[..at].matches('\n').count() + 1,
                    message: format!("{layer} may not use `{krate}` (only {})", owners.join(", ")),
                });
            }
        }
    }
    for circle in circles(files.len(), &edges) {
        let mut names: Vec<&str> = circle.iter().map(|&i| files[i].path.as_str()).collect();
        names.sort_unstable();
        findings.push(Finding {
            file: names[0].to_owned(),
            line: 1,
            message: format!(
                "import circle of {} files: {}",
                names.len(),
                names.join(" -> ")
            ),
        });
    }
    findings.sort();
    findings
}

/// The strongly connected components of more than one file (Tarjan).
fn circles(n: usize, edges: &BTreeMap<usize, BTreeSet<usize>>) -> Vec<Vec<usize>> {
    struct Tarjan<'a> {
        edges: &'a BTreeMap<usize, BTreeSet<usize>>,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        found: Vec<Vec<usize>>,
    }
    impl Tarjan<'_> {
        fn visit(&mut self, v: usize) {
            self.index[v] = Some(self.next);
            self.low[v] = self.next;
            self.next += 1;
            self.stack.push(v);
            self.on_stack[v] = true;
            let next: Vec<usize> = self.edges.get(&v).into_iter().flatten().copied().collect();
            for w in next {
                match self.index[w] {
                    None => {
                        self.visit(w);
                        self.low[v] = self.low[v].min(self.low[w]);
                    }
                    Some(iw) if self.on_stack[w] => self.low[v] = self.low[v].min(iw),
                    Some(_) => {}
                }
            }
            if Some(self.low[v]) == self.index[v] {
                let mut component = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                if component.len() > 1 {
                    component.sort_unstable();
                    self.found.push(component);
                }
            }
        }
    }
    let mut t = Tarjan {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        found: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            t.visit(v);
        }
    }
    t.found
}

fn src() -> Vec<File> {
    read_tree(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn the_tree_keeps_the_dependency_rule() {
    let findings = check(&src());
    let shown: Vec<String> = findings.iter().map(ToString::to_string).collect();
    assert!(
        findings.is_empty(),
        "{} offending import(s):\n{}",
        findings.len(),
        shown.join("\n")
    );
}

#[test]
fn src_has_at_most_twelve_top_level_modules() {
    let tops: BTreeSet<String> = src()
        .into_iter()
        .filter_map(|f| f.module.first().cloned())
        .collect();
    assert!(
        tops.len() <= 12,
        "{} top-level modules: {tops:?}",
        tops.len()
    );
    let declared: BTreeSet<&str> = LAYERS.iter().map(|(l, _)| *l).collect();
    let found: BTreeSet<&str> = tops.iter().map(String::as_str).collect();
    assert_eq!(
        found, declared,
        "src/ and the rule's table name the same layers"
    );
}

/// The check itself: a wrong-way import planted in a copy of the real tree
/// is found and named with its file, line and path. (An upward import from
/// core also closes a circle through everything that uses core; that
/// finding may come with it, naming the planted file.)
#[test]
fn a_planted_wrong_way_import_is_named() {
    let mut files = src();
    let before = check(&files);
    let domain = files
        .iter_mut()
        .find(|f| f.path == "src/core/domain.rs")
        .expect("core/domain.rs exists");
    domain.text.push_str("\nuse crate::model::Model;\n");
    let planted_line = domain.text.lines().count();
    let added: Vec<Finding> = check(&files)
        .into_iter()
        .filter(|f| !before.contains(f))
        .collect();
    let wrong_way = Finding {
        file: "src/core/domain.rs".into(),
        line: planted_line,
        message: "core may not import model (`crate::model::Model`)".into(),
    };
    assert!(added.contains(&wrong_way), "{added:#?}");
    for other in added.iter().filter(|f| **f != wrong_way) {
        assert!(
            other.message.starts_with("import circle")
                && other.message.contains("src/core/domain.rs"),
            "only the planted import is new: {other}"
        );
    }
}

#[test]
fn grouped_sideways_and_super_imports_are_found() {
    let file = |path: &str, text: &str| File {
        path: format!("src/{path}"),
        module: module_of(path),
        text: text.into(),
    };
    let files = vec![
        file("insight.rs", "pub mod join;\n"),
        file(
            "insight/join.rs",
            "use crate::{core::domain::Inquiry, sources::{http, zendesk::Zendesk}};\n\
             // crate::app::run is only mentioned\n\
             fn f() { super::super::store::open(); }\n",
        ),
        file("sources.rs", "pub mod http;\n"),
        file("sources/http.rs", "use reqwest::Client;\n"),
        file("store.rs", "fn g() { let _ = \"crate::ui\"; }\n"),
        // Inside an inline module `super` is the file: this is
        // `insight::store`, no layer crossed.
        file(
            "insight/kpi.rs",
            "#[cfg(test)]\nmod tests {\n    fn f() { super::super::store::x(); }\n}\n\
             fn g() { if c == '{' { super::join::f(); } }\n",
        ),
        file("core/domain.rs", "use rusqlite::Connection;\n"),
    ];
    let shown: Vec<String> = check(&files).iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "src/core/domain.rs:1: core may not use `rusqlite` (only store, sources::resume)",
            "src/insight/join.rs:1: insight may not import sources (`crate::sources::http`)",
            "src/insight/join.rs:1: insight may not import sources (`crate::sources::zendesk::Zendesk`)",
            "src/insight/join.rs:3: insight may not import store (`crate::store::open`)",
        ]
    );
}

#[test]
fn an_import_circle_is_named() {
    let file = |path: &str, text: &str| File {
        path: format!("src/{path}"),
        module: module_of(path),
        text: text.into(),
    };
    let files = vec![
        file("insight/join.rs", "use crate::insight::health::Band;\n"),
        file("insight/health.rs", "use crate::insight::kpi::Kpis;\n"),
        file("insight/kpi.rs", "use super::join::Derived;\n"),
        // A child using its parent is not a circle.
        file("insight/health/trend.rs", "use super::Band;\n"),
    ];
    let shown: Vec<String> = check(&files).iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        vec![
            "src/insight/health.rs:1: import circle of 3 files: \
             src/insight/health.rs -> src/insight/join.rs -> src/insight/kpi.rs"
        ]
    );
}
