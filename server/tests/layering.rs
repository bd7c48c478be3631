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
