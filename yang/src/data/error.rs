//! Data errors with everything NETCONF needs for an `rpc-error` (RFC 6241 Appendix A,
//! RFC 7950 §15).

use std::fmt;

/// RFC 6241 Appendix A error-tag values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorTag {
    InUse,
    InvalidValue,
    TooBig,
    MissingAttribute,
    BadAttribute,
    UnknownAttribute,
    MissingElement,
    BadElement,
    UnknownElement,
    UnknownNamespace,
    AccessDenied,
    LockDenied,
    ResourceDenied,
    RollbackFailed,
    DataExists,
    DataMissing,
    OperationNotSupported,
    OperationFailed,
    MalformedMessage,
}

impl ErrorTag {
    /// Every tag, in RFC 6241's order.
    pub const ALL: [ErrorTag; 19] = [
        ErrorTag::InUse,
        ErrorTag::InvalidValue,
        ErrorTag::TooBig,
        ErrorTag::MissingAttribute,
        ErrorTag::BadAttribute,
        ErrorTag::UnknownAttribute,
        ErrorTag::MissingElement,
        ErrorTag::BadElement,
        ErrorTag::UnknownElement,
        ErrorTag::UnknownNamespace,
        ErrorTag::AccessDenied,
        ErrorTag::LockDenied,
        ErrorTag::ResourceDenied,
        ErrorTag::RollbackFailed,
        ErrorTag::DataExists,
        ErrorTag::DataMissing,
        ErrorTag::OperationNotSupported,
        ErrorTag::OperationFailed,
        ErrorTag::MalformedMessage,
    ];

    /// The tag with this name on the wire (`"lock-denied"`), if it is one.
    pub fn from_name(name: &str) -> Option<ErrorTag> {
        ErrorTag::ALL.into_iter().find(|t| t.as_str() == name)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorTag::InUse => "in-use",
            ErrorTag::InvalidValue => "invalid-value",
            ErrorTag::TooBig => "too-big",
            ErrorTag::MissingAttribute => "missing-attribute",
            ErrorTag::BadAttribute => "bad-attribute",
            ErrorTag::UnknownAttribute => "unknown-attribute",
            ErrorTag::MissingElement => "missing-element",
            ErrorTag::BadElement => "bad-element",
            ErrorTag::UnknownElement => "unknown-element",
            ErrorTag::UnknownNamespace => "unknown-namespace",
            ErrorTag::AccessDenied => "access-denied",
            ErrorTag::LockDenied => "lock-denied",
            ErrorTag::ResourceDenied => "resource-denied",
            ErrorTag::RollbackFailed => "rollback-failed",
            ErrorTag::DataExists => "data-exists",
            ErrorTag::DataMissing => "data-missing",
            ErrorTag::OperationNotSupported => "operation-not-supported",
            ErrorTag::OperationFailed => "operation-failed",
            ErrorTag::MalformedMessage => "malformed-message",
        }
    }
}

impl fmt::Display for ErrorTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A problem with instance data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataError {
    pub tag: ErrorTag,
    /// RFC 7950 §15 tags such as `must-violation`, `instance-required`, `too-many-elements`, or
    /// the model's own `error-app-tag`.
    pub app_tag: Option<String>,
    /// The instance-identifier of the offending node (or of its parent when it does not exist).
    pub path: Option<String>,
    pub message: String,
    /// `error-info` children: (element name, text), e.g. ("bad-element", "mtu").
    pub info: Vec<(String, String)>,
}

impl DataError {
    pub fn new(tag: ErrorTag, message: impl Into<String>) -> DataError {
        DataError {
            tag,
            app_tag: None,
            path: None,
            message: message.into(),
            info: Vec::new(),
        }
    }

    pub fn app_tag(mut self, tag: impl Into<String>) -> Self {
        self.app_tag = Some(tag.into());
        self
    }

    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    pub fn info(mut self, name: &str, value: impl Into<String>) -> Self {
        self.info.push((name.to_string(), value.into()));
        self
    }

    pub fn bad_element(self, name: impl Into<String>) -> Self {
        self.info("bad-element", name)
    }
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.tag)?;
        if let Some(a) = &self.app_tag {
            write!(f, " ({a})")?;
        }
        if let Some(p) = &self.path {
            write!(f, " at {p}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for DataError {}

#[cfg(test)]
mod tests {
    use super::ErrorTag;

    #[test]
    fn every_tag_is_found_by_its_name() {
        for tag in ErrorTag::ALL {
            assert_eq!(ErrorTag::from_name(tag.as_str()), Some(tag));
        }
        assert_eq!(
            ErrorTag::from_name("lock-denied"),
            Some(ErrorTag::LockDenied)
        );
        assert_eq!(ErrorTag::from_name("Lock-Denied"), None);
        assert_eq!(ErrorTag::from_name(""), None);
    }
}
