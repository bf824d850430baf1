//! `<rpc-error>` construction, in one place (RFC 6241 §4.3 and Appendix A).

use yang::data::{DataError, ErrorTag};
use yang::xml::{escape_attr, escape_text};

/// RFC 6241 error-type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    Protocol,
    Application,
}

impl ErrorType {
    fn as_str(self) -> &'static str {
        match self {
            ErrorType::Protocol => "protocol",
            ErrorType::Application => "application",
        }
    }
}

/// One rpc-error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpcError {
    pub error_type: ErrorType,
    pub tag: ErrorTag,
    pub app_tag: Option<String>,
    pub path: Option<String>,
    pub message: String,
    pub info: Vec<(String, String)>,
}

impl RpcError {
    pub fn new(error_type: ErrorType, tag: ErrorTag, message: impl Into<String>) -> RpcError {
        RpcError {
            error_type,
            tag,
            app_tag: None,
            path: None,
            message: message.into(),
            info: Vec::new(),
        }
    }

    pub fn protocol(tag: ErrorTag, message: impl Into<String>) -> RpcError {
        RpcError::new(ErrorType::Protocol, tag, message)
    }

    pub fn application(tag: ErrorTag, message: impl Into<String>) -> RpcError {
        RpcError::new(ErrorType::Application, tag, message)
    }

    pub fn info(mut self, name: &str, value: impl Into<String>) -> RpcError {
        self.info.push((name.to_string(), value.into()));
        self
    }

    /// The `<rpc-error>` element (in the base namespace of the enclosing reply).
    pub fn to_xml(&self, schema: &yang::Schema) -> String {
        let mut x = String::from("<rpc-error>");
        x.push_str(&format!(
            "<error-type>{}</error-type>",
            self.error_type.as_str()
        ));
        x.push_str(&format!("<error-tag>{}</error-tag>", self.tag.as_str()));
        x.push_str("<error-severity>error</error-severity>");
        if let Some(a) = &self.app_tag {
            x.push_str(&format!(
                "<error-app-tag>{}</error-app-tag>",
                escape_text(a)
            ));
        }
        if let Some(p) = &self.path {
            // Declare every module prefix the path uses on the element itself.
            let mut decls = String::new();
            for m in &schema.modules {
                let needle = format!("{}:", m.prefix);
                if p.contains(&needle) && !decls.contains(&format!("xmlns:{}=", m.prefix)) {
                    decls.push_str(&format!(
                        " xmlns:{}=\"{}\"",
                        m.prefix,
                        escape_attr(&m.namespace)
                    ));
                }
            }
            x.push_str(&format!(
                "<error-path{decls}>{}</error-path>",
                escape_text(p)
            ));
        }
        x.push_str(&format!(
            "<error-message xml:lang=\"en\">{}</error-message>",
            escape_text(&self.message)
        ));
        if !self.info.is_empty() {
            x.push_str("<error-info>");
            for (k, v) in &self.info {
                x.push_str(&format!("<{k}>{}</{k}>", escape_text(v)));
            }
            x.push_str("</error-info>");
        }
        x.push_str("</rpc-error>");
        x
    }
}

impl From<DataError> for RpcError {
    fn from(e: DataError) -> RpcError {
        // Errors about the request's own structure are protocol errors; about data, application.
        let error_type = match e.tag {
            ErrorTag::MalformedMessage
            | ErrorTag::LockDenied
            | ErrorTag::MissingAttribute
            | ErrorTag::BadAttribute
            | ErrorTag::UnknownAttribute => ErrorType::Protocol,
            _ => ErrorType::Application,
        };
        RpcError {
            error_type,
            tag: e.tag,
            app_tag: e.app_tag,
            path: e.path,
            message: e.message,
            info: e.info,
        }
    }
}
