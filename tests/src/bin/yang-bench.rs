//! YANG engine benchmark: compile, validate and diff times, each next to a baseline measured in
//! the same run (pyang and yanglint where installed; a full-tree diff for the diff).
//!
//! Run: `cargo run --release -p ne-lab --bin yang-bench [-- --pyang-modules DIR]`
//! (DIR defaults to the `share/yang/modules` of the pyang found on PATH).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use yang::data::{self, DataNode, DataTree, DecodeOptions};
use yang::validate::{validate, ValidateOptions};
use yang::{Schema, SchemaBuilder};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let t = Instant::now();
                std::hint::black_box(f());
                t.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Wall time of an external command (median of `runs`), or None when it is missing or fails.
fn external(runs: usize, cmd: &mut Command) -> Option<Duration> {
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        let out = cmd.output().ok()?;
        if !out.status.success() {
            eprintln!(
                "  baseline {:?} failed: {}",
                cmd.get_program(),
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .next()
                    .unwrap_or("")
            );
            return None;
        }
        times.push(t.elapsed());
    }
    Some(median(times))
}

fn report(what: &str, ours: Duration, goal_ms: f64, baseline: Option<(&str, Duration)>) {
    let goal = if goal_ms.is_finite() {
        let verdict = if ms(ours) < goal_ms {
            "meets"
        } else {
            "MISSES"
        };
        format!("(goal < {goal_ms} ms: {verdict})")
    } else {
        String::new()
    };
    print!("{what:<48} {:>8.3} ms  {goal:<25}", ms(ours));
    match baseline {
        Some((name, b)) => println!("  {name}: {:.1} ms, ratio {:.1}x", ms(b), ms(b) / ms(ours)),
        None => println!(),
    }
}

fn yang_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
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

fn which(tool: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(tool))
        .find(|p| p.is_file())
}

