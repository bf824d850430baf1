//! RFC 8040 §7.1 `errors` bodies and the status code of each error-tag (§7), in one place.

use datastore::StoreError;
use yang::data::json::{to_json_path, write_string};
use yang::data::{DataError, ErrorTag};
use yang::xml::{escape_attr, escape_text};
use yang::Schema;

use super::media::Encoding;
use super::RESTCONF_NS;

/// A refused request: its status and the errors that say why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestError {
    pub status: u16,
    /// Errors about the request itself are `protocol`, about the data `application`.
    pub protocol: bool,
    pub errors: Vec<DataError>,
}

impl RestError {
    /// One error with the status its tag calls for.
    pub fn new(tag: ErrorTag, message: impl Into<String>) -> RestError {
        RestError::from(DataError::new(tag, message))
    }

    pub fn with_status(mut self, status: u16) -> RestError {
        self.status = status;
        self
    }

    pub fn protocol(mut self) -> RestError {
        self.protocol = true;
        self
    }

    /// 404: the resource does not exist.
    pub fn not_found(what: &str) -> RestError {
        RestError::new(ErrorTag::InvalidValue, format!("{what} does not exist")).with_status(404)
    }

    /// The body in `enc`.
    pub fn body(&self, schema: &Schema, enc: Encoding) -> String {
        match enc {
            Encoding::Json => self.json(schema),
            Encoding::Xml => self.xml(schema),
        }
    }

    fn error_type(&self, e: &DataError) -> &'static str {
        if self.protocol
            || matches!(
                e.tag,
                ErrorTag::MalformedMessage
                    | ErrorTag::LockDenied
                    | ErrorTag::MissingAttribute
                    | ErrorTag::BadAttribute
                    | ErrorTag::UnknownAttribute
            )
        {
            "protocol"
        } else {
            "application"
        }
    }

    fn json(&self, schema: &Schema) -> String {
        let mut out = String::from("{\"ietf-restconf:errors\":{\"error\":[");
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"error-type\":\"");
            out.push_str(self.error_type(e));
            out.push_str("\",\"error-tag\":\"");
            out.push_str(e.tag.as_str());
            out.push('"');
            if let Some(a) = &e.app_tag {
                out.push_str(",\"error-app-tag\":");
                write_string(a, &mut out);
            }
            if let Some(p) = &e.path {
                out.push_str(",\"error-path\":");
                let json = to_json_path(schema, p).unwrap_or_else(|| p.clone());
                write_string(&json, &mut out);
            }
            out.push_str(",\"error-message\":");
            write_string(&e.message, &mut out);
            if !e.info.is_empty() {
                out.push_str(",\"error-info\":{");
                for (j, (k, v)) in e.info.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    write_string(k, &mut out);
                    out.push(':');
                    write_string(v, &mut out);
                }
                out.push('}');
            }
            out.push('}');
        }
        out.push_str("]}}");
        out
    }

    fn xml(&self, schema: &Schema) -> String {
        let mut x = format!("<errors xmlns=\"{RESTCONF_NS}\">");
        for e in &self.errors {
            x.push_str("<error><error-type>");
            x.push_str(self.error_type(e));
            x.push_str("</error-type><error-tag>");
            x.push_str(e.tag.as_str());
            x.push_str("</error-tag>");
            if let Some(a) = &e.app_tag {
                x.push_str(&format!(
                    "<error-app-tag>{}</error-app-tag>",
                    escape_text(a)
                ));
            }
            if let Some(p) = &e.path {
                // The prefixes the path uses, declared on the element itself.
                let mut decls = String::new();
                for m in &schema.modules {
                    let (needle, decl) = (format!("{}:", m.prefix), format!("xmlns:{}=", m.prefix));
                    if p.contains(&needle) && !decls.contains(&decl) {
                        decls.push_str(&format!(" {decl}\"{}\"", escape_attr(&m.namespace)));
                    }
                }
                x.push_str(&format!(
                    "<error-path{decls}>{}</error-path>",
                    escape_text(p)
                ));
            }
            x.push_str(&format!(
                "<error-message>{}</error-message>",
                escape_text(&e.message)
            ));
            if !e.info.is_empty() {
                x.push_str("<error-info>");
                for (k, v) in &e.info {
                    x.push_str(&format!("<{k}>{}</{k}>", escape_text(v)));
                }
                x.push_str("</error-info>");
            }
            x.push_str("</error>");
        }
        x.push_str("</errors>");
        x
    }
}

