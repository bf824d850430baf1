//! Real-world YANG: every IETF/IANA module pyang installs compiles, and for each one our tree
//! printer's output equals `pyang -f tree` byte for byte. The standard modules the project
//! writes itself (yang/modules/ietf-*, iana-*) carry the same facts as the texts pyang
//! installs, and the device's view of them (features and deviations applied) prints as pyang
//! prints it.

use std::path::{Path, PathBuf};
use std::process::Command;

use yang::SchemaBuilder;

/// pyang on PATH and the module folder it installs, or None (a failure when NE_REQUIRE_TOOLS=1).
fn pyang() -> Option<(PathBuf, PathBuf)> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        let exe = dir.join("pyang");
        let modules = dir.join("../share/yang/modules");
        if exe.is_file() && modules.is_dir() {
            return Some((exe, modules.canonicalize().ok()?));
        }
    }
    assert!(
        std::env::var_os("NE_REQUIRE_TOOLS").is_none(),
        "pyang is required (NE_REQUIRE_TOOLS is set) but not on PATH"
    );
    eprintln!("SKIPPED: pyang not on PATH (tests/run installs it)");
    None
}

fn yang_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yang") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![dir.to_path_buf()];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.path().is_dir() {
            out.push(e.path());
        }
    }
    out
}

fn our_tree(dirs: &[PathBuf], files: &[PathBuf]) -> Result<String, String> {
    let mut b = SchemaBuilder::new().without_embedded();
    for d in dirs {
        b = b.search_dir(d);
    }
    let mut names = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        names.push(
            yang::stmt::parse(&text)
                .map_err(|e| e.to_string())?
                .arg()
                .to_string(),
        );
        b = b.source(f.display().to_string(), text);
    }
    let schema = b.build().map_err(|e| e.to_string())?;
    let idx: Vec<u32> = names
        .iter()
        .map(|n| schema.sources.iter().position(|s| &s.name == n).unwrap() as u32)
        .collect();
    Ok(yang::tree::print(&schema, &idx))
}

fn pyang_tree(exe: &Path, dir: &Path, files: &[PathBuf]) -> String {
    pyang_tree_with(exe, dir, files, &[])
}

fn pyang_tree_with(exe: &Path, dir: &Path, files: &[PathBuf], options: &[&str]) -> String {
    let out = Command::new(exe)
        .args(["-f", "tree", "-p"])
        .arg(dir)
        .args(options)
        .args(files)
        .output()
        .expect("run pyang");
    assert!(
        out.status.success(),
        "pyang failed on {files:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn project_modules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("modules")
}

/// The standard modules written in this project, and where pyang keeps its own text of each.
const STANDARD: [(&str, &str); 8] = [
    ("ietf-netconf-acm", "ietf"),
    ("ietf-netconf-monitoring", "ietf"),
    ("ietf-yang-library", "ietf"),
    ("ietf-datastores", "ietf"),
    ("ietf-system", "ietf"),
    ("iana-crypt-hash", "iana"),
    ("ietf-inet-types", "ietf"),
    ("ietf-yang-types", "ietf"),
];

/// A module's statements without its prose (description, reference, organization, contact,
/// the text of a presence statement), one `keyword argument` per line, indented by depth.
fn facts(st: &yang::stmt::Stmt, depth: usize, out: &mut String) {
    if matches!(
        st.keyword.as_str(),
        "description" | "reference" | "organization" | "contact"
    ) {
        return;
    }
    out.push_str(&"  ".repeat(depth));
    out.push_str(&st.keyword);
    if let Some(arg) = st.arg.as_ref().filter(|_| st.keyword != "presence") {
        out.push(' ');
        out.push_str(&format!("{arg:?}"));
    }
    out.push('\n');
    for s in &st.substmts {
        facts(s, depth + 1, out);
    }
}

fn facts_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let st = yang::stmt::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = String::new();
    facts(&st, 0, &mut out);
    out
}

#[test]
fn every_pyang_module_compiles_together() {
    let Some((_, modules)) = pyang() else { return };
    let files = yang_files(&modules);
    assert!(files.len() > 50, "only {} modules found", files.len());
    our_tree(&subdirs(&modules), &files).expect("the whole IETF/IANA set compiles");
}