/// A configuration with `n` BFD sessions over 100 interfaces.
fn bfd_config(n: usize) -> String {
    let mut x = String::from(r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces">"#);
    for i in 0..100 {
        x.push_str(&format!("<interface><name>eth{i}</name></interface>"));
    }
    x.push_str(r#"</interfaces><bfd xmlns="urn:ne-agent:yang:ne-bfd">"#);
    for i in 0..n {
        x.push_str(&format!(
            "<session><name>s{i}</name><peer-ip>10.{}.{}.{}</peer-ip><interface>eth{}</interface>\
             <local-discriminator>{}</local-discriminator><remote-discriminator>{}</remote-discriminator>\
             <min-tx-interval>100</min-tx-interval></session>",
            i / 65536,
            (i / 256) % 256,
            i % 256,
            i % 100,
            i + 1,
            i + 100_001
        ));
    }
    x.push_str("</bfd>");
    x
}

/// A copy of `tree` with one BFD session's min-tx-interval changed, sharing everything else.
fn edit_one(schema: &Schema, tree: &DataTree, index: usize) -> DataTree {
    let mut t = tree.clone();
    let bfd = t
        .roots
        .iter_mut()
        .find(|r| schema.node(r.schema).name == "bfd")
        .expect("bfd container");
    let bfd = Arc::make_mut(bfd);
    let entry = Arc::make_mut(&mut bfd.children[index]);
    for c in entry.children.iter_mut() {
        if schema.node(c.schema).name == "min-tx-interval" {
            *c = Arc::new(DataNode::leaf(c.schema, "250"));
        }
    }
    t
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let modules_dir = args
        .windows(2)
        .find(|w| w[0] == "--pyang-modules")
        .map(|w| PathBuf::from(&w[1]))
        .or_else(|| which("pyang").and_then(|p| Some(p.parent()?.join("../share/yang/modules"))));
    let pyang = which("pyang");
    let yanglint = which("yanglint");
    let ours_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../yang/modules");
    println!("yang-bench: median of repeated runs; baselines run in this invocation");

    // 1. Compile the project's models.
    let t = time(50, || SchemaBuilder::new().embedded().build().unwrap());
    let base = pyang.as_ref().and_then(|p| {
        external(
            3,
            Command::new(p)
                .arg("-p")
                .arg(&ours_dir)
                .args(yang_files(&ours_dir)),
        )
    });
    report(
        "compile project models (7 modules)",
        t,
        20.0,
        base.map(|b| ("pyang", b)),
    );

    // 2. Compile every module pyang installs, together.
    if let Some(dir) = modules_dir.as_ref().filter(|d| d.is_dir()) {
        let files = yang_files(dir);
        let texts: Vec<(String, String)> = files
            .iter()
            .map(|f| (f.display().to_string(), std::fs::read_to_string(f).unwrap()))
            .collect();
        let subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect();
        let t = time(10, || {
            let mut b = SchemaBuilder::new().without_embedded();
            for d in &subdirs {
                b = b.search_dir(d);
            }
            for (p, text) in &texts {
                b = b.source(p.clone(), text.clone());
            }
            b.build().unwrap()
        });
        let base = pyang
            .as_ref()
            .and_then(|p| external(1, Command::new(p).arg("-p").arg(dir).args(&files)));
        report(
            &format!("compile pyang's IETF/IANA set ({} modules)", files.len()),
            t,
            500.0,
            base.map(|b| ("pyang", b)),
        );
    } else {
        println!("(pyang's module folder not found: IETF compile benchmark skipped)");
    }

    // 3. Decode + validate a configuration of 10,000 BFD sessions.
    let schema = SchemaBuilder::new().embedded().build().unwrap();
    let xml = bfd_config(10_000);
    let mut tree = data::decode(&schema, &xml, DecodeOptions { config_only: true }).unwrap();
    data::add_defaults(&schema, &mut tree);
    validate(&schema, &tree, ValidateOptions::default()).expect("generated config is valid");
    let t_decode = time(5, || {
        data::decode(&schema, &xml, DecodeOptions { config_only: true }).unwrap()
    });
    let t_validate = time(5, || {
        validate(&schema, &tree, ValidateOptions::default()).unwrap()
    });
    let base = yanglint.as_ref().and_then(|y| {
        let file = std::env::temp_dir().join(format!("yang-bench-{}.xml", std::process::id()));
        // yanglint takes the bare top-level nodes; ne-vrrp must load before ne-multicast.
        std::fs::write(&file, &xml).ok()?;
        let order = [
            "ne-types",
            "ne-interfaces",
            "ne-bfd",
            "ne-monitor-group",
            "ne-vrrp",
            "ne-multicast",
        ];
        let d = external(
            3,
            Command::new(y)
                .args(["-t", "config", "-p"])
                .arg(&ours_dir)
                .args(order.iter().map(|m| ours_dir.join(format!("{m}.yang"))))
                .arg(&file),
        );
        let _ = std::fs::remove_file(&file);
        d
    });
    println!("  ({} data nodes)", tree.count());
    report("validate 10,000 BFD sessions", t_validate, 100.0, None);
    // yanglint's time includes its start-up and module loading; ours is decode + validate.
    report(
        "decode XML + validate 10,000 BFD sessions",
        t_decode + t_validate,
        f64::INFINITY,
        base.map(|b| ("yanglint -t config (whole run)", b)),
    );

    // 4. Diff of a one-entry change against that tree.
    let edited = edit_one(&schema, &tree, 5_000);
    let changes = yang::diff::diff(&schema, &tree, &edited);
    assert_eq!(changes.len(), 1, "{changes:?}");
    let t_diff = time(200, || yang::diff::diff(&schema, &tree, &edited));
    // Baseline: the same change between two trees that share nothing.
    let mut unshared = data::decode(&schema, &xml, DecodeOptions { config_only: true }).unwrap();
    data::add_defaults(&schema, &mut unshared);
    let unshared_edit = edit_one(&schema, &unshared, 5_000);
    let unshared_old = data::decode(&schema, &xml, DecodeOptions { config_only: true }).unwrap();
    let mut unshared_old = unshared_old;
    data::add_defaults(&schema, &mut unshared_old);
    let t_full = time(5, || {
        yang::diff::diff(&schema, &unshared_old, &unshared_edit)
    });
    report(
        "diff one changed entry vs 10,000 (shared tree)",
        t_diff,
        1.0,
        Some(("full-tree diff", t_full)),
    );
}
