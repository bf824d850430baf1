//! A namespace-resolved XML element tree (quick-xml `NsReader`), and escaping for the writer.
//!
//! Hostile input is refused, never expanded: DTDs (and so entity declarations), unknown entity
//! references, processing instructions other than the XML declaration, and nesting deeper than
//! [`MAX_DEPTH`].

use std::fmt;
use std::rc::Rc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;

/// Nesting limit for incoming documents.
pub const MAX_DEPTH: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute {
    /// Namespace URI, "" for an unprefixed attribute.
    pub ns: String,
    pub name: String,
    pub value: String,
}

/// One element with its namespace resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Namespace URI, "" when none is in scope.
    pub ns: String,
    pub name: String,
    pub attrs: Vec<Attribute>,
    pub children: Vec<Element>,
    /// Concatenated character data directly inside this element.
    pub text: String,
    /// prefix -> namespace bindings in scope ("" is the default namespace), for values such as
    /// identityrefs and instance-identifiers that carry prefixes.
    pub scope: Rc<Vec<(String, String)>>,
    /// Byte offset of the start tag in the document, for error messages.
    pub offset: usize,
}

impl Element {
    pub fn new(ns: &str, name: &str) -> Element {
        Element {
            ns: ns.to_string(),
            name: name.to_string(),
            attrs: Vec::new(),
            children: Vec::new(),
            text: String::new(),
            scope: Rc::new(Vec::new()),
            offset: 0,
        }
    }

    /// The namespace bound to `prefix` at this element.
    pub fn lookup_prefix(&self, prefix: &str) -> Option<&str> {
        self.scope
            .iter()
            .rev()
            .find(|(p, _)| p == prefix)
            .map(|(_, ns)| ns.as_str())
    }

    pub fn attr(&self, ns: &str, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.ns == ns && a.name == name)
            .map(|a| a.value.as_str())
    }

    pub fn child(&self, ns: &str, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.ns == ns && c.name == name)
    }

    /// Prefixes bound in scope that the text uses as `prefix:name`.
    fn text_prefixes(&self) -> Vec<(&str, &str)> {
        let mut found: Vec<(&str, &str)> = Vec::new();
        let t = self.text.as_str();
        for (i, _) in t.match_indices(':') {
            let start = t[..i]
                .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-' || c == '.'))
                .map_or(0, |j| j + 1);
            let prefix = &t[start..i];
            if prefix.is_empty() || found.iter().any(|(p, _)| *p == prefix) {
                continue;
            }
            if let Some(ns) = self.lookup_prefix(prefix) {
                found.push((prefix, ns));
            }
        }
        found
    }

    /// Serialize back to XML (used for anydata/anyxml content and for tests).
    pub fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, "");
        out
    }

    fn write(&self, out: &mut String, parent_ns: &str) {
        out.push('<');
        out.push_str(&self.name);
        if self.ns != parent_ns {
            out.push_str(" xmlns=\"");
            escape_attr_into(&self.ns, out);
            out.push('"');
        }
        // Prefixes used in the text (identityref, instance-identifier values) keep their
        // bindings.
        for (prefix, ns) in self.text_prefixes() {
            out.push_str(&format!(" xmlns:{prefix}=\""));
            escape_attr_into(ns, out);
            out.push('"');
        }
        for a in &self.attrs {
            if a.ns.is_empty() {
                out.push_str(&format!(" {}=\"", a.name));
            } else {
                out.push_str(&format!(
                    " xmlns:a=\"{}\" a:{}=\"",
                    escape_attr(&a.ns),
                    a.name
                ));
            }
            escape_attr_into(&a.value, out);
            out.push('"');
        }
        if self.children.is_empty() && self.text.is_empty() {
            out.push_str("/>");
            return;
        }
        out.push('>');
        escape_text_into(&self.text, out);
        for c in &self.children {
            c.write(out, &self.ns);
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    pub offset: usize,
    pub message: String,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed XML at byte {}: {}", self.offset, self.message)
    }
}

impl std::error::Error for XmlError {}

