//! Real-world YANG: every IETF/IANA module pyang installs compiles, and for each one our tree
//! printer's output equals `pyang -f tree` byte for byte.

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
    let out = Command::new(exe)
        .args(["-f", "tree", "-p"])
        .arg(dir)
        .args(files)
        .output()
        .expect("run pyang");
    String::from_utf8(out.stdout).unwrap()
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
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("modules");
    let files = yang_files(&dir);
    assert_eq!(files.len(), 7);
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
