use super::*;

impl<'a> Compiler<'a> {
    // ---- types ----------------------------------------------------------------------------------

    pub(super) fn resolve_type(&mut self, tst: &'a Stmt, scope: &Scope<'_, 'a>) -> Option<Type> {
        let file = scope.file;
        let name = tst.arg();
        let is_builtin = !name.contains(':') && TypeKind::from_builtin(name).is_some();
        let mut ty = if is_builtin {
            Type::new(name, TypeKind::from_builtin(name)?)
        } else {
            let found = match self.lookup(scope, "typedef", name) {
                Some(f) => f,
                None => {
                    let msg = match name.split_once(':') {
                        Some((p, _)) if self.resolve_qname(file, name).is_none() => {
                            format!("unknown prefix '{p}' in type '{name}'")
                        }
                        _ => format!("type '{name}' not found"),
                    };
                    self.error(file, tst, msg);
                    return None;
                }
            };
            let mut base = match found {
                Found::Local(def_scope, td) => {
                    let s = Scope {
                        file: def_scope.file,
                        stmt: td,
                        parent: Some(def_scope),
                    };
                    self.typedef(td, &s)?
                }
                Found::Top(tfile, td) => {
                    let top = self.top_scope(tfile);
                    let s = Scope {
                        file: tfile,
                        stmt: td,
                        parent: Some(&top),
                    };
                    self.typedef(td, &s)?
                }
            };
            base.name = name.to_string();
            base
        };
        self.restrict(&mut ty, tst, scope, is_builtin);
        Some(ty)
    }

    pub(super) fn typedef(&mut self, td: &'a Stmt, scope: &Scope<'_, 'a>) -> Option<Type> {
        let key = td as *const Stmt as usize;
        if let Some(t) = self.typedef_cache.get(&key) {
            return t.clone();
        }
        // Guard against typedef cycles: a cached None while resolving.
        self.typedef_cache.insert(key, None);
        let resolved = match td.find("type") {
            Some(t) => self.resolve_type(t, scope).map(|mut ty| {
                if let Some(d) = td.find_arg("default") {
                    ty.default = Some(d.to_string());
                    ty.default_prefixes = Some(PrefixTableId(scope.file));
                }
                if let Some(u) = td.find_arg("units") {
                    ty.units = Some(u.to_string());
                }
                ty
            }),
            None => {
                self.error(scope.file, td, "typedef has no type");
                None
            }
        };
        self.typedef_cache.insert(key, resolved.clone());
        resolved
    }

    /// Apply the restrictions written in a `type` statement.
    pub(super) fn restrict(
        &mut self,
        ty: &mut Type,
        tst: &'a Stmt,
        scope: &Scope<'_, 'a>,
        builtin: bool,
    ) {
        let file = scope.file;
        if let Some(fd) = tst.find("fraction-digits") {
            match (&mut ty.kind, fd.arg().parse::<u8>()) {
                (TypeKind::Decimal64 { fraction_digits }, Ok(v))
                    if builtin && (1..=18).contains(&v) =>
                {
                    *fraction_digits = v
                }
                _ => self.error(file, fd, "fraction-digits must be 1..18 on decimal64"),
            }
        } else if builtin && matches!(ty.kind, TypeKind::Decimal64 { .. }) {
            self.error(file, tst, "decimal64 needs fraction-digits");
        }
        for s in &tst.substmts {
            match s.keyword.as_str() {
                "range" => match self.parse_ranges(ty, s.arg()) {
                    Ok(r) => {
                        ty.ranges.push(r);
                        ty.range_error = error_info(s);
                    }
                    Err(e) => self.error(file, s, e),
                },
                "length" => match parse_lengths(ty, s.arg()) {
                    Ok(r) => {
                        ty.lengths.push(r);
                        ty.length_error = error_info(s);
                    }
                    Err(e) => self.error(file, s, e),
                },
                "pattern" => {
                    let invert = s.find_arg("modifier") == Some("invert-match");
                    match Pattern::new(s.arg(), invert) {
                        Ok(pattern) => ty.patterns.push(PatternRestriction {
                            pattern,
                            error: error_info(s),
                        }),
                        Err(e) => self.error(file, s, format!("invalid pattern: {e}")),
                    }
                }
                "path" => {
                    if let TypeKind::Leafref { path, prefixes, .. } = &mut ty.kind {
                        *path = s.arg().to_string();
                        *prefixes = PrefixTableId(file);
                    }
                }
                "require-instance" => match &mut ty.kind {
                    TypeKind::Leafref {
                        require_instance, ..
                    }
                    | TypeKind::InstanceIdentifier { require_instance } => {
                        *require_instance = s.arg() == "true"
                    }
                    _ => self.error(file, s, "require-instance on a type that has none"),
                },
                "base" => {
                    if let TypeKind::IdentityRef(bases) = &mut ty.kind {
                        match self
                            .resolve_qname(file, s.arg())
                            .and_then(|(m, n)| self.identity_index.get(&(m, n.to_string())))
                        {
                            Some(&id) => bases.push(id),
                            None => self.error(file, s, "base identity not found"),
                        }
                    }
                }
                "type" => {
                    if let Some(member) = self.resolve_type(s, scope) {
                        if let TypeKind::Union(members) = &mut ty.kind {
                            members.push(member);
                        }
                    }
                }
                k if !s.is_extension() && !KEYWORDS.contains(&k) => {
                    self.error(file, s, format!("unknown statement '{k}'"))
                }
                _ => {}
            }
        }
        self.enums_and_bits(ty, tst, file, builtin);
        if builtin {
            let missing = match &ty.kind {
                TypeKind::Leafref { path, .. } if path.is_empty() => Some("leafref needs a path"),
                TypeKind::IdentityRef(b) if b.is_empty() => Some("identityref needs a base"),
                TypeKind::Enumeration(e) if e.is_empty() => Some("enumeration needs enums"),
                TypeKind::Union(m) if m.is_empty() => Some("union needs member types"),
                _ => None,
            };
            if let Some(msg) = missing {
                self.error(file, tst, msg);
            }
        }
    }

