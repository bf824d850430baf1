//! The seed procedure of the vendor, typed as written with the lab's names and addresses,
//! gives exactly the seed configuration of MODELS.md (examples/seed/device-{a,b}.xml).

use yang::validate::{validate, ValidateOptions};

use super::*;

const A_VRP: &str = include_str!("../../../../examples/seed/device-a.vrp");
const B_VRP: &str = include_str!("../../../../examples/seed/device-b.vrp");
pub const A_XML: &str = include_str!("../../../../examples/seed/device-a.xml");
pub const B_XML: &str = include_str!("../../../../examples/seed/device-b.xml");

fn typed(script: &str) -> Session {
    let mut s = session();
    let outcomes = run(&mut s, script);
    assert_eq!(outcomes.last(), Some(&Outcome::Commit { comment: None }));
    s
}

fn assert_same(got: &DataTree, want: &DataTree) {
    assert!(
        got == want,
        "the candidate differs from the seed:\n{}",
        differences(want, got)
    );
}

#[test]
fn device_a() {
    let s = typed(A_VRP);
    let want = decode_config(A_XML);
    assert_same(s.candidate(), &want);
    validate(&schema(), s.candidate(), ValidateOptions::default()).unwrap();
}

#[test]
fn device_b() {
    let s = typed(B_VRP);
    let want = decode_config(B_XML);
    assert_same(s.candidate(), &want);
    validate(&schema(), s.candidate(), ValidateOptions::default()).unwrap();
}

/// `track bfd-session` by the session's name is the same as by its number.
#[test]
fn device_b_by_session_name() {
    let script = B_VRP.replace(
        "track bfd-session 20 increased 40",
        "track bfd-session session-name to-a increased 40",
    );
    assert_ne!(script, B_VRP);
    assert_same(typed(&script).candidate(), &decode_config(B_XML));
}

/// The procedure's lines abbreviated as an engineer types them.
#[test]
fn device_a_abbreviated() {
    let script = "sys
monitor-g uplinks
 mon en
 bind int a-up
 q
bfd to-b b p 10.0.0.2 i a-ic
 disc l 10
 disc r 20
 q
mu r
int a-ic
 ip add 10.0.0.1 255.255.255.248
 vr vr 1 vi 10.0.0.6
 ad vr 1
 vr vr 1 pri 120
 vr vr 1 ti ad mi 100
 vr vr 1 tr mo uplinks f 100 l
int a-up
 ip ad 10.1.0.1 24
 pim sm
int a-dn
 ip ad 192.168.1.1 24
 pim sm
 igmp e
 mu tr a int a-ic vr 1
 pim ig dr
 pim ig as
 ret
sys
comm";
    assert_same(typed(script).candidate(), &decode_config(A_XML));
}

/// The prompts along the way, and the commit at the end.
#[test]
fn prompts() {
    let mut s = session();
    assert_eq!(s.prompt(), "<ne-agent>");
    let mut prompts = Vec::new();
    for line in A_VRP.lines() {
        s.line(line);
        prompts.push(s.prompt());
    }
    assert!(prompts.contains(&"[~ne-agent]".to_string()));
    assert!(prompts.contains(&"[*ne-agent-a-dn]".to_string()));
    assert!(prompts.contains(&"[*ne-agent-monitor-group-uplinks]".to_string()));
    assert!(prompts.contains(&"[*ne-agent-bfd-session-to-b]".to_string()));
    assert_eq!(prompts.last().unwrap(), "[*ne-agent]");
    // The caller commits; the session starts afresh from the new running configuration.
    let running = s.candidate().clone();
    s.committed(&running);
    assert_eq!(s.prompt(), "[~ne-agent]");
    assert!(!s.has_changes());
    s.line("interface a-dn");
    assert_eq!(s.prompt(), "[~ne-agent-a-dn]");
    s.line("pim timer hello 10");
    assert_eq!(s.prompt(), "[*ne-agent-a-dn]");
    s.line("undo pim timer hello");
    assert_eq!(s.prompt(), "[~ne-agent-a-dn]");
}

/// README's session of the seed procedure is what the CLI does: each prompt as shown, every
/// line accepted, and the commit gives device A's configuration.
#[test]
fn readme_session_of_the_seed_procedure() {
    let readme = include_str!("../../../../README.md");
    let start = readme
        .find("The\nseed procedure typed on device A")
        .expect("README's seed session");
    let block = &readme[start..];
    let block = &block[block.find("```text\n").unwrap() + 8..];
    let block = &block[..block.find("```").unwrap()];
    let mut s = session();
    let mut lines = 0;
    for row in block.lines() {
        let at = row.find(['>', ']']).expect("a prompt") + 1;
        let (prompt, line) = row.split_at(at);
        assert_eq!(s.prompt(), prompt, "before {line:?}");
        match s.line(line) {
            Outcome::Commit { .. } => {
                let running = s.candidate().clone();
                assert_same(&running, &decode_config(A_XML));
                s.committed(&running);
            }
            Outcome::Error(e) => panic!("{row}: {}", e.message),
            _ => {}
        }
        lines += 1;
    }
    assert!(lines > 30, "{lines} lines");
    assert_eq!(s.prompt(), "<ne-agent>");
}
