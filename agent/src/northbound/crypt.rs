//! RFC 7317 `ianach:crypt-hash` values: the passwords of `/system/authentication/user`.
//!
//! Accepted forms (RFC 7317 §5, the `crypt-hash` pattern):
//! - `$0$<cleartext>`: a password given in clear; the server stores a fresh `$6$` hash instead.
//! - `$5$[rounds=N$]<salt>$<43 chars>`: SHA-256-crypt.
//! - `$6$[rounds=N$]<salt>$<86 chars>`: SHA-512-crypt.
//!
//! `$1$` (MD5-crypt) and every other scheme is refused. The digests are the `sha-crypt` crate's;
//! the string format is Ulrich Drepper's "Unix crypt using SHA-256 and SHA-512" specification,
//! parsed here.

use std::fmt;

use base64ct::{Base64ShaCrypt, Encoding};
use sha_crypt::Params;
use subtle::ConstantTimeEq;

/// The forms [`from_config`] accepts, for error messages.
const ACCEPTED: &str = "accepted are $0$<cleartext>, $5$ (SHA-256-crypt) and $6$ (SHA-512-crypt)";

/// The salt alphabet of crypt(3) (RFC 7317: `[a-zA-Z0-9./]`).
const SALT_ALPHABET: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Longest salt the specification uses; longer ones are truncated by crypt(3) and refused here.
const MAX_SALT: usize = 16;

/// Rounds when `rounds=` is absent (specification, "rounds=<N>" paragraph).
const DEFAULT_ROUNDS: u32 = 5_000;

/// Why a configured crypt-hash value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptError {
    /// `$1$`: MD5-crypt is broken and not accepted.
    #[error("password hash format $1$ (MD5-crypt) is not accepted: {ACCEPTED}")]
    Md5,
    /// A `$id$` this server does not implement.
    #[error("password hash format ${0}$ is not supported: {ACCEPTED}")]
    UnknownId(String),
    /// Not of the form `$id$...`.
    #[error("the password is not a crypt-hash value ($id$...): {ACCEPTED}")]
    NotCrypt,
    /// A `$5$`/`$6$` value whose parts do not follow the format.
    #[error("malformed {format} password hash: {reason}; {ACCEPTED}")]
    Malformed {
        /// `$5$ (SHA-256-crypt)` or `$6$ (SHA-512-crypt)`.
        format: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A `$5$` or `$6$` hash ready to be stored in the configuration.
#[derive(Clone, PartialEq, Eq)]
pub struct Stored {
    hash: String,
    from_cleartext: bool,
}

impl Stored {
    /// The crypt-hash text to store.
    pub fn as_str(&self) -> &str {
        &self.hash
    }

    /// True when the configured value was `$0$` cleartext: the caller stores [`Stored::as_str`]
    /// in its place so that the cleartext never reaches the datastore.
    pub fn from_cleartext(&self) -> bool {
        self.from_cleartext
    }

    /// Does `password` match this hash?
    pub fn verify(&self, password: &str) -> bool {
        verify(password, &self.hash)
    }
}

/// The hash is not secret, but it is no business of a log either.
impl fmt::Debug for Stored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stored")
            .field("scheme", &self.hash.get(..3).unwrap_or(""))
            .field("from_cleartext", &self.from_cleartext)
            .finish()
    }
}

/// Check a configured password value: `$0$` cleartext becomes a fresh `$6$` hash, `$5$` and `$6$`
/// are kept as given, anything else is refused with a message naming the format.
pub fn from_config(value: &str) -> Result<Stored, CryptError> {
    if let Some(clear) = value.strip_prefix("$0$") {
        return Ok(Stored {
            hash: hash(clear),
            from_cleartext: true,
        });
    }
    parse(value)?;
    Ok(Stored {
        hash: value.to_string(),
        from_cleartext: false,
    })
}

/// Does `password` match the stored `$5$`/`$6$` hash? False for any other or malformed value.
/// The digests are compared in constant time.
pub fn verify(password: &str, stored: &str) -> bool {
    let Ok(parsed) = parse(stored) else {
        return false;
    };
    let mut buf = [0u8; 86];
    let Some(computed) = parsed.digest_text(password, &mut buf) else {
        return false;
    };
    computed.ct_eq(parsed.hash.as_bytes()).into()
}

/// A `$6$` (SHA-512-crypt) hash of `cleartext` with a random 16-character salt and the default
/// 5000 rounds.
pub fn hash(cleartext: &str) -> String {
    let salt = random_salt();
    let digest = sha512_text(cleartext, salt.as_bytes(), Params::RECOMMENDED);
    format!("$6${salt}${digest}")
}

