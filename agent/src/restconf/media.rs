//! The two encodings of RESTCONF messages and how a request chooses one (RFC 8040 §5.2).

/// `application/yang-data+json` (RFC 7951) or `application/yang-data+xml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Xml,
}

impl Encoding {
    pub fn data_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/yang-data+json",
            Encoding::Xml => "application/yang-data+xml",
        }
    }

    pub fn patch_type(self) -> &'static str {
        match self {
            Encoding::Json => "application/yang-patch+json",
            Encoding::Xml => "application/yang-patch+xml",
        }
    }

    /// The encoding a media type names (`+json`/`+xml` structured suffixes and the plain
    /// `application/json`/`xml` that some clients send), ignoring parameters.
    pub fn of_media_type(media: &str) -> Option<Encoding> {
        let t = media
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match t.as_str() {
            "application/yang-data+json" | "application/yang-patch+json" | "application/json" => {
                Some(Encoding::Json)
            }
            "application/yang-data+xml"
            | "application/yang-patch+xml"
            | "application/xml"
            | "text/xml" => Some(Encoding::Xml),
            _ => None,
        }
    }
}

/// The reply's encoding from an `Accept` header: the first acceptable type in order of
/// preference (q-values), JSON for `*/*`, none given, or a request body's encoding when the
/// header allows any. `Err` carries the header when it accepts neither (406).
pub fn negotiate(accept: Option<&str>, body: Option<Encoding>) -> Result<Encoding, String> {
    let fallback = body.unwrap_or(Encoding::Json);
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else {
        return Ok(fallback);
    };
    let mut choices: Vec<(f32, usize, Option<Encoding>)> = Vec::new();
    for (i, item) in accept.split(',').enumerate() {
        let mut parts = item.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .filter_map(|q| q.trim().parse::<f32>().ok())
            .next()
            .unwrap_or(1.0);
        if q <= 0.0 {
            continue;
        }
        let enc = match media.as_str() {
            "*/*" | "application/*" => Some(fallback),
            m => match Encoding::of_media_type(m) {
                Some(e) => Some(e),
                None => continue,
            },
        };
        choices.push((q, i, enc));
    }
    choices.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    choices
        .first()
        .and_then(|c| c.2)
        .ok_or_else(|| accept.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_chooses_by_preference() {
        assert_eq!(negotiate(None, None), Ok(Encoding::Json));
        assert_eq!(negotiate(None, Some(Encoding::Xml)), Ok(Encoding::Xml));
        assert_eq!(
            negotiate(Some("application/yang-data+xml"), None),
            Ok(Encoding::Xml)
        );
        assert_eq!(
            negotiate(
                Some("application/yang-data+xml;q=0.5, application/yang-data+json"),
                None
            ),
            Ok(Encoding::Json)
        );
        assert_eq!(
            negotiate(Some("*/*"), Some(Encoding::Xml)),
            Ok(Encoding::Xml)
        );
        assert!(negotiate(Some("text/html"), None).is_err());
    }
}
