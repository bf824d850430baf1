//! Resolved YANG types (RFC 7950 §9) and value checking with canonical forms.

use std::fmt;

use base64::Engine as _;

use super::{IdentityId, ModuleId, NodeId, PrefixTableId, Schema};
use crate::pattern::Pattern;

/// A restriction's custom error (`error-message`, `error-app-tag`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorInfo {
    pub message: Option<String>,
    pub app_tag: Option<String>,
}

#[derive(Debug, Clone)]
pub struct PatternRestriction {
    pub pattern: Pattern,
    pub error: ErrorInfo,
}

/// A type with its whole typedef chain flattened: every level's restrictions must hold.
#[derive(Debug, Clone)]
pub struct Type {
    /// The type name as written at the use site (`string`, `inet:ipv4-address`).
    pub name: String,
    pub kind: TypeKind,
    /// Range restrictions, one interval list per derivation level (decimal64 values scaled).
    pub ranges: Vec<Vec<(i128, i128)>>,
    pub range_error: ErrorInfo,
    /// Length restrictions (characters for strings, octets for binary), one list per level.
    pub lengths: Vec<Vec<(u64, u64)>>,
    pub length_error: ErrorInfo,
    pub patterns: Vec<PatternRestriction>,
    /// Default inherited from the typedef chain.
    pub default: Option<String>,
    /// The prefix table of the file whose typedef wrote [`Type::default`]: prefixes in the
    /// default resolve there, and an unprefixed identity belongs to that file's module.
    pub default_prefixes: Option<PrefixTableId>,
    pub units: Option<String>,
}

#[derive(Debug, Clone)]
pub enum TypeKind {
    Int {
        signed: bool,
        bits: u8,
    },
    Decimal64 {
        fraction_digits: u8,
    },
    String,
    Boolean,
    Empty,
    Binary,
    Enumeration(Vec<(String, i64)>),
    Bits(Vec<(String, u32)>),
    IdentityRef(Vec<IdentityId>),
    Leafref {
        path: String,
        prefixes: PrefixTableId,
        require_instance: bool,
        /// The leaf the path points at, resolved after compilation.
        target: Option<NodeId>,
    },
    InstanceIdentifier {
        require_instance: bool,
    },
    Union(Vec<Type>),
}

impl TypeKind {
    pub fn builtin_name(&self) -> &'static str {
        match self {
            TypeKind::Int {
                signed: true,
                bits: 8,
            } => "int8",
            TypeKind::Int {
                signed: true,
                bits: 16,
            } => "int16",
            TypeKind::Int {
                signed: true,
                bits: 32,
            } => "int32",
            TypeKind::Int { signed: true, .. } => "int64",
            TypeKind::Int {
                signed: false,
                bits: 8,
            } => "uint8",
            TypeKind::Int {
                signed: false,
                bits: 16,
            } => "uint16",
            TypeKind::Int {
                signed: false,
                bits: 32,
            } => "uint32",
            TypeKind::Int { signed: false, .. } => "uint64",
            TypeKind::Decimal64 { .. } => "decimal64",
            TypeKind::String => "string",
            TypeKind::Boolean => "boolean",
            TypeKind::Empty => "empty",
            TypeKind::Binary => "binary",
            TypeKind::Enumeration(_) => "enumeration",
            TypeKind::Bits(_) => "bits",
            TypeKind::IdentityRef(_) => "identityref",
            TypeKind::Leafref { .. } => "leafref",
            TypeKind::InstanceIdentifier { .. } => "instance-identifier",
            TypeKind::Union(_) => "union",
        }
    }

    /// The built-in type for a name, with no restrictions.
    pub fn from_builtin(name: &str) -> Option<TypeKind> {
        let int = |signed, bits| Some(TypeKind::Int { signed, bits });
        match name {
            "int8" => int(true, 8),
            "int16" => int(true, 16),
            "int32" => int(true, 32),
            "int64" => int(true, 64),
            "uint8" => int(false, 8),
            "uint16" => int(false, 16),
            "uint32" => int(false, 32),
            "uint64" => int(false, 64),
            "decimal64" => Some(TypeKind::Decimal64 { fraction_digits: 0 }),
            "string" => Some(TypeKind::String),
            "boolean" => Some(TypeKind::Boolean),
            "empty" => Some(TypeKind::Empty),
            "binary" => Some(TypeKind::Binary),
            "enumeration" => Some(TypeKind::Enumeration(Vec::new())),
            "bits" => Some(TypeKind::Bits(Vec::new())),
            "identityref" => Some(TypeKind::IdentityRef(Vec::new())),
            "leafref" => Some(TypeKind::Leafref {
                path: String::new(),
                prefixes: PrefixTableId(0),
                require_instance: true,
                target: None,
            }),
            "instance-identifier" => Some(TypeKind::InstanceIdentifier {
                require_instance: true,
            }),
            "union" => Some(TypeKind::Union(Vec::new())),
            _ => None,
        }
    }

    /// The value space bounds of an integer or decimal64 type (scaled).
    pub fn bounds(&self) -> Option<(i128, i128)> {
        match *self {
            TypeKind::Int { signed: true, bits } => {
                let max = (1i128 << (bits - 1)) - 1;
                Some((-max - 1, max))
            }
            TypeKind::Int {
                signed: false,
                bits,
            } => Some((0, (1i128 << bits) - 1)),
            TypeKind::Decimal64 { .. } => Some((i64::MIN as i128, i64::MAX as i128)),
            _ => None,
        }
    }
}

