//! No two files of the server or of the engine import each other, directly
//! or around a circle: a file's `use crate::`, `use super::`, `use self::`
//! and `use child::` lines and its paths through `crate::`, `super::` or a
//! child module are its imports. A module that declares children may use
//! them; a child that uses its parent back closes a circle. An inline
//! module (`mod tests { ... }`) is a node of its own, named after its file:
//! its imports are not its file's, as its file does not use it.
//!
//! The reading is lexical (comments and literals are blanked first), enough
//! for the code of these two crates: `#[path]` attributes and macros that
//! build paths are not followed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module's path from the crate root, `[]` for the root itself.
type ModPath = Vec<String>;

/// The source with comments and the contents of string and character
/// literals replaced by spaces (new lines kept).
fn code_of(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && matches!(next, Some('"') | Some('#'))
            && !chars
                .get(i.wrapping_sub(1))
                .is_some_and(|p| p.is_alphanumeric() || *p == '_')
            && raw_string_hashes(&chars, i + 1).is_some()
        {
            let hashes = raw_string_hashes(&chars, i + 1).unwrap_or(0);
            // r, the hashes and the opening quote
            for _ in 0..hashes + 2 {
                out.push(' ');
            }
            i += hashes + 2;
            while i < chars.len() {
                if chars[i] == '"' && (0..hashes).all(|k| chars.get(i + 1 + k) == Some(&'#')) {
                    for _ in 0..hashes + 1 {
                        out.push(' ');
                    }
                    i += hashes + 1;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() {
                match chars[i] {
                    '\\' => {
                        out.push(' ');
                        if let Some(&escaped) = chars.get(i + 1) {
                            out.push(blank(escaped));
                        }
                        i += 2;
                    }
                    '"' => {
                        out.push(' ');
                        i += 1;
                        break;
                    }
                    other => {
                        out.push(blank(other));
                        i += 1;
                    }
                }
            }
        } else if c == '\'' && next == Some('\\') {
            // An escaped character literal: '\n', '\'', '\u{7f}'.
            out.push_str("  ");
            i += 2;
            i += 1; // the escaped character itself
            out.push(' ');
            while i < chars.len() && chars[i] != '\'' {
                out.push(' ');
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && chars.get(i + 2) == Some(&'\'') {
            // A character literal such as '{'; a lifetime has no closing quote.
            out.push_str("   ");
            i += 3;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The number of `#` of a raw string whose `#`s or quote start at `at`.
fn raw_string_hashes(chars: &[char], at: usize) -> Option<usize> {
    let hashes = chars[at..].iter().take_while(|&&c| c == '#').count();
    (chars.get(at + hashes) == Some(&'"')).then_some(hashes)
}

#[derive(Debug, PartialEq)]
enum Token {
    Ident(String),
    PathSep,
    Punct(char),
}

fn tokens(code: &str) -> Vec<Token> {
    let chars: Vec<char> = code.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // A raw identifier, r#name.
            if word == "r" && chars.get(i) == Some(&'#') {
                i += 1;
                continue;
            }
            tokens.push(Token::Ident(word));
        } else if c.is_ascii_digit() {
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            tokens.push(Token::PathSep);
            i += 2;
        } else if c.is_whitespace() {
            i += 1;
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// The paths a use tree names, each from the tree's start to a leaf.
fn use_paths(tree: &[Token]) -> Vec<Vec<String>> {
    fn walk(tree: &[Token], at: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        loop {
            match tree.get(*at) {
                Some(Token::Ident(word)) if word == "as" => {
                    // The alias names nothing of the tree.
                    *at += 2;
                }
                Some(Token::Ident(word)) => {
                    path.push(word.clone());
                    *at += 1;
                }
                Some(Token::PathSep) => *at += 1,
                Some(Token::Punct('{')) => {
                    *at += 1;
                    loop {
                        walk(tree, at, &path, out);
                        match tree.get(*at) {
                            Some(Token::Punct(',')) => *at += 1,
                            Some(Token::Punct('}')) => {
                                *at += 1;
                                break;
                            }
                            _ => break,
                        }
                    }
                    return;
                }
                Some(Token::Punct('*')) => *at += 1,
                _ => break,
            }
        }
        out.push(path);
    }
    let mut out = Vec::new();
    let mut at = 0;
    walk(tree, &mut at, &[], &mut out);
    out
}

/// The module a `.rs` file under `src` holds.
fn module_of(relative: &Path) -> ModPath {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let file = parts.pop().unwrap_or_default();
    let stem = file.trim_end_matches(".rs");
    if !(parts.is_empty() && stem == "lib" || stem == "mod") {
        parts.push(stem.to_string());
    }
    parts
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Resolves a path named inside module `here` to the file that holds the
/// module it reaches, if it reaches one of this crate's.
fn resolve<'a>(
    here: &[String],
    path: &[String],
    files: &'a BTreeMap<ModPath, String>,
) -> Option<&'a String> {
    let mut segments = path.iter().peekable();
    let mut module: ModPath = match segments.peek().map(|s| s.as_str()) {
        Some("crate") => {
            segments.next();
            Vec::new()
        }
        Some("self") => {
            segments.next();
            here.to_vec()
        }
        Some("super") => {
            let mut module = here.to_vec();
            while segments.peek().is_some_and(|s| *s == "super") {
                segments.next();
                module.pop();
            }
            module
        }
        Some(first) => {
            // A child module of `here` (a file); anything else is another
            // crate or an item in scope.
            let mut child = here.to_vec();
            child.push(first.to_string());
            if !files.contains_key(&child) {
                return None;
            }
            here.to_vec()
        }
        None => return None,
    };
    for segment in segments {
        module.push(segment.clone());
        if !files.contains_key(&module) {
            module.pop();
            break;
        }
    }
    // Inside a file's inline modules, the file itself.
    while !files.contains_key(&module) {
        module.pop()?;
    }
    files.get(&module)
}

/// The file-level import graph of the crate whose sources are under `src`.
fn import_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut paths = Vec::new();
    rust_files(src, &mut paths);
    let files: BTreeMap<ModPath, String> = paths
        .iter()
        .map(|p| {
            let relative = p.strip_prefix(src).expect("a file found under src");
            (module_of(relative), relative.to_string_lossy().into_owned())
        })
        .collect();
    let mut graph = BTreeMap::new();
    for path in &paths {
        let relative = path.strip_prefix(src).expect("a file found under src");
        let name = relative.to_string_lossy().into_owned();
        let file_module = module_of(relative);
        let source = std::fs::read_to_string(path).unwrap();
        let tokens = tokens(&code_of(&source));
        let mut add = |here: &[String], inline: &[(String, usize)], named: &[String]| {
            let node = std::iter::once(name.clone())
                .chain(inline.iter().map(|(m, _)| m.clone()))
                .collect::<Vec<_>>()
                .join("::");
            let imports: &mut BTreeSet<String> = graph.entry(node.clone()).or_default();
            if let Some(target) = resolve(here, named, &files) {
                if *target != node {
                    imports.insert(target.clone());
                }
            }
        };
        add(&file_module, &[], &[]);
        // Inline modules (`mod tests { ... }`) open at a brace depth.
        let mut inline: Vec<(String, usize)> = Vec::new();
        let mut depth = 0;
        let mut i = 0;
        while i < tokens.len() {
            let here: ModPath = file_module
                .iter()
                .cloned()
                .chain(inline.iter().map(|(m, _)| m.clone()))
                .collect();
            match &tokens[i] {
                Token::Punct('{') => {
                    depth += 1;
                    i += 1;
                }
                Token::Punct('}') => {
                    if inline.last().is_some_and(|(_, d)| *d == depth) {
                        inline.pop();
                    }
                    depth -= 1;
                    i += 1;
                }
                Token::Ident(word) if word == "mod" => {
                    if let (Some(Token::Ident(module)), Some(Token::Punct('{'))) =
                        (tokens.get(i + 1), tokens.get(i + 2))
                    {
                        depth += 1;
                        inline.push((module.clone(), depth));
                        i += 3;
                    } else {
                        i += 1;
                    }
                }
                Token::Ident(word)
                    if word == "use"
                        && !matches!(
                            i.checked_sub(1).map(|p| &tokens[p]),
                            Some(Token::PathSep)
                        ) =>
                {
                    let end = tokens[i..]
                        .iter()
                        .position(|t| *t == Token::Punct(';'))
                        .map_or(tokens.len(), |p| i + p);
                    let mut tree = &tokens[i + 1..end];
                    if tree.first() == Some(&Token::PathSep) {
                        tree = &tree[1..];
                    }
                    for named in use_paths(tree) {
                        add(&here, &inline, &named);
                    }
                    i = end + 1;
                }
                Token::Ident(first)
                    if tokens.get(i + 1) == Some(&Token::PathSep)
                        && !matches!(
                            i.checked_sub(1).map(|p| &tokens[p]),
                            Some(Token::PathSep)
                        ) =>
                {
                    // A path in code: `crate::a::b`, `super::x`, `child::f`.
                    let mut named = vec![first.clone()];
                    let mut j = i + 1;
                    while let (Some(Token::PathSep), Some(Token::Ident(segment))) =
                        (tokens.get(j), tokens.get(j + 1))
                    {
                        named.push(segment.clone());
                        j += 2;
                    }
                    add(&here, &inline, &named);
                    i = j;
                }
                _ => i += 1,
            }
        }
    }
    graph
}

/// Every circle of the graph, each once, from its smallest file.
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    fn visit(
        file: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
        found: &mut BTreeSet<Vec<String>>,
    ) {
        if let Some(at) = stack.iter().position(|f| f == file) {
            let mut circle: Vec<String> = stack[at..].to_vec();
            let smallest = circle
                .iter()
                .enumerate()
                .min_by_key(|(_, f)| f.as_str())
                .map_or(0, |(k, _)| k);
            circle.rotate_left(smallest);
            found.insert(circle);
            return;
        }
        if done.contains(file) {
            return;
        }
        stack.push(file.to_string());
        for next in graph.get(file).into_iter().flatten() {
            visit(next, graph, stack, done, found);
        }
        stack.pop();
        done.insert(file.to_string());
    }
    let mut found = BTreeSet::new();
    let mut done = BTreeSet::new();
    for file in graph.keys() {
        visit(file, graph, &mut Vec::new(), &mut done, &mut found);
    }
    found.into_iter().collect()
}

fn assert_no_cycle(crate_dir: &Path) {
    let src = crate_dir.join("src");
    let graph = import_graph(&src);
    assert!(
        graph.len() > 1,
        "{} holds no modules to check",
        src.display()
    );
    let circles: Vec<String> = cycles(&graph)
        .into_iter()
        .map(|circle| {
            let mut text = circle.join(" -> ");
            text.push_str(" -> ");
            text.push_str(&circle[0]);
            text
        })
        .collect();
    assert!(
        circles.is_empty(),
        "files of {} import each other: {}",
        src.display(),
        circles.join("; ")
    );
}

#[test]
fn no_file_of_the_server_imports_itself_around_a_circle() {
    assert_no_cycle(Path::new(env!("CARGO_MANIFEST_DIR")));
}

#[test]
fn no_file_of_the_engine_imports_itself_around_a_circle() {
    assert_no_cycle(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../rdpm-engine"));
}

/// The reader itself, on a small crate written for it.
#[test]
fn the_reader_finds_a_circle_through_a_parent_and_not_through_a_declaration() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("api")).unwrap();
    let write = |file: &str, text: &str| std::fs::write(src.join(file), text).unwrap();
    write(
        "lib.rs",
        "mod api;\nmod util;\n// use crate::api::Handler; a comment\nfn f() { let s = \"crate::api\"; }\n",
    );
    write(
        "util.rs",
        "pub fn helper() {}\n#[cfg(test)]\nmod tests {\n    use crate::api::Handler;\n}\n",
    );
    write(
        "api/mod.rs",
        "mod handler;\nmod state;\npub use handler::Handler;\n#[cfg(test)]\nmod tests {\n    use super::*;\n}\n",
    );
    write(
        "api/state.rs",
        "pub struct State;\nfn g() { crate::util::helper(); let c = '{'; }\n",
    );
    write(
        "api/handler.rs",
        "use super::{state::State, Shared as S};\npub struct Handler<'a>(&'a State);\n",
    );
    let graph = import_graph(&src);
    assert_eq!(graph["lib.rs"], BTreeSet::new());
    assert_eq!(graph["util.rs"], BTreeSet::new());
    // The test module uses its file's user, which is no circle.
    assert_eq!(
        graph["util.rs::tests"],
        BTreeSet::from(["api/mod.rs".to_string()])
    );
    assert_eq!(
        graph["api/mod.rs::tests"],
        BTreeSet::from(["api/mod.rs".to_string()])
    );
    assert_eq!(
        graph["api/mod.rs"],
        BTreeSet::from(["api/handler.rs".to_string()])
    );
    assert_eq!(
        graph["api/state.rs"],
        BTreeSet::from(["util.rs".to_string()])
    );
    assert_eq!(
        graph["api/handler.rs"],
        BTreeSet::from(["api/mod.rs".to_string(), "api/state.rs".to_string()])
    );
    assert_eq!(
        cycles(&graph),
        vec![vec!["api/handler.rs".to_string(), "api/mod.rs".to_string()]]
    );
}
