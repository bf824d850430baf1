//! The VRP-style CLI over SSH (issue 17): the agent as a process on a loopback port, driven by
//! the OpenSSH client (batches on standard input, exec requests) and by paramiko (a terminal,
//! two sessions at once, users under access control); running checked with ncclient.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;

use support::{python_with, tool, Agent};
use yang::data::{add_defaults, decode_elements, DataNode, DataTree, DecodeOptions};

const SEED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/seed");

/// A key pair for the recovery user, made before the agent starts (`--authorized-keys`).
struct Key {
    dir: PathBuf,
}

impl Key {
    fn new(tag: &str) -> Key {
        let dir = std::env::temp_dir().join(format!("ne-vrp-key-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ok = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(dir.join("id"))
            .status()
            .unwrap()
            .success();
        assert!(ok, "ssh-keygen");
        Key { dir }
    }

    fn public(&self) -> String {
        self.dir.join("id.pub").display().to_string()
    }
}

impl Drop for Key {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An agent the recovery user `admin` reaches with `key`; None when ssh is not installed.
fn agent(tag: &str, key: &Key) -> Option<Agent> {
    tool("ssh")?;
    Some(Agent::start(tag, &["--authorized-keys", &key.public()]))
}

/// `ssh ARGS... admin@127.0.0.1 [COMMAND]` with `stdin` as its standard input.
fn ssh(agent: &Agent, key: &Key, args: &[&str], command: Option<&str>, stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut cmd = agent.openssh(&key.dir.join("id"));
    cmd.args(args).arg("admin@127.0.0.1");
    if let Some(c) = command {
        cmd.arg(c);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Run a part of `vrp_cli.py`; its stdout. Empty when python or its modules are missing.
fn python(part: &str, agent: &Agent, args: &[&str]) -> String {
    let (Some(_), Some(python)) = (python_with("paramiko"), python_with("ncclient")) else {
        return String::new();
    };
    let out = Command::new(python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vrp_cli.py"))
        .arg(part)
        .arg(agent.port.to_string())
        .arg(agent.password())
        .args(args)
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && (part == "get-config" || stdout.contains("all checks passed")),
        "{part}: {stdout}\n{}\nagent log:\n{}",
        text(&out.stderr),
        agent.log()
    );
    stdout
}

fn schema() -> Arc<yang::Schema> {
    Arc::new(yang::SchemaBuilder::new().embedded().build().unwrap())
}

/// A configuration document's data (`<config>` or `<data>`) as a tree with every default
/// filled in and none marked: the same configuration compares equal however it was written.
fn tree(schema: &yang::Schema, xml: &str) -> DataTree {
    fn unmark(n: &mut Arc<DataNode>) {
        let n = Arc::make_mut(n);
        n.default = false;
        n.children.iter_mut().for_each(unmark);
    }
    let root = yang::xml::parse(xml.trim()).unwrap();
    let mut t =
        decode_elements(schema, &root.children, DecodeOptions { config_only: true }).unwrap();
    add_defaults(schema, &mut t);
    t.roots.iter_mut().for_each(unmark);
    t
}

/// The seed procedure typed into an empty device: exit status 0, no output, and running (as
/// ncclient's get-config returns it) is exactly the seed configuration.
fn seed_gives_the_seed_configuration(device: &str) {
    let key = Key::new(device);
    let Some(agent) = agent(&format!("vrp-seed-{device}"), &key) else {
        return;
    };
    let procedure = std::fs::read(Path::new(SEED).join(format!("device-{device}.vrp"))).unwrap();
    let out = ssh(&agent, &key, &["-T"], None, &procedure);
    assert_eq!(
        (out.status.code(), text(&out.stdout), text(&out.stderr)),
        (Some(0), String::new(), String::new()),
        "{}",
        agent.log()
    );
    let got = python("get-config", &agent, &[]);
    if got.is_empty() {
        return;
    }
    let schema = schema();
    let want =
        std::fs::read_to_string(Path::new(SEED).join(format!("device-{device}.xml"))).unwrap();
    assert!(
        tree(&schema, &got) == tree(&schema, &want),
        "running differs from device-{device}.xml:\n{got}"
    );
    // `display current-configuration` as an exec request shows it.
    let shown = ssh(
        &agent,
        &key,
        &[],
        Some("display current-configuration"),
        b"",
    );
    let shown_text = text(&shown.stdout);
    assert_eq!(shown.status.code(), Some(0), "{}", text(&shown.stderr));
    assert!(
        shown_text.contains(&format!("interface {device}-dn\n ip address 192.168.1."))
            && shown_text.ends_with("#\nreturn\n"),
        "{shown_text}"
    );
    assert!(
        agent
            .log()
            .lines()
            .any(|l| l.contains("configuration committed") && l.contains("user=admin")),
        "{}",
        agent.log()
    );
    // Round trip: that display, fed to another empty device as a batch (after `system-view`,
    // with a commit at the end), gives the same running configuration.
    let other = Agent::start(
        &format!("vrp-seed-{device}-copy"),
        &["--authorized-keys", &key.public()],
    );
    let copy = format!("system-view\n{shown_text}system-view\ncommit\n");
    let out = ssh(&other, &key, &["-T"], None, copy.as_bytes());
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(0), String::new()),
        "{copy}"
    );
    let copied = python("get-config", &other, &[]);
    assert!(
        tree(&schema, &copied) == tree(&schema, &want),
        "the display fed back differs from device-{device}.xml:\n{copied}"
    );
    // The engines' state and the commit history, as exec requests.
    for (command, want) in [
        ("display vrrp brief", "Total:1 ".to_string()),
        (
            "display vrrp brief",
            format!("{device}-ic                     Admin    10.0.0.6\n"),
        ),
        (
            "display bfd session all",
            format!("S_IP_IF     {device}-ic\n"),
        ),
        (
            "display configuration commit list",
            "Total commit records: 1\n".to_string(),
        ),
    ] {
        let out = ssh(&agent, &key, &[], Some(command), b"");
        let shown = text(&out.stdout);
        assert!(
            out.status.success() && shown.contains(&want),
            "{command}: {want:?} in {shown}{}",
            text(&out.stderr)
        );
    }
}

#[test]
fn seed_procedure_of_device_a_over_openssh() {
    seed_gives_the_seed_configuration("a");
}

#[test]
fn seed_procedure_of_device_b_over_openssh() {
    seed_gives_the_seed_configuration("b");
}

/// A bad line stops the batch with its number and exit status 1, and nothing is committed.
#[test]
fn a_bad_line_stops_the_batch_and_commits_nothing() {
    let key = Key::new("bad");
    let Some(agent) = agent("vrp-bad", &key) else {
        return;
    };
    let procedure = std::fs::read_to_string(Path::new(SEED).join("device-a.vrp")).unwrap();
    let bad = procedure.replace(" discriminator remote 20", " discriminator remote 0");
    let n = bad
        .lines()
        .position(|l| l == " discriminator remote 0")
        .unwrap()
        + 1;
    let out = ssh(&agent, &key, &["-T"], None, bad.as_bytes());
    let head = format!("line {n}: ");
    let caret = " ".repeat(head.len() + " discriminator remote ".len());
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    assert_eq!(
        text(&out.stderr),
        format!(
            "{head} discriminator remote 0\n{caret}^\nError: Wrong parameter found at '^' position.\n"
        )
    );
    let shown = ssh(
        &agent,
        &key,
        &[],
        Some("display current-configuration"),
        b"",
    );
    assert_eq!(text(&shown.stdout), "#\nreturn\n");
    assert!(!agent.log().contains("configuration committed"));
    // An exec request's command that is no command: status 1, the error.
    let out = ssh(&agent, &key, &[], Some("display nonsense"), b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("Error: Unrecognized command found at '^' position."),
        "{}",
        text(&out.stderr)
    );
}

/// `ssh -tt` gives the interactive CLI (prompts and echo) on the same port as NETCONF.
#[test]
fn openssh_with_a_terminal_gets_the_interactive_cli() {
    let key = Key::new("tty");
    let Some(agent) = agent("vrp-tty", &key) else {
        return;
    };
    let out = ssh(
        &agent,
        &key,
        &["-tt"],
        None,
        b"system-view\rsysname r1\rcommit\rquit\rquit\r",
    );
    let screen = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{screen}");
    for want in [
        "<ne-agent>system-view\r\n",
        "[~ne-agent]sysname r1\r\n",
        "[*ne-agent]commit\r\n",
        "[~r1]quit\r\n",
        "<r1>quit\r\n",
    ] {
        assert!(screen.contains(want), "{want:?} in {screen:?}");
    }
    // A command with a terminal (`ssh -t`): its lines end as a terminal wants them.
    let out = ssh(
        &agent,
        &key,
        &["-tt"],
        Some("display current-configuration"),
        b"",
    );
    assert_eq!(text(&out.stdout), "#\r\nsysname r1\r\n#\r\nreturn\r\n");
}

/// A user under access control: the read-only user's commit is refused as access denied,
/// the ops user commits within her rules (paramiko, password logins).
#[test]
fn commits_follow_the_users_access_control() {
    let key = Key::new("nacm");
    let Some(agent) = agent("vrp-nacm", &key) else {
        return;
    };
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/nacm");
    python(
        "nacm",
        &agent,
        &[
            &format!("{examples}/users.xml"),
            &format!("{examples}/noc-and-ops.xml"),
        ],
    );
}

/// Two sessions change the same node: the second commit is a conflict and changes nothing.
#[test]
fn a_conflicting_commit_is_reported() {
    let key = Key::new("conflict");
    let Some(agent) = agent("vrp-conflict", &key) else {
        return;
    };
    python("conflict", &agent, &[]);
}

/// The interactive CLI on a paramiko terminal: prompts, Tab, ?, Ctrl-C, commit, quit.
#[test]
fn the_interactive_cli_on_a_paramiko_terminal() {
    let key = Key::new("paramiko");
    let Some(agent) = agent("vrp-paramiko", &key) else {
        return;
    };
    python("tty", &agent, &[]);
}

/// The interactive CLI through OpenSSH on a real pseudo-terminal, driven expect-style
/// (`vrp_pty.py`): Tab, `?` with ranges and descriptions, history, editing, the views, the
/// errors with their caret, commit.
#[test]
fn the_interactive_cli_on_a_pty_through_openssh() {
    let key = Key::new("pty");
    let Some(agent) = agent("vrp-pty", &key) else {
        return;
    };
    let Some(python) = tool("python3") else {
        return;
    };
    let out = Command::new(python)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vrp_pty.py"))
        .arg(agent.port.to_string())
        .arg(key.dir.join("id"))
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all checks passed"),
        "{stdout}\n{}\nagent log:\n{}",
        text(&out.stderr),
        agent.log()
    );
}

/// `display current-configuration` through an exec request.
fn running_text(agent: &Agent, key: &Key) -> String {
    let out = ssh(agent, key, &[], Some("display current-configuration"), b"");
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

/// Bad input on the SSH front end: a very long line, control characters, a connection dropped
/// in the middle of a view, 10,000 lines in one batch. Each gets a precise error or goes
/// through whole; nothing is half-applied and the agent keeps serving.
#[test]
fn bad_input_over_ssh_never_half_applies() {
    let key = Key::new("badin");
    let Some(agent) = agent("vrp-badin", &key) else {
        return;
    };
    let empty = running_text(&agent, &key);

    // A line longer than a batch line may be (64 KiB), after changes: refused with its
    // number, status 1, nothing committed.
    let mut batch = b"system-view\nsysname r1\ninterface x1\n description ".to_vec();
    batch.extend(std::iter::repeat_n(b'd', 200_000));
    batch.extend_from_slice(b"\ncommit\n");
    let out = ssh(&agent, &key, &["-T"], None, &batch);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.starts_with("line 4: ") && err.contains("Error: "),
        "{err}"
    );
    assert_eq!(running_text(&agent, &key), empty);

    // Control characters in a parameter: a wrong parameter, nothing committed.
    let out = ssh(
        &agent,
        &key,
        &["-T"],
        None,
        b"system-view\nsysname ok\nsysname a\x1b[2Jb\ncommit\n",
    );
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("line 3: ") && err.contains("Error: Wrong parameter found at '^' position."),
        "{err}"
    );
    assert_eq!(running_text(&agent, &key), empty);

    // A connection dropped (the client killed) in an interface view with changes: they go
    // with the session.
    let mut client = agent
        .openssh(&key.dir.join("id"))
        .args(["-tt", "admin@127.0.0.1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    {
        use std::io::{Read, Write};
        let mut input = client.stdin.take().unwrap();
        input
            .write_all(b"system-view\rinterface x2\rip address 10.9.9.1 24\rdescription half\r")
            .unwrap();
        input.flush().unwrap();
        let mut output = client.stdout.take().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while !String::from_utf8_lossy(&seen).contains("[*ne-agent-x2]description half") {
            let n = output.read(&mut buf).unwrap();
            assert!(n > 0, "{}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        client.kill().unwrap();
        client.wait().unwrap();
    }
    assert_eq!(running_text(&agent, &key), empty);

    // 10,000 lines in one batch (2,000 monitor groups), with their commit: all of it.
    let mut batch = String::from("system-view\n");
    for i in 0..8 {
        batch.push_str(&format!("interface zq{i}\n quit\n"));
    }
    for i in 0..2000 {
        batch.push_str(&format!(
            "monitor-group g{i}\n monitor enable\n binding interface zq{} down-weight {}\n \
             binding interface zq{}\n quit\n",
            i % 8,
            i % 1000 + 1,
            (i + 1) % 8
        ));
    }
    batch.push_str("commit\n");
    assert!(batch.lines().count() > 10_000);
    let out = ssh(&agent, &key, &["-T"], None, batch.as_bytes());
    assert_eq!(
        (out.status.code(), text(&out.stderr)),
        (Some(0), String::new())
    );
    let shown = running_text(&agent, &key);
    assert_eq!(shown.matches("\nmonitor-group g").count(), 2000);
    assert!(
        shown.contains("\nmonitor-group g1999\n monitor enable\n binding interface zq0\n binding interface zq7 down-weight 1000\n"),
        "{}",
        &shown[shown.find("monitor-group g1999").unwrap_or(0)..][..200.min(shown.len())]
    );
    // The same batch again but its last line a mistake: none of its 10,000 changes.
    let bad = batch
        .replace("monitor-group g", "monitor-group h")
        .replace("commit\n", "commit bogus\n");
    let out = ssh(&agent, &key, &["-T"], None, bad.as_bytes());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(!running_text(&agent, &key).contains("monitor-group h"));
}