/// 16 characters of the salt alphabet from the thread's CSPRNG.
fn random_salt() -> String {
    use rand::RngExt as _;
    let mut rng = rand::rng();
    (0..MAX_SALT)
        .map(|_| char::from(SALT_ALPHABET[rng.random_range(0..SALT_ALPHABET.len())]))
        .collect()
}

/// The two SHA-crypt variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    /// The format's name in messages.
    fn format(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "$5$ (SHA-256-crypt)",
            Algorithm::Sha512 => "$6$ (SHA-512-crypt)",
        }
    }

    /// Length of the encoded digest.
    fn hash_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 43,
            Algorithm::Sha512 => 86,
        }
    }
}

/// The parts of a `$5$`/`$6$` value, borrowed from it.
#[derive(Debug)]
struct Parsed<'a> {
    algorithm: Algorithm,
    params: Params,
    salt: &'a str,
    hash: &'a str,
}

impl Parsed<'_> {
    /// The encoded digest of `password` with this value's salt and rounds, written into `buf`.
    fn digest_text<'b>(&self, password: &str, buf: &'b mut [u8; 86]) -> Option<&'b [u8]> {
        let salt = self.salt.as_bytes();
        let encoded = match self.algorithm {
            Algorithm::Sha256 => {
                let raw = sha_crypt::sha256_crypt(password.as_bytes(), salt, self.params);
                Base64ShaCrypt::encode(&transpose(&raw, &SHA256_ORDER), buf)
            }
            Algorithm::Sha512 => {
                let raw = sha_crypt::sha512_crypt(password.as_bytes(), salt, self.params);
                Base64ShaCrypt::encode(&transpose(&raw, &SHA512_ORDER), buf)
            }
        };
        encoded.ok().map(str::as_bytes)
    }
}

/// Split and check a `$5$`/`$6$` value.
fn parse(value: &str) -> Result<Parsed<'_>, CryptError> {
    let rest = value.strip_prefix('$').ok_or(CryptError::NotCrypt)?;
    let (id, rest) = rest.split_once('$').ok_or(CryptError::NotCrypt)?;
    let algorithm = match id {
        "5" => Algorithm::Sha256,
        "6" => Algorithm::Sha512,
        "1" => return Err(CryptError::Md5),
        "" => return Err(CryptError::NotCrypt),
        other => return Err(CryptError::UnknownId(other.to_string())),
    };
    let malformed = |reason| CryptError::Malformed {
        format: algorithm.format(),
        reason,
    };
    let (params, rest) = match rest.strip_prefix("rounds=") {
        Some(r) => {
            let (n, rest) = r
                .split_once('$')
                .ok_or_else(|| malformed("rounds=N must be followed by '$' and the salt"))?;
            (
                rounds(n).ok_or_else(|| malformed("rounds=N needs a decimal N"))?,
                rest,
            )
        }
        None => (default_params(), rest),
    };
    let (salt, hash) = rest
        .split_once('$')
        .ok_or_else(|| malformed("the salt must be followed by '$' and the hash"))?;
    if salt.is_empty() || salt.len() > MAX_SALT || !in_alphabet(salt) {
        return Err(malformed(
            "the salt must be 1 to 16 characters of [a-zA-Z0-9./]",
        ));
    }
    if hash.len() != algorithm.hash_len() || !in_alphabet(hash) {
        return Err(malformed(match algorithm {
            Algorithm::Sha256 => "the hash must be 43 characters of [a-zA-Z0-9./]",
            Algorithm::Sha512 => "the hash must be 86 characters of [a-zA-Z0-9./]",
        }));
    }
    Ok(Parsed {
        algorithm,
        params,
        salt,
        hash,
    })
}

/// `rounds=N`: decimal digits, clamped to 1000..=999999999 as the specification says (a value
/// too large for an integer is clamped too).
fn rounds(digits: &str) -> Option<Params> {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = digits.parse::<u64>().unwrap_or(u64::MAX);
    let clamped = n.clamp(u64::from(Params::ROUNDS_MIN), u64::from(Params::ROUNDS_MAX));
    Params::new(u32::try_from(clamped).ok()?).ok()
}

/// Parameters when no `rounds=` is given.
fn default_params() -> Params {
    Params::new(DEFAULT_ROUNDS).unwrap_or(Params::RECOMMENDED)
}

fn in_alphabet(s: &str) -> bool {
    s.bytes().all(|b| SALT_ALPHABET.contains(&b))
}

/// The encoded SHA-512-crypt digest as text.
fn sha512_text(password: &str, salt: &[u8], params: Params) -> String {
    let raw = sha_crypt::sha512_crypt(password.as_bytes(), salt, params);
    Base64ShaCrypt::encode_string(&transpose(&raw, &SHA512_ORDER))
}

