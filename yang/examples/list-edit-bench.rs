//! The cost of a one-entry edit as a function of the size of the list it edits (issue 14 item
//! 4): a list of 100 monitor groups and one of 100,000, the same edit on each, and the ratio.
//!
//! One cycle is what the datastore does for an edit-config + commit of one entry, without the
//! storage: copy the tree (`clone`, sharing everything), apply the edit (`apply_edit`, which
//! adds defaults), diff the copy against the original, validate the change, and drop the old
//! version. Each step is timed on its own as well.
//!
//! Run: `cargo run --release -p yang --example list-edit-bench [-- --runs 400] [--only N]`

use std::time::{Duration, Instant};

use yang::data::{self, apply_edit, DataTree, DecodeOptions, EditOp};
use yang::diff::diff;
use yang::validate::{validate_changes, ValidateOptions};
use yang::{Schema, SchemaBuilder};

const MG: &str = "urn:ne-agent:yang:ne-monitor-group";

fn groups(n: usize) -> String {
    let mut x = format!(r#"<monitor-groups xmlns="{MG}">"#);
    for i in 0..n {
        x.push_str(&format!(
            "<monitor-group><name>mg{i}</name><enabled>true</enabled></monitor-group>"
        ));
    }
    x.push_str("</monitor-groups>");
    x
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Median times of the steps of one-entry edits of a list of `n` entries: (clone + edit,
/// diff, validate, drop, whole cycle).
fn measure(schema: &Schema, n: usize, runs: usize) -> [Duration; 5] {
    let mut tree = data::decode(schema, &groups(n), DecodeOptions { config_only: true }).unwrap();
    data::add_defaults(schema, &mut tree);
    let mut steps: [Vec<Duration>; 5] = Default::default();
    let mut enabled = vec![true; n];
    for r in 0..runs {
        // A different entry each time, spread over the list; its value flips so every edit
        // changes something.
        let k = (r * 7919) % n;
        enabled[k] = !enabled[k];
        let value = enabled[k];
        let edit = yang::xml::parse_fragment(&format!(
            r#"<monitor-groups xmlns="{MG}"><monitor-group><name>mg{k}</name><enabled>{value}</enabled></monitor-group></monitor-groups>"#
        ))
        .unwrap();
        let t0 = Instant::now();
        let mut next: DataTree = tree.clone();
        apply_edit(schema, &mut next, &edit, EditOp::Merge).unwrap();
        let t1 = Instant::now();
        let changes = diff(schema, &tree, &next);
        let t2 = Instant::now();
        validate_changes(schema, &next, &changes, ValidateOptions::default()).unwrap();
        let t3 = Instant::now();
        let old = std::mem::replace(&mut tree, next);
        drop(old);
        let t4 = Instant::now();
        assert_eq!(changes.len(), 1, "{changes:?}");
        for (i, d) in [t1 - t0, t2 - t1, t3 - t2, t4 - t3, t4 - t0]
            .into_iter()
            .enumerate()
        {
            steps[i].push(d);
        }
    }
    steps.map(median)
}

fn main() {
    let runs = std::env::args()
        .skip_while(|a| a != "--runs")
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(400);
    let schema = SchemaBuilder::new().embedded().build().unwrap();
    println!("one-entry edit of a list of monitor groups, median of {runs} edits (microseconds)");
    println!(
        "{:>8} {:>12} {:>10} {:>10} {:>10} {:>10}",
        "entries", "clone+edit", "diff", "validate", "drop old", "cycle"
    );
    let mut cycles = Vec::new();
    // `--only N`: one size (for a profile).
    let sizes: Vec<usize> = match std::env::args().skip_while(|a| a != "--only").nth(1) {
        Some(n) => vec![n.parse().expect("--only takes a number")],
        None => vec![100, 100_000],
    };
    for &n in &sizes {
        let t = measure(&schema, n, runs);
        println!(
            "{n:>8} {:>12.1} {:>10.1} {:>10.1} {:>10.1} {:>10.1}",
            us(t[0]),
            us(t[1]),
            us(t[2]),
            us(t[3]),
            us(t[4])
        );
        cycles.push(t[4]);
    }
    if cycles.len() < 2 {
        return;
    }
    let ratio = us(cycles[1]) / us(cycles[0]);
    let verdict = if ratio <= 1.5 { "meets" } else { "MISSES" };
    println!("ratio 100,000 / 100: {ratio:.2}x (goal <= 1.5x: {verdict})");
}
