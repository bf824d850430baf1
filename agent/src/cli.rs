//! Command line: `ne-agent [run]`, `ne-agent yang check|tree [-p DIR]... FILE...`.

use std::path::PathBuf;
use std::process::ExitCode;

use yang::SchemaBuilder;

pub const USAGE: &str = "\
usage:
  ne-agent [run] [OPTIONS]                start the agent (NETCONF over SSH)
      --listen ADDR:PORT       default 127.0.0.1:8300
      --data-dir DIR           default ./var/ne-agent
      --recovery-user NAME     the recovery user, never locked out (default admin)
      --password-file FILE     the recovery user's password (default: generated once into
                               DATA-DIR/initial-admin-password, mode 0600)
      --authorized-keys FILE   OpenSSH public keys allowed to log in as the recovery user
      --max-unauthenticated N  SSH connections not yet logged in, at most (default 16;
                               more are closed at once)
      --login-grace-time SECS  close an SSH connection not logged in by then (default 30)
      --nacm-groups FILE       NACM groups kept outside the configuration, one line per user:
                               `user: group...` (used when /nacm/enable-external-groups is
                               true; read again on SIGHUP or when the file changes)
      --restconf-listen ADDR:PORT  RESTCONF over HTTPS (default 127.0.0.1:8443)
      --restconf-off           no RESTCONF server
      --restconf-http          plain HTTP instead of HTTPS (only on a loopback address)
      --restconf-header-timeout SECS  a request's headers must arrive within this time, also
                               on an idle keep-alive connection (default 30)
      --tls-cert FILE          the RESTCONF certificate chain (PEM; default: a self-signed
      --tls-key FILE           one generated once into DATA-DIR/restconf_cert.pem, key 0600)
  ne-agent yang check [-p DIR]... FILE... compile YANG modules, print errors
  ne-agent yang tree  [-p DIR]... FILE... print RFC 8340 tree diagrams (as pyang -f tree)
  ne-agent --help | --version

A FILE may also be the name of a module found on the search path or embedded in the agent
(ne-types, ne-interfaces, ne-monitor-group, ne-bfd, ne-vrrp, ne-multicast).";

#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    Run(RunArgs),
    Help,
    Version,
    YangCheck(YangArgs),
    YangTree(YangArgs),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunArgs {
    pub listen: String,
    pub data_dir: PathBuf,
    pub password_file: Option<PathBuf>,
    pub authorized_keys: Option<PathBuf>,
    pub recovery_user: String,
    pub max_unauthenticated: usize,
    pub login_grace_s: u64,
    pub nacm_groups: Option<PathBuf>,
    /// The RESTCONF address; None: no RESTCONF server.
    pub restconf_listen: Option<String>,
    /// Plain HTTP (loopback only).
    pub restconf_http: bool,
    pub restconf_header_timeout_s: u64,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
}

impl Default for RunArgs {
    fn default() -> Self {
        RunArgs {
            listen: "127.0.0.1:8300".into(),
            data_dir: PathBuf::from("./var/ne-agent"),
            password_file: None,
            authorized_keys: None,
            recovery_user: "admin".into(),
            max_unauthenticated: 16,
            login_grace_s: 30,
            nacm_groups: None,
            restconf_listen: Some("127.0.0.1:8443".into()),
            restconf_http: false,
            restconf_header_timeout_s: 30,
            tls_cert: None,
            tls_key: None,
        }
    }
}

