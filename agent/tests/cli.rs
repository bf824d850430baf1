//! The `ne-agent` binary's YANG tools, run as a user would.

use std::path::Path;
use std::process::Command;

fn ne_agent() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ne-agent"))
}

fn models() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../yang/modules")
}

#[test]
fn yang_check_reports_file_line_and_statement() {
    let dir = std::env::temp_dir().join(format!("ne-agent-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yang");
    std::fs::write(
        &bad,
        "module bad {\n  yang-version 1.1;\n  namespace \"urn:bad\";\n  prefix b;\n\n  leaf speed {\n    type uint99;\n  }\n}\n",
    )
    .unwrap();
    let out = ne_agent()
        .args(["yang", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let expected = format!(
        "{}:7: error: type uint99: type 'uint99' not found",
        bad.display()
    );
    assert!(stderr.contains(&expected), "{stderr}");

    let good = ne_agent()
        .args(["yang", "check", "-p"])
        .arg(models())
        .arg(models().join("ne-vrrp.yang"))
        .output()
        .unwrap();
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn yang_tree_of_an_embedded_module_by_name() {
    let out = ne_agent()
        .args(["yang", "tree", "ne-bfd"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(
        stdout.starts_with("module: ne-bfd\n  +--rw bfd\n     +--rw session* [name]\n"),
        "{stdout}"
    );
    // (Column widths follow the longest name, as pyang's do: the comparison with pyang below
    // checks the layout.)
    assert!(
        stdout.lines().any(|l| l
            .split_whitespace()
            .filter(|w| *w != "|")
            .collect::<Vec<_>>()
            == ["+--rw", "local-discriminator", "uint32"]),
        "{stdout}"
    );
}

#[test]
fn yang_tree_matches_pyang_for_the_models() {
    let Some(pyang) = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("pyang"))
        .find(|p| p.is_file())
    else {
        assert!(
            std::env::var_os("NE_REQUIRE_TOOLS").is_none(),
            "pyang required but missing"
        );
        eprintln!("SKIPPED: pyang not on PATH");
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(models())
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    let ours = ne_agent()
        .args(["yang", "tree", "-p"])
        .arg(models())
        .args(&files)
        .output()
        .unwrap();
    let theirs = Command::new(pyang)
        .args(["-f", "tree", "-p"])
        .arg(models())
        .args(&files)
        .output()
        .unwrap();
    assert!(ours.status.success());
    assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout)
    );
}

#[test]
fn bad_usage_exits_2() {
    for args in [
        &["yang"][..],
        &["yang", "tree"],
        &["frobnicate"],
        &["yang", "tree", "-z", "x"],
    ] {
        let out = ne_agent().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
    }
}

/// A listen address that cannot be used stops the agent before it writes anything: no data
/// directory, keys or password are left behind.
#[test]
fn a_bad_listen_address_fails_before_touching_the_data_directory() {
    let dir = std::env::temp_dir().join(format!("ne-agent-cli-listen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = ne_agent()
        .args(["--listen", "bogus", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("cannot listen on bogus"), "{stderr}");
    assert!(!dir.exists(), "{} was created", dir.display());
}