/// The specification emits the digest bytes in groups of three, in a fixed shuffled order, each
/// group as a little-endian 24-bit number: these are those bytes in output order (the groups of
/// the specification's step 22, each reversed).
const SHA256_ORDER: [usize; 32] = [
    20, 10, 0, 11, 1, 21, 2, 22, 12, 23, 13, 3, 14, 4, 24, 5, 25, 15, 26, 16, 6, 17, 7, 27, 8, 28,
    18, 29, 19, 9, 30, 31,
];

/// As [`SHA256_ORDER`], for SHA-512-crypt.
const SHA512_ORDER: [usize; 64] = [
    42, 21, 0, 1, 43, 22, 23, 2, 44, 45, 24, 3, 4, 46, 25, 26, 5, 47, 48, 27, 6, 7, 49, 28, 29, 8,
    50, 51, 30, 9, 10, 52, 31, 32, 11, 53, 54, 33, 12, 13, 55, 34, 35, 14, 56, 57, 36, 15, 16, 58,
    37, 38, 17, 59, 60, 39, 18, 19, 61, 40, 41, 20, 62, 63,
];

fn transpose<const N: usize>(raw: &[u8; N], order: &[usize; N]) -> [u8; N] {
    let mut out = [0u8; N];
    for (o, &i) in out.iter_mut().zip(order) {
        *o = raw[i];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vectors of Drepper's specification: (password, setting, result).
    const SPEC_VECTORS: &[(&str, &str)] = &[
        (
            "Hello world!",
            "$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5",
        ),
        (
            "Hello world!",
            "$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA",
        ),
        (
            "This is just a test",
            "$5$rounds=5000$toolongsaltstrin$Un/5jzAHMgOGZ5.mWJpuVolil07guHPvOW8mGRcvxa5",
        ),
        (
            "a very much longer text to encrypt.  This one even stretches over morethan one line.",
            "$5$rounds=1400$anotherlongsalts$Rx.j8H.h8HjEDGomFU8bDkXm3XIUnzyxf12oP84Bnq1",
        ),
        (
            "we have a short salt string but not a short password",
            "$5$rounds=77777$short$JiO1O3ZpDAxGJeaDIuqCoEFysAe1mZNJRs3pw0KQRd/",
        ),
        (
            "a short string",
            "$5$rounds=123456$asaltof16chars..$gP3VQ/6X7UUEW3HkBn2w1/Ptq2jxPyzV/cZKmF/wJvD",
        ),
        (
            "the minimum number is still observed",
            "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC",
        ),
        (
            "Hello world!",
            "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1",
        ),
        (
            "Hello world!",
            "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/UrjmM0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v.",
        ),
        (
            "This is just a test",
            "$6$rounds=5000$toolongsaltstrin$lQ8jolhgVRVhY4b5pZKaysCLi0QBxGoNeKQzQ3glMhwllF7oGDZxUhx1yxdYcz/e1JSbq3y6JMxxl8audkUEm0",
        ),
        (
            "a very much longer text to encrypt.  This one even stretches over morethan one line.",
            "$6$rounds=1400$anotherlongsalts$POfYwTEok97VWcjxIiSOjiykti.o/pQs.wPvMxQ6Fm7I6IoYN3CmLs66x9t0oSwbtEW7o7UmJEiDwGqd8p4ur1",
        ),
        (
            "we have a short salt string but not a short password",
            "$6$rounds=77777$short$WuQyW2YR.hBNpjjRhpYD/ifIw05xdfeEyQoMxIXbkvr0gge1a1x3yRULJ5CCaUeOxFmtlcGZelFl5CxtgfiAc0",
        ),
        (
            "a short string",
            "$6$rounds=123456$asaltof16chars..$BtCwjqMJGx5hrJhZywWvt0RLE8uZ4oPwcelCjmw2kSYu.Ec6ycULevoBK25fs2xXgMNrCzIMVcgEJAstJeonj1",
        ),
        (
            "the minimum number is still observed",
            "$6$rounds=1000$roundstoolow$kUMsbe306n21p9R.FRkW3IGn.S9NPN0x50YhH1xhLsPuWGsUSklZt58jaTfF4ZEQpyUNGc0dqbpBYYBaHHrsX.",
        ),
    ];

    #[test]
    fn specification_vectors_verify() {
        for (password, stored) in SPEC_VECTORS {
            assert!(verify(password, stored), "{stored}");
            assert!(!verify("wrong", stored), "{stored}");
            assert!(from_config(stored).is_ok(), "{stored}");
        }
    }

    #[test]
    fn rounds_below_the_minimum_are_clamped() {
        // The specification's "rounds=10" setting produces the rounds=1000 digest.
        let at_minimum = "$5$rounds=1000$roundstoolow$yfvwcWrQ8l/K0DAWyuPMDNHpIVlTQebY9l/gL972bIC";
        let below = at_minimum.replace("rounds=1000", "rounds=10");
        assert!(verify("the minimum number is still observed", &below));
    }

    #[test]
    fn a_password_differing_in_one_character_fails() {
        let (password, stored) = SPEC_VECTORS[7];
        assert!(!verify("Hello world?", stored));
        assert!(!verify(&password[..password.len() - 1], stored));
        assert!(!verify("", stored));
    }

    #[test]
    fn a_tampered_hash_fails() {
        let (password, stored) = SPEC_VECTORS[0];
        let mut tampered = stored.to_string();
        tampered.pop();
        tampered.push('6');
        assert!(!verify(password, &tampered));
    }

    #[test]
    fn hash_makes_a_verifiable_sha512_value_with_a_fresh_salt() {
        let a = hash("s3cret");
        let b = hash("s3cret");
        assert_ne!(a, b, "salts differ");
        for h in [&a, &b] {
            let parsed = parse(h).expect("own output parses");
            assert_eq!(parsed.algorithm, Algorithm::Sha512);
            assert_eq!(parsed.salt.len(), 16);
            assert!(verify("s3cret", h));
            assert!(!verify("s3cret ", h));
        }
    }

    #[test]
    fn cleartext_config_becomes_a_hash() {
        let stored = from_config("$0$admin pass").expect("cleartext accepted");
        assert!(stored.from_cleartext());
        assert!(stored.as_str().starts_with("$6$"));
        assert!(!stored.as_str().contains("admin pass"));
        assert!(stored.verify("admin pass"));
        assert!(!format!("{stored:?}").contains(stored.as_str()));
    }

    #[test]
    fn hashed_config_is_kept_as_given() {
        let (password, value) = SPEC_VECTORS[1];
        let stored = from_config(value).expect("accepted");
        assert!(!stored.from_cleartext());
        assert_eq!(stored.as_str(), value);
        assert!(stored.verify(password));
    }

    #[test]
    fn md5_and_unknown_schemes_are_refused_by_name() {
        let md5 = from_config("$1$saltsalt$qjXMvbEw8oaL.CzflDugX/").unwrap_err();
        assert_eq!(md5, CryptError::Md5);
        let text = md5.to_string();
        assert!(text.contains("$1$ (MD5-crypt)"), "{text}");
        assert!(text.contains("$5$") && text.contains("$6$") && text.contains("$0$"));

        let bcrypt = from_config("$2b$10$abcdefghijklmnopqrstuu").unwrap_err();
        assert_eq!(bcrypt, CryptError::UnknownId("2b".into()));
        assert!(bcrypt.to_string().contains("$2b$ is not supported"));

        for plain in ["hunter2", "", "$", "$$x"] {
            assert_eq!(from_config(plain), Err(CryptError::NotCrypt), "{plain:?}");
        }
        assert!(!verify("x", "$1$saltsalt$qjXMvbEw8oaL.CzflDugX/"));
    }

    #[test]
    fn malformed_values_name_the_format_and_the_fault() {
        let cases = [
            ("$6$saltstring", "salt must be followed"),
            ("$6$$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "1 to 16"),
            ("$6$saltstringsaltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "1 to 16"),
            ("$6$salt_string$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1", "1 to 16"),
            ("$6$saltstring$tooshort", "86 characters"),
            ("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5x", "43 characters"),
            ("$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc!", "43 characters"),
            ("$5$rounds=$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "decimal"),
            ("$5$rounds=-5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5", "decimal"),
            ("$5$rounds=5000", "rounds=N must be followed"),
        ];
        for (value, fault) in cases {
            let err = from_config(value).unwrap_err();
            let text = err.to_string();
            let format = if value.starts_with("$5$") {
                "$5$ (SHA-256-crypt)"
            } else {
                "$6$ (SHA-512-crypt)"
            };
            assert!(
                text.contains(format) && text.contains(fault),
                "{value}: {text}"
            );
            assert!(!verify("Hello world!", value), "{value}");
        }
    }

    #[test]
    fn huge_rounds_clamp_instead_of_failing_to_parse() {
        assert!(rounds("99999999999999999999999").is_some());
        assert_eq!(
            rounds("10").map(|p| p.to_string()),
            Some("rounds=1000".to_string())
        );
    }
}