/// The status of an error-tag (RFC 8040 §7).
pub fn status_of(tag: ErrorTag) -> u16 {
    match tag {
        ErrorTag::InUse
        | ErrorTag::LockDenied
        | ErrorTag::ResourceDenied
        | ErrorTag::DataExists
        | ErrorTag::DataMissing => 409,
        ErrorTag::TooBig => 413,
        ErrorTag::AccessDenied => 403,
        ErrorTag::OperationNotSupported => 501,
        ErrorTag::RollbackFailed | ErrorTag::OperationFailed => 500,
        ErrorTag::InvalidValue
        | ErrorTag::MissingAttribute
        | ErrorTag::BadAttribute
        | ErrorTag::UnknownAttribute
        | ErrorTag::MissingElement
        | ErrorTag::BadElement
        | ErrorTag::UnknownElement
        | ErrorTag::UnknownNamespace
        | ErrorTag::MalformedMessage => 400,
    }
}

impl From<DataError> for RestError {
    fn from(e: DataError) -> RestError {
        RestError {
            status: status_of(e.tag),
            protocol: false,
            errors: vec![e],
        }
    }
}

impl From<Vec<DataError>> for RestError {
    fn from(errors: Vec<DataError>) -> RestError {
        let status = errors.first().map_or(500, |e| status_of(e.tag));
        RestError {
            status,
            protocol: false,
            errors,
        }
    }
}

impl From<StoreError> for RestError {
    fn from(e: StoreError) -> RestError {
        let status = match &e {
            // A failed commit-conflict check is a precondition the client could not state.
            StoreError::Conflict(_) => 409,
            StoreError::Invalid(_) | StoreError::Vetoed(_) => 400,
            _ => 0,
        };
        let mut r = RestError::from(e.to_data_errors());
        if status != 0 {
            r.status = status;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_encodings_carry_every_field() {
        let schema = yang::SchemaBuilder::new().embedded().build().unwrap();
        let e = RestError::from(
            DataError::new(ErrorTag::InvalidValue, "bad \"x\" <y>")
                .app_tag("t")
                .path("/if:interfaces/if:interface[if:name='a']")
                .info("bad-element", "mtu"),
        );
        assert_eq!(e.status, 400);
        let j = e.body(&schema, Encoding::Json);
        assert_eq!(
            j,
            "{\"ietf-restconf:errors\":{\"error\":[{\"error-type\":\"application\",\
             \"error-tag\":\"invalid-value\",\"error-app-tag\":\"t\",\"error-path\":\
             \"/ne-interfaces:interfaces/interface[name='a']\",\"error-message\":\
             \"bad \\\"x\\\" <y>\",\"error-info\":{\"bad-element\":\"mtu\"}}]}}"
        );
        let x = e.body(&schema, Encoding::Xml);
        assert!(
            x.contains("<error-path xmlns:if=\"urn:ne-agent:yang:ne-interfaces\">"),
            "{x}"
        );
        assert!(
            x.contains("<error-message>bad \"x\" &lt;y&gt;</error-message>"),
            "{x}"
        );
        assert!(yang::xml::parse(&x).is_ok());
    }

    #[test]
    fn lock_denied_is_409() {
        let e = RestError::from(StoreError::Locked { holder: 3 });
        assert_eq!(e.status, 409);
        assert_eq!(e.errors[0].tag, ErrorTag::LockDenied);
    }
}
