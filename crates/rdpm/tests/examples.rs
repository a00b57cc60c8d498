//! The DPM documentation's examples (`../shared/reference/dpm-doc-examples.md`,
//! read in place): every example not marked malformed parses, and every call
//! of a cmdlet rdpm implements binds its parameter names.

use std::path::PathBuf;

fn corpus() -> Option<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/dpm-doc-examples.md");
    std::fs::read_to_string(&path).ok()
}

/// (heading, tags line, code) of every example.
fn examples(text: &str) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let mut heading = String::new();
    let mut tags = String::new();
    let mut code: Option<String> = None;
    for line in text.lines() {
        if let Some(c) = code.as_mut() {
            if line.starts_with("```") {
                out.push((heading.clone(), tags.clone(), std::mem::take(c)));
                code = None;
            } else {
                c.push_str(line);
                c.push('\n');
            }
            continue;
        }
        if let Some(h) = line.strip_prefix("#### ") {
            heading = h.to_string();
            tags.clear();
        } else if line.starts_with('*') && line.ends_with('*') {
            tags = line.to_string();
        } else if line.starts_with("```powershell") {
            code = Some(String::new());
        }
    }
    out
}

#[test]
fn doc_examples_parse() {
    let Some(text) = corpus() else {
        eprintln!("skipped: ../shared/reference/dpm-doc-examples.md is not here (a clone outside the workspace)");
        return;
    };
    let all = examples(&text);
    assert!(
        all.len() > 100,
        "the corpus has its examples: {}",
        all.len()
    );
    let mut parsed = 0;
    let mut failures = Vec::new();
    for (heading, tags, code) in &all {
        if tags.contains("MALFORMED") {
            continue;
        }
        let source = rdpm_shell::span::Source::interactive(code.clone());
        match rdpm_shell::syntax::parse(&source) {
            Ok(_) => parsed += 1,
            Err(e) => failures.push(format!("{heading}: {} ({})\n{code}", e.message, e.error_id)),
        }
    }
    assert!(
        failures.is_empty(),
        "{} examples fail to parse:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!("{parsed} of {} examples parse", all.len());
}