/// Why a value does not fit its type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    pub message: String,
    pub app_tag: Option<String>,
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ValueError {}

fn verr(message: impl Into<String>) -> ValueError {
    ValueError {
        message: message.into(),
        app_tag: None,
    }
}

fn custom(info: &ErrorInfo, default: String) -> ValueError {
    ValueError {
        message: info.message.clone().unwrap_or(default),
        app_tag: info.app_tag.clone(),
    }
}

/// Resolves a prefix found in a value (identityref, instance-identifier) to a module.
pub trait PrefixResolver {
    fn module_for_prefix(&self, prefix: &str) -> Option<ModuleId>;
}

impl<F: Fn(&str) -> Option<ModuleId>> PrefixResolver for F {
    fn module_for_prefix(&self, prefix: &str) -> Option<ModuleId> {
        self(prefix)
    }
}

impl Type {
    pub fn new(name: impl Into<String>, kind: TypeKind) -> Type {
        Type {
            name: name.into(),
            kind,
            ranges: Vec::new(),
            range_error: ErrorInfo::default(),
            lengths: Vec::new(),
            length_error: ErrorInfo::default(),
            patterns: Vec::new(),
            default: None,
            default_prefixes: None,
            units: None,
        }
    }

    /// Check a lexical value and return its canonical form (RFC 7950 §9, "Canonical Form").
    /// `default_module` is the module an unprefixed identity belongs to.
    pub fn canonical(
        &self,
        schema: &Schema,
        value: &str,
        prefixes: &dyn PrefixResolver,
        default_module: Option<ModuleId>,
    ) -> Result<String, ValueError> {
        match &self.kind {
            TypeKind::Int { .. } => {
                let n = parse_integer(value)
                    .ok_or_else(|| verr(format!("'{value}' is not a valid {}", self.name)))?;
                let (lo, hi) = self.kind.bounds().unwrap_or((i128::MIN, i128::MAX));
                if n < lo || n > hi {
                    return Err(verr(format!(
                        "'{value}' is out of the range of {} ({lo}..{hi})",
                        self.kind.builtin_name()
                    )));
                }
                self.check_range(n, value)?;
                Ok(n.to_string())
            }
            TypeKind::Decimal64 { fraction_digits } => {
                let n = parse_decimal(value, *fraction_digits).ok_or_else(|| {
                    verr(format!(
                        "'{value}' is not a decimal64 with at most {fraction_digits} fraction digits"
                    ))
                })?;
                self.check_range(n, value)?;
                Ok(format_decimal(n, *fraction_digits))
            }
            TypeKind::String => {
                let len = value.chars().count() as u64;
                self.check_length(len, value)?;
                self.check_patterns(value)?;
                Ok(value.to_string())
            }
            TypeKind::Boolean => match value {
                "true" | "false" => Ok(value.to_string()),
                _ => Err(verr(format!("'{value}' is not a boolean (true or false)"))),
            },
            TypeKind::Empty => {
                if value.is_empty() {
                    Ok(String::new())
                } else {
                    Err(verr("a leaf of type empty takes no value"))
                }
            }
            TypeKind::Binary => {
                let compact: String = value.chars().filter(|c| !c.is_whitespace()).collect();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(compact.as_bytes())
                    .map_err(|_| verr("value is not valid base64"))?;
                self.check_length(bytes.len() as u64, value)?;
                Ok(base64::engine::general_purpose::STANDARD.encode(bytes))
            }
            TypeKind::Enumeration(enums) => {
                if enums.iter().any(|(n, _)| n == value) {
                    Ok(value.to_string())
                } else {
                    let names: Vec<&str> = enums.iter().map(|(n, _)| n.as_str()).collect();
                    Err(verr(format!(
                        "'{value}' is not one of the enumeration values ({})",
                        names.join(", ")
                    )))
                }
            }
            TypeKind::Bits(bits) => {
                let mut set: Vec<(u32, &str)> = Vec::new();
                for word in value.split_whitespace() {
                    let Some((name, pos)) = bits.iter().find(|(n, _)| n == word) else {
                        return Err(verr(format!("'{word}' is not a bit of this type")));
                    };
                    if set.iter().any(|(p, _)| p == pos) {
                        return Err(verr(format!("bit '{word}' is set twice")));
                    }
                    set.push((*pos, name));
                }
                set.sort();
                Ok(set.iter().map(|(_, n)| *n).collect::<Vec<_>>().join(" "))
            }
            TypeKind::IdentityRef(bases) => {
                let (module, name) = split_qname(value, prefixes, default_module)
                    .ok_or_else(|| verr(format!("'{value}' has an unknown prefix")))?;
                let id = schema
                    .find_identity(module, name)
                    .ok_or_else(|| verr(format!("'{value}' is not a known identity")))?;
                if !bases.iter().all(|&b| schema.identity_derived(id, b, false)) {
                    return Err(verr(format!(
                        "identity '{value}' is not derived from {}",
                        bases
                            .iter()
                            .map(|&b| schema.identity(b).name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                Ok(format!("{}:{}", schema.module(module).prefix, name))
            }
            TypeKind::Leafref { target, .. } => match target {
                Some(t) => match &schema.node(*t).ty {
                    Some(tt) => tt.canonical(schema, value, prefixes, default_module),
                    None => Ok(value.to_string()),
                },
                None => Ok(value.to_string()),
            },
            TypeKind::InstanceIdentifier { .. } => {
                crate::instance_id::canonical(schema, value, prefixes)
                    .map_err(|e| verr(format!("invalid instance-identifier: {e}")))
            }
            TypeKind::Union(members) => {
                let mut errs = Vec::new();
                for m in members {
                    match m.canonical(schema, value, prefixes, default_module) {
                        Ok(v) => return Ok(v),
                        Err(e) => errs.push(e.message),
                    }
                }
                Err(verr(format!(
                    "'{value}' matches no member of the union ({})",
                    errs.join("; ")
                )))
            }
        }
    }

    fn check_range(&self, n: i128, value: &str) -> Result<(), ValueError> {
        for level in &self.ranges {
            if !level.iter().any(|&(lo, hi)| n >= lo && n <= hi) {
                return Err(custom(
                    &self.range_error,
                    format!("'{value}' is out of range {}", self.format_intervals(level)),
                ));
            }
        }
        Ok(())
    }

    fn format_intervals(&self, level: &[(i128, i128)]) -> String {
        let fd = match self.kind {
            TypeKind::Decimal64 { fraction_digits } => Some(fraction_digits),
            _ => None,
        };
        let f = |v: i128| match fd {
            Some(d) => format_decimal(v, d),
            None => v.to_string(),
        };
        level
            .iter()
            .map(|&(lo, hi)| {
                if lo == hi {
                    f(lo)
                } else {
                    format!("{}..{}", f(lo), f(hi))
                }
            })
            .collect::<Vec<_>>()
            .join(" | ")
    }

    fn check_length(&self, len: u64, value: &str) -> Result<(), ValueError> {
        for level in &self.lengths {
            if !level.iter().any(|&(lo, hi)| len >= lo && len <= hi) {
                let ranges: Vec<String> = level
                    .iter()
                    .map(|&(lo, hi)| {
                        if lo == hi {
                            lo.to_string()
                        } else {
                            format!("{lo}..{hi}")
                        }
                    })
                    .collect();
                let shown: String = value.chars().take(40).collect();
                return Err(custom(
                    &self.length_error,
                    format!(
                        "length {len} of '{shown}' is outside the allowed length {}",
                        ranges.join(" | ")
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_patterns(&self, value: &str) -> Result<(), ValueError> {
        for p in &self.patterns {
            if !p.pattern.is_match(value) {
                let shown: String = value.chars().take(40).collect();
                let default = if p.pattern.is_inverted() {
                    format!(
                        "'{shown}' matches the excluded pattern '{}'",
                        p.pattern.source()
                    )
                } else {
                    format!("'{shown}' does not match pattern '{}'", p.pattern.source())
                };
                return Err(custom(&p.error, default));
            }
        }
        Ok(())
    }

    /// The enumeration's integer value of a name.
    pub fn enum_value(&self, name: &str) -> Option<i64> {
        match &self.kind {
            TypeKind::Enumeration(e) => e.iter().find(|(n, _)| n == name).map(|(_, v)| *v),
            _ => None,
        }
    }
}

/// Split `prefix:name`, resolving the prefix; an unprefixed name takes `default_module`.
pub fn split_qname<'v>(
    value: &'v str,
    prefixes: &dyn PrefixResolver,
    default_module: Option<ModuleId>,
) -> Option<(ModuleId, &'v str)> {
    let value = value.trim();
    match value.split_once(':') {
        Some((p, n)) => Some((prefixes.module_for_prefix(p)?, n)),
        None => Some((default_module?, value)),
    }
}

/// Integer lexical form: optional sign, decimal digits (RFC 7950 §9.2.1 also allows hex and octal
/// in YANG source for ranges, but instance values are decimal).
pub fn parse_integer(s: &str) -> Option<i128> {
    let s = s.trim();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || digits.len() > 25 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v: i128 = digits.parse().ok()?;
    Some(if neg { -v } else { v })
}

/// decimal64 lexical form -> value scaled by 10^fraction_digits.
pub fn parse_decimal(s: &str, fraction_digits: u8) -> Option<i128> {
    let s = s.trim();
    let (neg, body) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => {
            if f.is_empty() {
                return None;
            }
            (i, f)
        }
        None => (body, ""),
    };
    if int.is_empty()
        || int.len() > 19
        || !int.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > fraction_digits as usize {
        return None;
    }
    let scale = 10i128.pow(fraction_digits as u32);
    let mut v = int.parse::<i128>().ok()? * scale;
    if !frac.is_empty() {
        let f: i128 = frac.parse().ok()?;
        v += f * 10i128.pow((fraction_digits as usize - frac.len()) as u32);
    }
    let v = if neg { -v } else { v };
    if v < i64::MIN as i128 || v > i64::MAX as i128 {
        return None;
    }
    Some(v)
}

/// Canonical decimal64: no leading zeros, at least one fraction digit, no trailing zeros.
pub fn format_decimal(v: i128, fraction_digits: u8) -> String {
    if fraction_digits == 0 {
        return format!("{v}.0");
    }
    let scale = 10i128.pow(fraction_digits as u32);
    let sign = if v < 0 { "-" } else { "" };
    let a = v.abs();
    let frac = format!("{:0width$}", a % scale, width = fraction_digits as usize);
    let frac = frac.trim_end_matches('0');
    let frac = if frac.is_empty() { "0" } else { frac };
    format!("{sign}{}.{frac}", a / scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_round_trip() {
        assert_eq!(parse_decimal("1.50", 2), Some(150));
        assert_eq!(format_decimal(150, 2), "1.5");
        assert_eq!(format_decimal(-5, 2), "-0.05");
        assert_eq!(format_decimal(100, 2), "1.0");
        assert_eq!(parse_decimal("1.234", 2), None);
        assert_eq!(parse_decimal("1.230", 2), Some(123));
        assert_eq!(parse_decimal(".5", 2), None);
        assert_eq!(parse_decimal("5.", 2), None);
        assert_eq!(
            parse_decimal("-92233720368547758.08", 2),
            Some(i64::MIN as i128)
        );
        assert_eq!(parse_decimal("92233720368547758.08", 2), None);
    }

    #[test]
    fn integers() {
        assert_eq!(parse_integer("+12"), Some(12));
        assert_eq!(parse_integer("-0"), Some(0));
        assert_eq!(parse_integer("1e3"), None);
        assert_eq!(parse_integer(""), None);
        assert_eq!(parse_integer("99999999999999999999999999999999"), None);
        let k = TypeKind::Int {
            signed: false,
            bits: 8,
        };
        assert_eq!(k.bounds(), Some((0, 255)));
        let k = TypeKind::Int {
            signed: true,
            bits: 64,
        };
        assert_eq!(k.bounds(), Some((i64::MIN as i128, i64::MAX as i128)));
    }
}