/// Parse a document with exactly one root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut roots = parse_fragment(text)?;
    match roots.len() {
        1 => Ok(roots.remove(0)),
        0 => Err(XmlError {
            offset: text.len(),
            message: "no root element".into(),
        }),
        _ => Err(XmlError {
            offset: roots[1].offset,
            message: "more than one root element".into(),
        }),
    }
}

/// Parse a sequence of sibling elements (e.g. the content of `<config>` given on its own).
pub fn parse_fragment(text: &str) -> Result<Vec<Element>, XmlError> {
    let mut reader = NsReader::from_str(text);
    reader.config_mut().trim_text(false);
    reader.config_mut().check_end_names = true;
    let mut stack: Vec<Element> = Vec::new();
    let mut roots = Vec::new();
    let root_scope: Rc<Vec<(String, String)>> = Rc::new(Vec::new());
    loop {
        let offset = reader.buffer_position() as usize;
        let err = |m: String| XmlError { offset, message: m };
        let event = reader.read_event().map_err(|e| err(e.to_string()))?;
        match event {
            Event::Start(ref s) | Event::Empty(ref s) => {
                if stack.len() >= MAX_DEPTH {
                    return Err(err(format!("nesting deeper than {MAX_DEPTH}")));
                }
                let parent_scope = stack.last().map_or(&root_scope, |p| &p.scope);
                let el = start_element(&reader, s, parent_scope, offset)?;
                if matches!(event, Event::Start(_)) {
                    stack.push(el);
                } else {
                    attach(&mut stack, &mut roots, el);
                }
            }
            Event::End(_) => {
                let Some(el) = stack.pop() else {
                    return Err(err("unexpected end tag".into()));
                };
                attach(&mut stack, &mut roots, el);
            }
            Event::Text(t) => {
                // References arrive as separate GeneralRef events, so text is literal.
                let s = t.xml10_content();
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None if s.trim().is_empty() => {}
                    None => return Err(err("text outside the root element".into())),
                }
            }
            Event::GeneralRef(r) => {
                let name = r.into_inner();
                let s = unescape(&format!("&{name};")).map_err(err)?;
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None => return Err(err("reference outside the root element".into())),
                }
            }
            Event::CData(c) => {
                let s = c.into_inner();
                match stack.last_mut() {
                    Some(el) => el.text.push_str(&s),
                    None => return Err(err("CDATA outside the root element".into())),
                }
            }
            Event::DocType(_) => {
                return Err(err("DTDs and entity declarations are not accepted".into()))
            }
            Event::PI(_) => return Err(err("processing instructions are not accepted".into())),
            Event::Decl(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if let Some(open) = stack.last() {
        return Err(XmlError {
            offset: text.len(),
            message: format!("element <{}> is not closed", open.name),
        });
    }
    Ok(roots)
}

fn attach(stack: &mut [Element], roots: &mut Vec<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => roots.push(el),
    }
}