impl RunArgs {
    fn parse(args: &[&str]) -> Result<RunArgs, String> {
        let mut out = RunArgs::default();
        let mut off = false;
        let mut it = args.iter();
        while let Some(&a) = it.next() {
            let mut value = || {
                it.next()
                    .map(|v| v.to_string())
                    .ok_or_else(|| format!("{a} needs a value"))
            };
            match a {
                "--listen" => out.listen = value()?,
                "--data-dir" => out.data_dir = PathBuf::from(value()?),
                "--password-file" => out.password_file = Some(PathBuf::from(value()?)),
                "--authorized-keys" => out.authorized_keys = Some(PathBuf::from(value()?)),
                "--recovery-user" => {
                    out.recovery_user = value()?;
                    if out.recovery_user.is_empty() {
                        return Err("--recovery-user needs a non-empty name".into());
                    }
                }
                "--max-unauthenticated" => out.max_unauthenticated = positive(a, &value()?)?,
                "--login-grace-time" => out.login_grace_s = positive(a, &value()?)?,
                "--nacm-groups" => out.nacm_groups = Some(PathBuf::from(value()?)),
                "--restconf-listen" => out.restconf_listen = Some(value()?),
                "--restconf-off" => off = true,
                "--restconf-http" => out.restconf_http = true,
                "--restconf-header-timeout" => {
                    out.restconf_header_timeout_s = positive(a, &value()?)?
                }
                "--tls-cert" => out.tls_cert = Some(PathBuf::from(value()?)),
                "--tls-key" => out.tls_key = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown option '{other}'")),
            }
        }
        if off {
            out.restconf_listen = None;
        }
        if out.tls_cert.is_some() != out.tls_key.is_some() {
            return Err("--tls-cert and --tls-key go together".into());
        }
        Ok(out)
    }
}