#[test]
fn tree_equals_pyang_for_each_module() {
    let Some((exe, modules)) = pyang() else {
        return;
    };
    let dirs = subdirs(&modules);
    let files = yang_files(&modules);
    let mut failures = Vec::new();
    for f in &files {
        let expected = pyang_tree(&exe, &modules, std::slice::from_ref(f));
        match our_tree(&dirs, std::slice::from_ref(f)) {
            Ok(ours) if ours == expected => {}
            Ok(ours) => failures.push(format!(
                "{}: tree differs\n--- pyang\n{expected}\n--- ours\n{ours}",
                f.display()
            )),
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} modules differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn project_models_tree_equals_pyang() {
    let Some((exe, _)) = pyang() else { return };
    let dir = project_modules();
    let files = yang_files(&dir);
    assert_eq!(files.len(), 16);
    let expected = pyang_tree(&exe, &dir, &files);
    let ours = our_tree(std::slice::from_ref(&dir), &files).unwrap();
    assert_eq!(ours, expected);
    // One at a time, too (augment sections differ from the merged view).
    for f in &files {
        let expected = pyang_tree(&exe, &dir, std::slice::from_ref(f));
        let ours = our_tree(std::slice::from_ref(&dir), std::slice::from_ref(f)).unwrap();
        assert_eq!(ours, expected, "{}", f.display());
    }
}

#[test]
fn standard_modules_carry_the_facts_of_the_rfc_texts() {
    let Some((exe, modules)) = pyang() else {
        return;
    };
    let ours_dir = project_modules();
    for (name, folder) in STANDARD {
        let ours = ours_dir.join(format!("{name}.yang"));
        let theirs = modules.join(folder).join(format!("{name}.yang"));
        // Every statement but the prose: names, types, patterns, defaults, features, ...
        let (ours_facts, rfc_facts) = (facts_of(&ours), facts_of(&theirs));
        let first_difference = ours_facts
            .lines()
            .zip(rfc_facts.lines())
            .position(|(a, b)| a != b);
        assert!(
            ours_facts == rfc_facts,
            "{name}: facts differ from line {first_difference:?}:\n--- ours\n{ours_facts}\n--- RFC\n{rfc_facts}"
        );
        // The RFC 8340 tree, from pyang on both texts and from our printer on ours.
        let expected = pyang_tree(&exe, &modules.join(folder), std::slice::from_ref(&theirs));
        let from_ours = pyang_tree(&exe, &ours_dir, std::slice::from_ref(&ours));
        assert_eq!(from_ours, expected, "{name}: pyang trees differ");
        let printed = our_tree(std::slice::from_ref(&ours_dir), std::slice::from_ref(&ours));
        assert_eq!(printed.unwrap(), expected, "{name}: our printer differs");
    }
    // The prose is ours: no description of the RFC texts is copied.
    for (name, folder) in STANDARD {
        let ours = std::fs::read_to_string(ours_dir.join(format!("{name}.yang"))).unwrap();
        let theirs = std::fs::read_to_string(modules.join(folder).join(format!("{name}.yang")));
        let theirs = yang::stmt::parse(&theirs.unwrap()).unwrap();
        let ours = yang::stmt::parse(&ours).unwrap();
        let mut rfc = Vec::new();
        prose(&theirs, &mut rfc);
        let mut own = Vec::new();
        prose(&ours, &mut own);
        let copied: Vec<&String> = own
            .iter()
            .filter(|d| d.len() > 40 && rfc.contains(d))
            .collect();
        assert!(
            copied.is_empty(),
            "{name}: descriptions copied: {copied:#?}"
        );
    }
}

fn prose(st: &yang::stmt::Stmt, out: &mut Vec<String>) {
    if st.keyword == "description" {
        out.push(st.arg().split_whitespace().collect::<Vec<_>>().join(" "));
    }
    for s in &st.substmts {
        prose(s, out);
    }
}

/// The device's schema (the embedded modules, its features, ne-system-deviations) prints as
/// pyang prints the same modules with `--features` and `--deviation-module`.
#[test]
fn device_view_of_the_standard_modules_equals_pyang() {
    let Some((exe, _)) = pyang() else { return };
    let dir = project_modules();
    let schema = SchemaBuilder::new().embedded().build().unwrap();
    for name in ["ietf-system", "ietf-netconf-acm"] {
        let file = schema.sources.iter().position(|s| s.name == name).unwrap() as u32;
        let ours = yang::tree::print(&schema, &[file]);
        // ne-system augments ietf-system (recovery-user): loaded too, and its own tree cut off.
        let expected = pyang_tree_with(
            &exe,
            &dir,
            &[dir.join(format!("{name}.yang")), dir.join("ne-system.yang")],
            &[
                "--features",
                "ietf-system:authentication,local-users",
                "--deviation-module",
                dir.join("ne-system-deviations.yang").to_str().unwrap(),
            ],
        );
        let expected = match expected.find("\nmodule: ne-system") {
            Some(i) => expected[..i].trim_end_matches('\n').to_string() + "\n",
            None => expected,
        };
        assert_eq!(ours, expected, "{name}");
    }
}