fn start_element(
    reader: &NsReader<&[u8]>,
    s: &BytesStart<'_>,
    parent_scope: &Rc<Vec<(String, String)>>,
    offset: usize,
) -> Result<Element, XmlError> {
    let err = |m: String| XmlError { offset, message: m };
    let mut scope: Option<Vec<(String, String)>> = None;
    let mut attrs = Vec::new();
    for a in s.attributes() {
        let a = a.map_err(|e| err(e.to_string()))?;
        let key: &str = a.key.as_ref();
        let value = unescape(&a.value).map_err(err)?;
        if key == "xmlns" || key.starts_with("xmlns:") {
            let prefix = key.strip_prefix("xmlns:").unwrap_or("");
            scope
                .get_or_insert_with(|| parent_scope.as_ref().clone())
                .push((prefix.to_string(), value));
            continue;
        }
        let (res, local) = reader.resolver().resolve_attribute(a.key);
        let ns = match res {
            ResolveResult::Bound(ns) => ns.as_ref().to_string(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => {
                return Err(err(format!("attribute prefix '{}' is not bound", p)))
            }
        };
        let local: &str = local.as_ref();
        attrs.push(Attribute {
            ns,
            name: local.to_string(),
            value,
        });
    }
    let (res, local) = reader.resolver().resolve_element(s.name());
    let ns = match res {
        ResolveResult::Bound(ns) => AsRef::<str>::as_ref(&ns).to_string(),
        ResolveResult::Unbound => String::new(),
        ResolveResult::Unknown(p) => {
            return Err(err(format!("element prefix '{}' is not bound", p)))
        }
    };
    let name = AsRef::<str>::as_ref(&local).to_string();
    Ok(Element {
        ns,
        name,
        attrs,
        children: Vec::new(),
        text: String::new(),
        scope: match scope {
            Some(s) => Rc::new(s),
            None => Rc::clone(parent_scope),
        },
        offset,
    })
}

/// Resolve the five predefined entities and character references; anything else is refused.
pub(crate) fn unescape(s: &str) -> Result<String, String> {
    if !s.contains('&') {
        return Ok(s.to_string());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').ok_or("unterminated entity reference")?;
        let name = &after[..end];
        match name {
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "amp" => out.push('&'),
            "apos" => out.push('\''),
            "quot" => out.push('"'),
            _ if name.starts_with('#') => {
                let code = if let Some(hex) = name.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16)
                } else {
                    name[1..].parse::<u32>()
                }
                .map_err(|_| format!("bad character reference '&{name};'"))?;
                let c = char::from_u32(code)
                    .ok_or_else(|| format!("bad character reference '&{name};'"))?;
                out.push(c);
            }
            _ => {
                return Err(format!(
                    "unknown entity '&{name};' (entities are not expanded)"
                ))
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub fn escape_text_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\r' => out.push_str("&#13;"),
            c => out.push(c),
        }
    }
}

pub fn escape_attr_into(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c => out.push(c),
        }
    }
}

pub fn escape_attr(s: &str) -> String {
    let mut out = String::new();
    escape_attr_into(s, &mut out);
    out
}

pub fn escape_text(s: &str) -> String {
    let mut out = String::new();
    escape_text_into(s, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_and_prefixes_resolve() {
        let e = parse(
            r#"<x:a xmlns:x="urn:x" xmlns="urn:d"><b attr="1">t&amp;&#x41;</b><x:c/><y:d xmlns:y="urn:x"/></x:a>"#,
        )
        .unwrap();
        assert_eq!((e.ns.as_str(), e.name.as_str()), ("urn:x", "a"));
        assert_eq!(e.children[0].ns, "urn:d");
        assert_eq!(e.children[0].text, "t&A");
        assert_eq!(e.children[0].attr("", "attr"), Some("1"));
        assert_eq!(e.children[1].ns, "urn:x");
        assert_eq!(e.children[2].ns, "urn:x");
        assert_eq!(e.children[2].lookup_prefix("y"), Some("urn:x"));
        assert_eq!(e.children[0].lookup_prefix(""), Some("urn:d"));
    }

    #[test]
    fn hostile_input_is_refused() {
        let dtd = r#"<!DOCTYPE a [<!ENTITY x "boom">]><a>&x;</a>"#;
        assert!(parse(dtd).unwrap_err().message.contains("DTD"));
        assert!(parse("<a>&x;</a>").is_err());
        assert!(parse("<a><b></a>").is_err());
        assert!(parse("<a>").is_err());
        assert!(parse("<p:a/>").is_err());
        assert!(parse("<a/><b/>").is_err());
        assert!(parse("text<a/>").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).unwrap_err().message.contains("nesting"));
        let src = r#"<a xmlns="u"><b x="1">t&amp;</b></a>"#;
        for cut in 0..src.len() {
            assert!(parse(&src[..cut]).is_err(), "truncated at {cut} accepted");
        }
    }

    #[test]
    fn round_trip_serialization() {
        let src = r#"<a xmlns="urn:a"><b>x &lt; y</b><c xmlns="urn:c"/></a>"#;
        let e = parse(src).unwrap();
        assert_eq!(e.to_xml(), src);
    }
}
