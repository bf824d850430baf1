//! RFC 8040 §4.8 query parameters.

use yang::data::{DataError, ErrorTag, WithDefaults};

use super::path::percent_decode;

/// `content` (§4.8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Content {
    #[default]
    All,
    Config,
    Nonconfig,
}

/// `insert` (§4.8.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    First,
    Last,
    Before,
    After,
}

/// The parameters of one request, each given at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub content: Option<Content>,
    /// None: unbounded.
    pub depth: Option<u32>,
    pub fields: Option<String>,
    pub filter: Option<String>,
    pub insert: Option<Insert>,
    pub point: Option<String>,
    pub start_time: Option<String>,
    pub stop_time: Option<String>,
    pub with_defaults: Option<WithDefaults>,
}

fn bad(message: String) -> DataError {
    DataError::new(ErrorTag::InvalidValue, message)
}

impl Query {
    /// Parse a query string ("" for none).
    pub fn parse(query: &str) -> Result<Query, DataError> {
        let mut q = Query::default();
        let mut seen: Vec<String> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, raw) = pair.split_once('=').unwrap_or((pair, ""));
            let name = percent_decode(name)?;
            let value = percent_decode(&raw.replace('+', " "))?;
            if seen.contains(&name) {
                return Err(bad(format!(
                    "query parameter '{name}' is given more than once"
                )));
            }
            seen.push(name.clone());
            match name.as_str() {
                "content" => {
                    q.content = Some(match value.as_str() {
                        "all" => Content::All,
                        "config" => Content::Config,
                        "nonconfig" => Content::Nonconfig,
                        _ => return Err(bad(format!("content '{value}' is not all, config or nonconfig"))),
                    })
                }
                "depth" => {
                    q.depth = match value.as_str() {
                        "unbounded" => None,
                        v => Some(
                            v.parse::<u32>()
                                .ok()
                                .filter(|d| (1..=65535).contains(d))
                                .ok_or_else(|| bad(format!("depth '{v}' is not 1..65535 or unbounded")))?,
                        ),
                    }
                }
                "fields" => q.fields = Some(value),
                "filter" => q.filter = Some(value),
                "insert" => {
                    q.insert = Some(match value.as_str() {
                        "first" => Insert::First,
                        "last" => Insert::Last,
                        "before" => Insert::Before,
                        "after" => Insert::After,
                        _ => return Err(bad(format!("insert '{value}' is not first, last, before or after"))),
                    })
                }
                "point" => q.point = Some(value),
                "start-time" => q.start_time = Some(value),
                "stop-time" => q.stop_time = Some(value),
                "with-defaults" => {
                    q.with_defaults = Some(WithDefaults::parse(&value).ok_or_else(|| {
                        bad(format!("with-defaults '{value}' is not report-all, trim, explicit or report-all-tagged"))
                    })?)
                }
                other => {
                    return Err(DataError::new(
                        ErrorTag::InvalidValue,
                        format!("unknown query parameter '{other}'"),
                    )
                    .info("bad-attribute", other))
                }
            }
        }
        if matches!(q.insert, Some(Insert::Before | Insert::After)) != q.point.is_some() {
            return Err(bad(
                "insert=before|after needs point, and point needs one of them".into(),
            ));
        }
        Ok(q)
    }

    /// Refuse the parameters a method does not take (RFC 8040 §4.8, the table of methods).
    pub fn only(&self, allowed: &[&str]) -> Result<(), DataError> {
        let given = [
            ("content", self.content.is_some()),
            ("depth", self.depth.is_some()),
            ("fields", self.fields.is_some()),
            ("filter", self.filter.is_some()),
            ("insert", self.insert.is_some()),
            ("point", self.point.is_some()),
            ("start-time", self.start_time.is_some()),
            ("stop-time", self.stop_time.is_some()),
            ("with-defaults", self.with_defaults.is_some()),
        ];
        for (name, present) in given {
            if present && !allowed.contains(&name) {
                return Err(DataError::new(
                    ErrorTag::InvalidValue,
                    format!("query parameter '{name}' does not apply to this request"),
                )
                .info("bad-attribute", name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        let q = Query::parse("content=config&depth=2&with-defaults=report-all").unwrap();
        assert_eq!(q.content, Some(Content::Config));
        assert_eq!(q.depth, Some(2));
        assert_eq!(q.with_defaults, Some(WithDefaults::ReportAll));
        assert_eq!(Query::parse("depth=unbounded").unwrap().depth, None);
        for bad in [
            "depth=0",
            "content=x",
            "bogus=1",
            "depth=1&depth=2",
            "insert=after",
        ] {
            assert!(Query::parse(bad).is_err(), "{bad}");
        }
        assert!(q.only(&["content", "depth"]).is_err());
    }
}
