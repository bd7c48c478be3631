//! The server is laid out by layer (issue 23): the HTTP edge (`src/http/`) may use every domain
//! module, and no domain module uses the HTTP edge — read from the source, so a new import
//! that crosses the line fails here.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The lines of `path` that are code (not `//` comments) and name `needle`.
fn code_lines_naming(path: &Path, needle: &str) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("a source file")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .filter(|l| l.contains(needle))
        .map(|l| format!("{}: {}", path.display(), l.trim()))
        .collect()
}

#[test]
fn no_domain_module_imports_the_http_edge() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let http = src.join("http");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 20, "found the sources: {files:?}");
    let crossing: Vec<String> = files
        .iter()
        .filter(|f| !f.starts_with(&http))
        // The binary and the crate root wire the layers together.
        .filter(|f| !f.ends_with("main.rs") && !f.ends_with("lib.rs"))
        .flat_map(|f| code_lines_naming(f, "crate::http"))
        .collect();
    assert!(
        crossing.is_empty(),
        "domain code importing the HTTP edge:\n{crossing:#?}"
    );
}

#[test]
fn the_check_sees_an_import_when_there_is_one() {
    // Control: the edge itself does import the domain.
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http/app.rs");
    assert!(!code_lines_naming(&app, "crate::").is_empty());
}

/// The top-level modules of `src` and, for each, the others it names in code.
fn module_graph() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let top = |f: &Path| -> String {
        let rel = f.strip_prefix(&src).expect("under src");
        let first = rel.components().next().expect("a component");
        first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned()
    };
    let tops: std::collections::BTreeSet<String> = files
        .iter()
        .map(|f| top(f))
        .filter(|t| t != "lib" && t != "main")
        .collect();
    let mut graph = std::collections::BTreeMap::new();
    for f in &files {
        let from = top(f);
        if !tops.contains(&from) {
            continue;
        }
        let edges: &mut std::collections::BTreeSet<String> = graph.entry(from.clone()).or_default();
        for line in code_lines_naming(f, "crate::") {
            for part in line.split("crate::").skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if tops.contains(&name) && name != from {
                    edges.insert(name);
                }
            }
        }
    }
    graph
}

#[test]
fn there_is_no_import_cycle_between_the_top_level_modules() {
    let graph = module_graph();
    assert!(graph.len() > 10, "{graph:?}");
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut std::collections::BTreeSet<String>,
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
    let mut done = std::collections::BTreeSet::new();
    for node in graph.keys() {
        let cycle = visit(node, &graph, &mut Vec::new(), &mut done);
        assert!(
            cycle.is_none(),
            "an import cycle: {}",
            cycle.unwrap_or_default().join(" → ")
        );
    }
}