    pub(super) fn enums_and_bits(
        &mut self,
        ty: &mut Type,
        tst: &'a Stmt,
        file: u32,
        builtin: bool,
    ) {
        if tst.find("enum").is_some() {
            let TypeKind::Enumeration(existing) = &ty.kind else {
                self.error(file, tst, "enum on a type that is not an enumeration");
                return;
            };
            let mut out: Vec<(String, i64)> = Vec::new();
            let mut next: i64 = 0;
            for e in tst.all("enum") {
                if !self.if_features_hold(file, e) {
                    continue;
                }
                let value = match e.find_arg("value").map(|v| v.trim().parse::<i64>()) {
                    Some(Ok(v)) => v,
                    Some(Err(_)) => {
                        self.error(file, e, "enum value must be an integer");
                        continue;
                    }
                    None if builtin => next,
                    None => match existing.iter().find(|(n, _)| n == e.arg()) {
                        Some((_, v)) => *v,
                        None => {
                            self.error(file, e, "enum is not in the base enumeration");
                            continue;
                        }
                    },
                };
                if !builtin && !existing.iter().any(|(n, v)| n == e.arg() && *v == value) {
                    self.error(file, e, "enum is not in the base enumeration");
                    continue;
                }
                if out.iter().any(|(n, _)| n == e.arg()) {
                    self.error(file, e, "duplicate enum name");
                    continue;
                }
                if !(i32::MIN as i64..=i32::MAX as i64).contains(&value) {
                    self.error(file, e, format!("enum value {value} is not an int32"));
                    continue;
                }
                if out.iter().any(|(_, v)| *v == value) {
                    self.error(file, e, format!("duplicate enum value {value}"));
                    continue;
                }
                // An implicit value is one more than the highest so far (RFC 7950 §9.6.4.2).
                let after = value.saturating_add(1);
                next = if out.is_empty() {
                    after
                } else {
                    next.max(after)
                };
                out.push((e.arg().to_string(), value));
            }
            ty.kind = TypeKind::Enumeration(out);
        }
        if tst.find("bit").is_some() {
            let TypeKind::Bits(existing) = &ty.kind else {
                self.error(file, tst, "bit on a type that is not bits");
                return;
            };
            let mut out: Vec<(String, u32)> = Vec::new();
            let mut next: u32 = 0;
            for b in tst.all("bit") {
                if !self.if_features_hold(file, b) {
                    continue;
                }
                let pos = match b.find_arg("position").map(|v| v.trim().parse::<u32>()) {
                    Some(Ok(v)) => v,
                    Some(Err(_)) => {
                        self.error(file, b, "bit position must be 0..4294967295");
                        continue;
                    }
                    None if builtin => next,
                    None => match existing.iter().find(|(n, _)| n == b.arg()) {
                        Some((_, v)) => *v,
                        None => {
                            self.error(file, b, "bit is not in the base type");
                            continue;
                        }
                    },
                };
                if !builtin && !existing.iter().any(|(n, p)| n == b.arg() && *p == pos) {
                    self.error(file, b, "bit is not in the base type");
                    continue;
                }
                if out.iter().any(|(n, _)| n == b.arg()) {
                    self.error(file, b, "duplicate bit name");
                    continue;
                }
                if out.iter().any(|(_, p)| *p == pos) {
                    self.error(file, b, format!("duplicate bit position {pos}"));
                    continue;
                }
                // An implicit position is one more than the highest so far (RFC 7950 §9.7.4.2).
                next = next.max(pos.saturating_add(1));
                out.push((b.arg().to_string(), pos));
            }
            ty.kind = TypeKind::Bits(out);
        }
    }