/// A number of at least 1.
fn positive<T: std::str::FromStr + PartialOrd + From<u8>>(
    option: &str,
    v: &str,
) -> Result<T, String> {
    v.parse::<T>()
        .ok()
        .filter(|n| *n >= T::from(1))
        .ok_or_else(|| format!("{option} needs a whole number of at least 1, not '{v}'"))
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct YangArgs {
    pub dirs: Vec<PathBuf>,
    pub files: Vec<String>,
}

impl Command {
    pub fn parse(args: &[String]) -> Result<Command, String> {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        match args.as_slice() {
            ["run", rest @ ..] => Ok(Command::Run(RunArgs::parse(rest)?)),
            [first, ..]
                if first.starts_with("--") && *first != "--help" && *first != "--version" =>
            {
                Ok(Command::Run(RunArgs::parse(&args)?))
            }
            [] => Ok(Command::Run(RunArgs::default())),
            ["-h" | "--help" | "help"] => Ok(Command::Help),
            ["-V" | "--version"] => Ok(Command::Version),
            ["yang", "check", rest @ ..] => Ok(Command::YangCheck(YangArgs::parse(rest)?)),
            ["yang", "tree", rest @ ..] => Ok(Command::YangTree(YangArgs::parse(rest)?)),
            ["yang", ..] => Err("'yang' needs 'check' or 'tree'".into()),
            [other, ..] => Err(format!("unknown command '{other}'")),
        }
    }

    pub fn run(self) -> ExitCode {
        match self {
            Command::Help => {
                println!("{USAGE}");
                ExitCode::SUCCESS
            }
            Command::Version => {
                println!("ne-agent {}", env!("CARGO_PKG_VERSION"));
                ExitCode::SUCCESS
            }
            Command::YangCheck(a) => match a.compile() {
                Ok((schema, _)) => {
                    let n = schema.modules.iter().filter(|m| m.implemented).count();
                    eprintln!("ok: {n} module(s), {} schema nodes", schema.nodes.len());
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            },
            Command::YangTree(a) => match a.compile() {
                Ok((schema, files)) => {
                    print!("{}", yang::tree::print(&schema, &files));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("{e}");
                    ExitCode::FAILURE
                }
            },
            Command::Run(args) => crate::agent::run(args),
        }
    }
}

impl YangArgs {
    fn parse(args: &[&str]) -> Result<YangArgs, String> {
        let mut out = YangArgs::default();
        let mut it = args.iter();
        while let Some(&a) = it.next() {
            match a {
                "-p" | "--path" => {
                    let dir = it.next().ok_or("-p needs a directory")?;
                    // pyang accepts a colon-separated list.
                    out.dirs.extend(dir.split(':').map(PathBuf::from));
                }
                _ if a.starts_with('-') && a.len() > 1 => {
                    return Err(format!("unknown option '{a}'"))
                }
                _ => out.files.push(a.to_string()),
            }
        }
        if out.files.is_empty() {
            return Err("no YANG files given".into());
        }
        Ok(out)
    }

    /// Compile the files; returns the schema and the source index of each file, in order.
    fn compile(&self) -> Result<(yang::Schema, Vec<u32>), String> {
        let mut b = SchemaBuilder::new();
        for d in &self.dirs {
            b = b.search_dir(d);
        }
        let mut names = Vec::new();
        for f in &self.files {
            if f.ends_with(".yang") || f.contains('/') {
                let text =
                    std::fs::read_to_string(f).map_err(|e| format!("{f}: cannot read: {e}"))?;
                let name = yang::stmt::parse(&text)
                    .map(|s| s.arg().to_string())
                    .map_err(|e| format!("{f}:{}: error: {}", e.line, e.message))?;
                b = b.source(f.clone(), text);
                names.push(name);
            } else {
                b = b.module(f.clone());
                names.push(f.clone());
            }
        }
        let schema = b.build().map_err(|e| e.to_string())?;
        let files = names
            .iter()
            .filter_map(|n| schema.sources.iter().position(|s| &s.name == n))
            .map(|i| i as u32)
            .collect();
        Ok((schema, files))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn parses_commands() {
        assert_eq!(
            Command::parse(&[]).unwrap(),
            Command::Run(RunArgs::default())
        );
        assert_eq!(
            Command::parse(&args("--listen 127.0.0.1:9 --data-dir /x")).unwrap(),
            Command::Run(RunArgs {
                listen: "127.0.0.1:9".into(),
                data_dir: "/x".into(),
                ..RunArgs::default()
            })
        );
        assert!(Command::parse(&args("run --listen")).is_err());
        // RESTCONF: on by default on 127.0.0.1:8443, moved, turned off, given a certificate.
        let Ok(Command::Run(r)) = Command::parse(&args("run")) else {
            panic!("run")
        };
        assert_eq!(r.restconf_listen.as_deref(), Some("127.0.0.1:8443"));
        let Ok(Command::Run(r)) = Command::parse(&args(
            "--restconf-listen [::1]:9443 --tls-cert c.pem --tls-key k.pem --restconf-header-timeout 5",
        )) else {
            panic!("restconf options")
        };
        assert_eq!(r.restconf_listen.as_deref(), Some("[::1]:9443"));
        assert_eq!(r.tls_cert.as_deref(), Some(std::path::Path::new("c.pem")));
        assert_eq!(r.restconf_header_timeout_s, 5);
        let Ok(Command::Run(r)) =
            Command::parse(&args("--restconf-off --restconf-listen 1.2.3.4:1"))
        else {
            panic!("off")
        };
        assert_eq!(r.restconf_listen, None);
        assert!(
            Command::parse(&args("--tls-cert c.pem")).is_err(),
            "a certificate needs its key"
        );
        assert!(Command::parse(&args("--restconf-header-timeout 0")).is_err());
        assert_eq!(
            Command::parse(&args(
                "--recovery-user root --max-unauthenticated 4 --login-grace-time 5"
            ))
            .unwrap(),
            Command::Run(RunArgs {
                recovery_user: "root".into(),
                max_unauthenticated: 4,
                login_grace_s: 5,
                ..RunArgs::default()
            })
        );
        assert!(Command::parse(&args("--max-unauthenticated 0")).is_err());
        assert!(Command::parse(&args("--login-grace-time x")).is_err());
        assert_eq!(
            Command::parse(&args("--nacm-groups /etc/ne-agent/groups")).unwrap(),
            Command::Run(RunArgs {
                nacm_groups: Some("/etc/ne-agent/groups".into()),
                ..RunArgs::default()
            })
        );
        assert_eq!(
            Command::parse(&args("yang tree -p a:b -p c x.yang")).unwrap(),
            Command::YangTree(YangArgs {
                dirs: vec!["a".into(), "b".into(), "c".into()],
                files: vec!["x.yang".into()],
            })
        );
        assert!(Command::parse(&args("yang check")).is_err());
        assert!(Command::parse(&args("yang tree -q x")).is_err());
        assert!(Command::parse(&args("bogus")).is_err());
    }
}
