//! The layers of docs/architecture.md, checked on the source: every top-level module of
//! `src/` imports only modules of a lower layer (entry points may also use each other,
//! without a cycle), no top-level module holds more than 30% of the code, and every
//! module file that declares submodules names each of them in its `//!` doc.
//!
//! It reads `src/` as text: an import is any `crate::NAME` outside a comment, so a
//! doc link does not count and a path written in code does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, top first. A module may import modules of lower layers; within the
/// entry layer, modules may use each other as long as there is no cycle.
const LAYERS: &[(&str, &[&str])] = &[
    (
        "entry points",
        &["cli", "commands", "error", "hook", "ocf", "reload"],
    ),
    ("planning", &["plan"]),
    ("configuration", &["config"]),
    ("OVSDB and kernel", &["net", "ovsdb"]),
    ("language", &["interfaces"]),
    ("system", &["sys"]),
];

const MAX_SHARE_PERCENT: usize = 30;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Top-level module name -> its files (`src/x.rs` and everything under `src/x/`).
fn top_level_modules() -> BTreeMap<String, Vec<PathBuf>> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut modules: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(src()).unwrap_or(&f);
        let first = rel
            .components()
            .next()
            .map(|c| c.as_os_str().to_string_lossy().into_owned());
        let Some(first) = first else { continue };
        let name = first.trim_end_matches(".rs").to_string();
        if name == "lib" || name == "main" {
            continue;
        }
        modules.entry(name).or_default().push(f);
    }
    modules
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The code of a line: what stands before a `//` comment (string contents included,
/// which is good enough for `crate::` paths).
fn code_of(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

/// Top-level modules a set of files imports (`crate::NAME`).
fn imports(files: &[PathBuf]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for f in files {
        for line in read(f).lines() {
            let code = code_of(line);
            let mut rest = code;
            while let Some(i) = rest.find("crate::") {
                let after = &rest[i + "crate::".len()..];
                let name: String = after
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let preceded_by_ident = rest[..i]
                    .chars()
                    .last()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
                if !name.is_empty() && !preceded_by_ident {
                    out.insert(name);
                }
                rest = after;
            }
        }
    }
    out
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

fn graph() -> BTreeMap<String, BTreeSet<String>> {
    top_level_modules()
        .into_iter()
        .map(|(name, files)| {
            let mut deps = imports(&files);
            deps.remove(&name);
            (name, deps)
        })
        .collect()
}

#[test]
fn every_top_level_module_has_a_layer() {
    let unknown: Vec<String> = top_level_modules()
        .into_keys()
        .filter(|m| layer_of(m).is_none())
        .collect();
    assert!(
        unknown.is_empty(),
        "modules missing from LAYERS (and docs/architecture.md): {unknown:?}"
    );
}

#[test]
fn imports_point_down_only() {
    let mut wrong = Vec::new();
    for (module, deps) in graph() {
        let Some(own) = layer_of(&module) else {
            continue;
        };
        for dep in deps {
            let Some(theirs) = layer_of(&dep) else {
                continue;
            };
            let entry_to_entry = own == 0 && theirs == 0;
            if theirs <= own && !entry_to_entry {
                wrong.push(format!(
                    "{module} ({}) imports {dep} ({})",
                    LAYERS[own].0, LAYERS[theirs].0
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

/// A cycle among `graph`'s nodes, as a path that starts and ends at the same module.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == node) {
            let mut cycle = path[i..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let g = graph();
    assert_eq!(find_cycle(&g), None, "import graph: {g:#?}");
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let g: BTreeMap<String, BTreeSet<String>> = [("a", "b"), ("b", "c"), ("c", "a")]
        .into_iter()
        .map(|(x, y)| (x.to_string(), BTreeSet::from([y.to_string()])))
        .collect();
    assert_eq!(
        find_cycle(&g),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

#[test]
fn no_top_level_module_holds_more_than_30_percent() {
    let sizes: BTreeMap<String, usize> = top_level_modules()
        .into_iter()
        .map(|(name, files)| (name, files.iter().map(|f| read(f).lines().count()).sum()))
        .collect();
    let total: usize = sizes.values().sum();
    let over: Vec<String> = sizes
        .iter()
        .filter(|(_, n)| **n * 100 > total * MAX_SHARE_PERCENT)
        .map(|(m, n)| format!("{m}: {n} of {total} lines"))
        .collect();
    println!("lines per top-level module (of {total}): {sizes:?}");
    assert!(over.is_empty(), "over {MAX_SHARE_PERCENT}%: {over:?}");
}

/// `mod NAME;` declarations of a file (not inline modules, not `tests`).
fn declared_submodules(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter_map(|l| {
            let l = l.strip_prefix("pub ").unwrap_or(l);
            let l = l.strip_prefix("pub(crate) ").unwrap_or(l);
            let name = l.strip_prefix("mod ")?.strip_suffix(';')?;
            (name != "tests").then(|| name.to_string())
        })
        .collect()
}

#[test]
fn every_facade_doc_names_its_submodules() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut missing = Vec::new();
    for f in files {
        let text = read(&f);
        let doc: String = text
            .lines()
            .filter(|l| l.trim_start().starts_with("//!"))
            .collect::<Vec<_>>()
            .join("\n");
        for sub in declared_submodules(&text) {
            if !doc.contains(&format!("`{sub}`")) {
                missing.push(format!("{}: `{sub}`", f.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "submodules the facade's //! doc does not name:\n{}",
        missing.join("\n")
    );
}

/// Functions of `src/` (outside `tests` modules and files) with their length in lines:
/// from the `fn` line to the closing brace at the same indentation (rustfmt's layout).
fn function_lengths() -> Vec<(String, usize)> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut out = Vec::new();
    for f in files.iter().filter(|f| !f.ends_with("tests.rs")) {
        let text = read(f);
        let lines: Vec<&str> = text.lines().collect();
        let end_of_code = lines
            .iter()
            .position(|l| l.trim() == "#[cfg(test)]")
            .unwrap_or(lines.len());
        for (i, line) in lines[..end_of_code].iter().enumerate() {
            let trimmed = line.trim_start();
            let indent = line.len() - trimmed.len();
            let is_fn = [
                "fn ",
                "pub fn ",
                "pub(crate) fn ",
                "const fn ",
                "pub const fn ",
            ]
            .iter()
            .any(|p| trimmed.starts_with(p));
            if !is_fn || trimmed.ends_with(';') {
                continue;
            }
            let close = format!("{}}}", " ".repeat(indent));
            if let Some(len) = lines[i..end_of_code].iter().position(|l| *l == close) {
                let name: String = trimmed
                    .split("fn ")
                    .nth(1)
                    .unwrap_or_default()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let rel = f.strip_prefix(src()).unwrap_or(f);
                out.push((format!("src/{}:{} {name}", rel.display(), i + 1), len + 1));
            }
        }
    }
    out
}

#[test]
fn at_most_two_functions_over_100_lines() {
    let mut long: Vec<(String, usize)> = function_lengths()
        .into_iter()
        .filter(|(_, n)| *n > 100)
        .collect();
    long.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    println!("functions over 100 lines: {long:?}");
    assert!(
        long.len() <= 2,
        "more than two functions over 100 lines: {long:#?}"
    );
}

#[test]
fn function_lengths_are_measured() {
    let all = function_lengths();
    assert!(all.len() > 100, "found only {} functions", all.len());
    assert!(all.iter().any(|(name, _)| name.ends_with(" main")));
}

/// Lines of `src/` outside tests that declare a `Result` whose error is a bare
/// `String` or `Vec<String>`: errors are typed enums carrying data.
fn string_errors() -> Vec<String> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut out = Vec::new();
    for f in files.iter().filter(|f| !f.ends_with("tests.rs")) {
        let text = read(f);
        for (i, line) in text.lines().enumerate() {
            if line.trim() == "#[cfg(test)]" {
                break;
            }
            let code = code_of(line).replace(' ', "");
            if code.contains("Result<")
                && (code.contains(",String>") || code.contains(",Vec<String>>"))
            {
                out.push(format!("{}:{}: {}", f.display(), i + 1, line.trim()));
            }
        }
    }
    out
}

fn is_string_error(line: &str) -> bool {
    let code = code_of(line).replace(' ', "");
    code.contains("Result<") && (code.contains(",String>") || code.contains(",Vec<String>>"))
}

#[test]
fn string_errors_are_recognised() {
    assert!(is_string_error("fn f() -> Result<u32, String> {"));
    assert!(is_string_error("fn f() -> Result<(), Vec<String>> {"));
    assert!(!is_string_error("fn f() -> Result<String, Error> {"));
    assert!(!is_string_error("// Result<_, String> in a comment"));
}

#[test]
fn no_string_errors_outside_tests() {
    let found = string_errors();
    assert!(
        found.is_empty(),
        "Result<_, String> outside tests:\n{}",
        found.join("\n")
    );
}