    pub(super) fn parse_ranges(&self, ty: &Type, arg: &str) -> Result<Vec<(i128, i128)>, String> {
        let (lo_b, hi_b) = match ty.ranges.last() {
            Some(level) => (
                level.first().map(|r| r.0).unwrap_or(0),
                level.last().map(|r| r.1).unwrap_or(0),
            ),
            None => ty
                .kind
                .bounds()
                .ok_or_else(|| format!("range on type {}", ty.kind.builtin_name()))?,
        };
        let fd = match ty.kind {
            TypeKind::Decimal64 { fraction_digits } => Some(fraction_digits),
            _ => None,
        };
        let value = |s: &str| -> Result<i128, String> {
            match s.trim() {
                "min" => Ok(lo_b),
                "max" => Ok(hi_b),
                v => match fd {
                    Some(d) => crate::schema::types::parse_decimal(v, d)
                        .ok_or_else(|| format!("bad decimal64 bound '{v}'")),
                    None => crate::schema::types::parse_integer(v)
                        .ok_or_else(|| format!("bad range bound '{v}'")),
                },
            }
        };
        let mut out = Vec::new();
        for part in arg.split('|') {
            let (lo, hi) = match part.split_once("..") {
                Some((a, b)) => (value(a)?, value(b)?),
                None => {
                    let v = value(part)?;
                    (v, v)
                }
            };
            if lo > hi {
                return Err(format!("range '{}' is empty", part.trim()));
            }
            if let Some(&(_, prev_hi)) = out.last() {
                if lo <= prev_hi {
                    return Err("range parts must be ascending and disjoint".into());
                }
            }
            // A derived range must lie within the base type's range (RFC 7950 §9.2.4).
            let base_ok = match ty.ranges.last() {
                Some(level) => level.iter().any(|&(a, b)| lo >= a && hi <= b),
                None => lo >= lo_b && hi <= hi_b,
            };
            if !base_ok {
                return Err(format!(
                    "range '{}' is not within the base type's range",
                    part.trim()
                ));
            }
            out.push((lo, hi));
        }
        Ok(out)
    }
}

pub(super) fn parse_lengths(ty: &Type, arg: &str) -> Result<Vec<(u64, u64)>, String> {
    if !matches!(ty.kind, TypeKind::String | TypeKind::Binary) {
        return Err(format!("length on type {}", ty.kind.builtin_name()));
    }
    let (lo_b, hi_b) = match ty.lengths.last() {
        Some(level) => (
            level.first().map(|r| r.0).unwrap_or(0),
            level.last().map(|r| r.1).unwrap_or(0),
        ),
        None => (0, u64::MAX),
    };
    let value = |s: &str| -> Result<u64, String> {
        match s.trim() {
            "min" => Ok(lo_b),
            "max" => Ok(hi_b),
            v => v
                .parse::<u64>()
                .map_err(|_| format!("bad length bound '{v}'")),
        }
    };
    let mut out = Vec::new();
    for part in arg.split('|') {
        let (lo, hi) = match part.split_once("..") {
            Some((a, b)) => (value(a)?, value(b)?),
            None => {
                let v = value(part)?;
                (v, v)
            }
        };
        if lo > hi {
            return Err(format!("length '{}' is empty", part.trim()));
        }
        let base_ok = match ty.lengths.last() {
            Some(level) => level.iter().any(|&(a, b)| lo >= a && hi <= b),
            None => true,
        };
        if !base_ok {
            return Err(format!(
                "length '{}' is not within the base type's length",
                part.trim()
            ));
        }
        out.push((lo, hi));
    }
    Ok(out)
}
