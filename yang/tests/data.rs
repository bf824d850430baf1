//! Instance data against small inline modules and the embedded models: the XML codec (namespaces,
//! prefixes, prefixed values), typed decode errors, whole-tree validation, the YANG XPath
//! functions in `must`/`when`, schema defaults with the RFC 6243 views, and diff.

use std::sync::Arc;

use yang::data::{
    self, DataError, DataNode, DataTree, DecodeOptions, EncodeOptions, ErrorTag, WithDefaults,
};
use yang::diff::{diff, Change, ChangeOp};
use yang::validate::{validate, ValidateOptions};
use yang::{Schema, SchemaBuilder};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

fn compile(sources: &[(&str, &str)]) -> Schema {
    let mut b = SchemaBuilder::new().without_embedded();
    for (name, text) in sources {
        b = b.source(*name, *text);
    }
    b.build()
        .unwrap_or_else(|e| panic!("inline modules compile:\n{e}"))
}

fn embedded() -> Schema {
    SchemaBuilder::new()
        .embedded()
        .build()
        .expect("embedded models compile")
}

const ALL: DecodeOptions = DecodeOptions { config_only: false };
const CONFIG: DecodeOptions = DecodeOptions { config_only: true };

fn view(with_defaults: WithDefaults) -> EncodeOptions {
    EncodeOptions {
        with_defaults,
        config_only: false,
    }
}

fn decode(s: &Schema, xml: &str) -> DataTree {
    data::decode(s, xml, ALL).unwrap_or_else(|e| panic!("decode failed: {e:?}\n{xml}"))
}

fn decode_err(s: &Schema, xml: &str, opts: DecodeOptions) -> DataError {
    match data::decode(s, xml, opts) {
        Ok(t) => panic!("accepted: {xml}\n{t:#?}"),
        Err(e) => e,
    }
}

fn encode(s: &Schema, t: &DataTree) -> String {
    data::encode(s, t, EncodeOptions::default())
}

fn info<'e>(e: &'e DataError, name: &str) -> Vec<&'e str> {
    e.info
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

/// Decode (config), add defaults, validate.
fn check(s: &Schema, xml: &str) -> Result<(), Vec<DataError>> {
    let mut tree =
        data::decode(s, xml, CONFIG).unwrap_or_else(|e| panic!("decode failed: {e:?}\n{xml}"));
    data::add_defaults(s, &mut tree);
    validate(s, &tree, ValidateOptions::default())
}

fn assert_valid(s: &Schema, xml: &str) {
    if let Err(errs) = check(s, xml) {
        panic!("expected valid, got {errs:#?}\n{xml}");
    }
}

/// The single validation error of a document.
fn invalid(s: &Schema, xml: &str) -> DataError {
    match check(s, xml) {
        Ok(()) => panic!("expected a validation error:\n{xml}"),
        Err(mut errs) => {
            assert_eq!(errs.len(), 1, "expected exactly one error: {errs:#?}");
            errs.remove(0)
        }
    }
}

/// Does the tree or any subtree carry a `default` flag?
fn strip_default_flags(nodes: &mut [Arc<DataNode>]) {
    for n in nodes {
        let n = Arc::make_mut(n);
        n.default = false;
        strip_default_flags(&mut n.children);
    }
}

// ---------------------------------------------------------------------------------------------
// Modules
// ---------------------------------------------------------------------------------------------

const MOD_T: &str = r#"
module t {
  yang-version 1.1;
  namespace "urn:t";
  prefix t;

  identity base-type;
  identity eth { base base-type; }
  identity fast-eth { base eth; }
  identity loop { base base-type; }
  identity unrelated;

  container top {
    leaf num { type uint8 { range "1..100"; } }
    leaf-list tags { type string; }
    leaf state { type string; config false; }
    leaf flag { type empty; }
    list item {
      key "name";
      leaf name { type string; }
      leaf kind { type identityref { base base-type; } }
      leaf-list kinds { type identityref { base base-type; } }
      leaf value { type int32 { range "-10..10"; } }
    }
    list pair {
      key "a b";
      leaf a { type string; }
      leaf b { type uint16; }
      leaf c { type string; }
    }
    list rule {
      key "id";
      ordered-by user;
      leaf id { type string; }
      leaf action { type string; }
    }
    leaf-list seq { type string; ordered-by user; }
    leaf target { type instance-identifier; }
  }
}
"#;

const MOD_U: &str = r#"
module u {
  yang-version 1.1;
  namespace "urn:u";
  prefix u;
  import t { prefix tt; }

  identity gadget { base tt:base-type; }

  augment "/tt:top/tt:item" {
    leaf extra { type string; }
  }

  container other {
    leaf x { type string; }
  }
}
"#;

fn tu() -> Schema {
    compile(&[("t.yang", MOD_T), ("u.yang", MOD_U)])
}

// ---------------------------------------------------------------------------------------------
// XML round trips with odd prefixes
// ---------------------------------------------------------------------------------------------

/// The same data: default namespaces only.
const DOC_DEFAULT_NS: &str = r#"
<top xmlns="urn:t">
  <num>7</num>
  <tags>b</tags>
  <tags>a</tags>
  <item>
    <name>i1</name>
    <kind>fast-eth</kind>
    <kinds>eth</kinds>
    <kinds xmlns:u="urn:u">u:gadget</kinds>
    <value>-3</value>
    <extra xmlns="urn:u">hello &amp; &lt;bye&gt;</extra>
  </item>
  <item>
    <name>i0</name>
    <kind xmlns:zz="urn:u">zz:gadget</kind>
  </item>
  <pair><a>x</a><b>2</b><c>c2</c></pair>
  <pair><a>x</a><b>10</b></pair>
  <target xmlns:t="urn:t">/t:top/t:item[t:name='i1']/t:value</target>
</top>
<other xmlns="urn:u"><x>1</x></other>
"#;

/// The same data with arbitrary prefixes (and canonical-looking values written differently).
const DOC_PREFIXES: &str = r#"
<x:top xmlns:x="urn:t" xmlns:y="urn:u">
  <x:pair><x:a>x</x:a><x:b>10</x:b></x:pair>
  <x:item>
    <x:name>i0</x:name>
    <x:kind>y:gadget</x:kind>
  </x:item>
  <x:item>
    <x:name>i1</x:name>
    <x:value>-3</x:value>
    <x:kinds>y:gadget</x:kinds>
    <y:extra>hello &amp; &lt;bye></y:extra>
    <x:kinds>x:eth</x:kinds>
    <x:kind> x:fast-eth </x:kind>
  </x:item>
  <x:target>/x:top/x:item[x:name="i1"]/x:value</x:target>
  <x:tags>a</x:tags>
  <x:num> 07 </x:num>
  <x:pair><x:a>x</x:a><x:b>2</x:b><x:c>c2</x:c></x:pair>
  <x:tags>b</x:tags>
</x:top>
<y:other xmlns:y="urn:u"><y:x>1</y:x></y:other>
"#;

/// The same data with prefixes rebound in nested elements: `p` means urn:t outside and urn:u
/// inside some elements, `t` and `u` swap their usual meaning for values.
const DOC_REBOUND: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment -->
<p:top xmlns:p="urn:t">
  <item xmlns="urn:t" xmlns:p="urn:u">
    <name>i1</name>
    <p:extra>hello &amp; <![CDATA[<bye>]]></p:extra>
    <kind xmlns:u="urn:t">u:fast-eth</kind>
    <kinds xmlns:t="urn:u">t:gadget</kinds>
    <t:kinds xmlns:t="urn:t" xmlns="urn:u">t:eth</t:kinds>
    <value>-3</value>
  </item>
  <p:item xmlns:q="urn:u"><p:name>i0</p:name><p:kind>q:gadget</p:kind></p:item>
  <p:num>7</p:num>
  <pair xmlns="urn:t"><a>x</a><b>+2</b><c>c2</c></pair>
  <p:pair xmlns:p="urn:t"><p:b>10</p:b><p:a>x</p:a></p:pair>
  <p:target xmlns:t="urn:u" xmlns:z="urn:t">/z:top/z:item[z:name='i1']/z:value</p:target>
  <p:tags>b</p:tags><p:tags>a</p:tags>
</p:top>
<p:other xmlns:p="urn:u"><p:x>1</p:x></p:other>
"#;

const CANONICAL: &str = concat!(
    r#"<top xmlns="urn:t"><num>7</num><tags>a</tags><tags>b</tags>"#,
    r#"<item><name>i0</name><kind xmlns:u="urn:u">u:gadget</kind></item>"#,
    r#"<item><name>i1</name><kind xmlns:t="urn:t">t:fast-eth</kind>"#,
    r#"<kinds xmlns:t="urn:t">t:eth</kinds><kinds xmlns:u="urn:u">u:gadget</kinds>"#,
    r#"<value>-3</value><extra xmlns="urn:u">hello &amp; &lt;bye&gt;</extra></item>"#,
    r#"<pair><a>x</a><b>2</b><c>c2</c></pair><pair><a>x</a><b>10</b></pair>"#,
    r#"<target xmlns:t="urn:t">/t:top/t:item[t:name='i1']/t:value</target></top>"#,
    r#"<other xmlns="urn:u"><x>1</x></other>"#,
);

#[test]
fn prefixes_do_not_matter() {
    let s = tu();
    let a = decode(&s, DOC_DEFAULT_NS);
    let b = decode(&s, DOC_PREFIXES);
    let c = decode(&s, DOC_REBOUND);
    assert_eq!(a, b, "arbitrary prefixes decode to a different tree");
    assert_eq!(a, c, "rebound prefixes decode to a different tree");
    let out = encode(&s, &a);
    assert_eq!(out, CANONICAL);
    assert_eq!(encode(&s, &b), out);
    assert_eq!(encode(&s, &c), out);
    // The canonical output decodes to the same tree and is a fixed point.
    let again = decode(&s, &out);
    assert_eq!(again, a);
    assert_eq!(encode(&s, &again), out);
}

#[test]
fn identityref_values_take_the_module_prefix() {
    let s = tu();
    for (xml, canonical) in [
        (
            r#"<top xmlns="urn:t"><item><name>a</name><kind xmlns:zz="urn:t">zz:loop</kind></item></top>"#,
            r#"<kind xmlns:t="urn:t">t:loop</kind>"#,
        ),
        (
            r#"<top xmlns="urn:t"><item><name>a</name><kind>loop</kind></item></top>"#,
            r#"<kind xmlns:t="urn:t">t:loop</kind>"#,
        ),
        (
            r#"<top xmlns="urn:t" xmlns:zz="urn:u"><item><name>a</name><kind>zz:gadget</kind></item></top>"#,
            r#"<kind xmlns:u="urn:u">u:gadget</kind>"#,
        ),
        (
            // The default namespace of the value's element names the module of an unprefixed
            // identity (RFC 7950 §9.10.3).
            r#"<t:top xmlns:t="urn:t"><t:item><t:name>a</t:name><t:kind xmlns="urn:u">gadget</t:kind></t:item></t:top>"#,
            r#"<kind xmlns:u="urn:u">u:gadget</kind>"#,
        ),
    ] {
        let tree = decode(&s, xml);
        let out = encode(&s, &tree);
        assert!(out.contains(canonical), "{xml}\n=> {out}");
        assert_eq!(decode(&s, &out), tree);
    }
}

#[test]
fn instance_identifier_values_take_the_module_prefixes() {
    let s = tu();
    let xml = r#"<top xmlns="urn:t">
        <target xmlns:a="urn:t" xmlns:b="urn:u">/a:top/a:item[a:name="it's"]/b:extra</target>
      </top>"#;
    let tree = decode(&s, xml);
    let out = encode(&s, &tree);
    assert_eq!(
        out,
        concat!(
            r#"<top xmlns="urn:t"><target xmlns:t="urn:t" xmlns:u="urn:u">"#,
            r#"/t:top/t:item[t:name="it's"]/u:extra</target></top>"#
        )
    );
    assert_eq!(decode(&s, &out), tree);
    // Leaf-list entry and multi-key predicates.
    let xml = r#"<top xmlns="urn:t"><target xmlns:q="urn:t">/q:top/q:pair[q:a='x'][q:b='2']/q:c</target></top>"#;
    let out = encode(&s, &decode(&s, xml));
    assert!(
        out.contains(r#"<target xmlns:t="urn:t">/t:top/t:pair[t:a='x'][t:b='2']/t:c</target>"#),
        "{out}"
    );
    let xml = r#"<top xmlns="urn:t"><target xmlns:q="urn:t">/q:top/q:tags[.='a']</target></top>"#;
    let out = encode(&s, &decode(&s, xml));
    assert!(out.contains("/t:top/t:tags[.='a']"), "{out}");
}

#[test]
fn escaping_round_trips() {
    let s = tu();
    let nasty = "a<b>&c\"d'e\u{e9}\u{1F600} \t x";
    let mut xml = String::from(r#"<top xmlns="urn:t"><item><name>"#);
    yang::xml::escape_text_into(nasty, &mut xml);
    xml.push_str("</name></item></top>");
    let tree = decode(&s, &xml);
    let item = &tree.roots[0].children[0];
    assert_eq!(item.children[0].value.as_deref(), Some(nasty));
    let out = encode(&s, &tree);
    assert_eq!(decode(&s, &out), tree);
    // Character references and a carriage return survive too.
    let xml = r#"<top xmlns="urn:t"><tags>&#65;&#x42;&#13;</tags></top>"#;
    let tree = decode(&s, xml);
    assert_eq!(tree.roots[0].children[0].value.as_deref(), Some("AB\r"));
    assert_eq!(decode(&s, &encode(&s, &tree)), tree);
}

#[test]
fn empty_and_config_false_leaves() {
    let s = tu();
    let tree = decode(&s, r#"<top xmlns="urn:t"><flag/><state>up</state></top>"#);
    let out = encode(&s, &tree);
    assert_eq!(out, r#"<top xmlns="urn:t"><state>up</state><flag/></top>"#);
    let cfg = data::encode(
        &s,
        &tree,
        EncodeOptions {
            config_only: true,
            ..EncodeOptions::default()
        },
    );
    assert_eq!(cfg, r#"<top xmlns="urn:t"><flag/></top>"#);
}

// ---------------------------------------------------------------------------------------------
// Bad input: typed errors, never a panic
// ---------------------------------------------------------------------------------------------

#[test]
fn malformed_xml_is_malformed_message() {
    let s = tu();
    for xml in [
        r#"<top xmlns="urn:t"><num>1</top>"#,
        r#"<top xmlns="urn:t">"#,
        r#"<top xmlns="urn:t"><num>1</num></top></top>"#,
        r#"<top xmlns="urn:t" xmlns="urn:u"/>"#,
        r#"<top xmlns="urn:t"><p:num>1</p:num></top>"#,
        r#"<top xmlns="urn:t"><num a="1" a="2">1</num></top>"#,
        r#"<top xmlns="urn:t"><num>&bogus;</num></top>"#,
        r#"<top xmlns="urn:t"><num>&#xD800;</num></top>"#,
        r#"<top xmlns="urn:t"><num>1<</num></top>"#,
        r#"<?xml-stylesheet href="x"?><top xmlns="urn:t"/>"#,
        "stray text <top xmlns=\"urn:t\"/>",
    ] {
        let e = decode_err(&s, xml, ALL);
        assert_eq!(e.tag, ErrorTag::MalformedMessage, "{xml}: {e:?}");
    }
}

#[test]
fn dtd_and_entities_are_refused() {
    let s = tu();
    let laughs = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<top xmlns="urn:t"><tags>&lol3;</tags></top>"#;
    let xxe = r#"<!DOCTYPE top [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><top xmlns="urn:t"><tags>&xxe;</tags></top>"#;
    let plain = r#"<!DOCTYPE top><top xmlns="urn:t"/>"#;
    for xml in [laughs, xxe, plain] {
        let e = decode_err(&s, xml, ALL);
        assert_eq!(e.tag, ErrorTag::MalformedMessage, "{e:?}");
        assert!(e.message.contains("DTD"), "{e:?}");
    }
}

#[test]
fn unknown_element_and_namespace() {
    let s = tu();
    let e = decode_err(&s, r#"<top xmlns="urn:t"><bogus/></top>"#, ALL);
    assert_eq!(e.tag, ErrorTag::UnknownElement);
    assert_eq!(info(&e, "bad-element"), ["bogus"]);
    assert_eq!(e.path.as_deref(), Some("/t:top"));

    // A node of another module that is not a child here.
    let e = decode_err(
        &s,
        r#"<top xmlns="urn:t"><x xmlns="urn:u">1</x></top>"#,
        ALL,
    );
    assert_eq!(e.tag, ErrorTag::UnknownElement, "{e:?}");
    assert_eq!(info(&e, "bad-element"), ["x"]);

    // A known name in the wrong module.
    let e = decode_err(&s, r#"<top xmlns="urn:u"/>"#, ALL);
    assert_eq!(e.tag, ErrorTag::UnknownElement, "{e:?}");
    assert_eq!(e.path.as_deref(), Some("/"));

    for xml in [
        r#"<top xmlns="urn:nope"/>"#,
        r#"<top/>"#,
        r#"<top xmlns="urn:t"><num xmlns="urn:zzz">1</num></top>"#,
        r#"<top xmlns="urn:t"><item><name>a</name><extra xmlns="">x</extra></item></top>"#,
    ] {
        let e = decode_err(&s, xml, ALL);
        assert_eq!(e.tag, ErrorTag::UnknownNamespace, "{xml}: {e:?}");
        assert_eq!(info(&e, "bad-element").len(), 1, "{e:?}");
    }
}

#[test]
fn out_of_range_value_names_the_instance() {
    let s = tu();
    let e = decode_err(
        &s,
        r#"<top xmlns="urn:t"><item><name>it's</name><value>11</value></item></top>"#,
        ALL,
    );
    assert_eq!(e.tag, ErrorTag::InvalidValue);
    assert_eq!(
        e.path.as_deref(),
        Some(r#"/t:top/t:item[t:name="it's"]/t:value"#)
    );
    assert_eq!(info(&e, "bad-element"), ["value"]);
    assert!(e.message.contains("range"), "{e:?}");

    let e = decode_err(
        &s,
        r#"<top xmlns="urn:t"><pair><a>x</a><b>1</b><c><x/></c></pair></top>"#,
        ALL,
    );
    assert_eq!(e.tag, ErrorTag::BadElement);
    assert_eq!(
        e.path.as_deref(),
        Some("/t:top/t:pair[t:a='x'][t:b='1']/t:c")
    );

    // A bad key value is reported too.
    let e = decode_err(
        &s,
        r#"<top xmlns="urn:t"><pair><a>x</a><b>70000</b></pair></top>"#,
        ALL,
    );
    assert_eq!(e.tag, ErrorTag::InvalidValue);
    assert_eq!(info(&e, "bad-element"), ["b"]);

    for (xml, what) in [
        (r#"<top xmlns="urn:t"><num>0</num></top>"#, "range"),
        (r#"<top xmlns="urn:t"><num>abc</num></top>"#, "abc"),
        (r#"<top xmlns="urn:t"><num>1.5</num></top>"#, "1.5"),
        (r#"<top xmlns="urn:t"><flag>x</flag></top>"#, "empty"),
        (
            r#"<top xmlns="urn:t"><item><name>a</name><kind>nope</kind></item></top>"#,
            "nope",
        ),
        (
            r#"<top xmlns="urn:t"><item><name>a</name><kind>t:unrelated</kind></item></top>"#,
            "prefix",
        ),
        (
            r#"<top xmlns="urn:t" xmlns:t="urn:t"><item><name>a</name><kind>t:unrelated</kind></item></top>"#,
            "not derived",
        ),
        (
            r#"<top xmlns="urn:t"><target>/t:top/t:num</target></top>"#,
            "instance-identifier",
        ),
        (
            r#"<top xmlns="urn:t" xmlns:t="urn:t"><target>/t:top/t:nope</target></top>"#,
            "instance-identifier",
        ),
        (
            r#"<top xmlns="urn:t" xmlns:t="urn:t"><target>/t:top/t:item[t:value='1']</target></top>"#,
            "instance-identifier",
        ),
    ] {
        let e = decode_err(&s, xml, ALL);
        assert_eq!(e.tag, ErrorTag::InvalidValue, "{xml}: {e:?}");
        assert!(e.message.contains(what), "{xml}: {e:?}");
        assert!(e.path.is_some(), "{e:?}");
    }
}

#[test]
fn duplicates_are_refused() {
    let s = tu();
    let e = decode_err(
        &s,
        r#"<top xmlns="urn:t"><item><name>a</name></item><item><name>b</name></item><item><name>a</name><value>1</value></item></top>"#,
        ALL,
    );
    assert_eq!(e.tag, ErrorTag::InvalidValue, "{e:?}");
    assert_eq!(info(&e, "bad-element"), ["item"]);
    assert_eq!(e.path.as_deref(), Some("/t:top"));
    assert!(e.message.contains("same keys"), "{e:?}");

    // Two-key list: entries differing in one key are fine, equal in both are not.
    decode(
        &s,
        r#"<top xmlns="urn:t"><pair><a>x</a><b>1</b></pair><pair><a>x</a><b>2</b></pair></top>"#,
    );
    let e = decode_err(
        &s,
        r#"<top xmlns="urn:t"><pair><a>x</a><b>1</b></pair><pair><a>x</a><b>01</b></pair></top>"#,
        ALL,
    );
    assert_eq!(e.tag, ErrorTag::InvalidValue, "{e:?}");

    let e = decode_err(
        &s,
        r#"<top xmlns="urn:t"><num>1</num><num>2</num></top>"#,
        ALL,
    );
    assert_eq!(e.tag, ErrorTag::InvalidValue, "{e:?}");
    assert_eq!(info(&e, "bad-element"), ["num"]);

    let e = decode_err(
        &s,
        r#"<top xmlns="urn:t"><tags>a</tags><tags>a</tags></top>"#,
        ALL,
    );
    assert_eq!(e.tag, ErrorTag::InvalidValue, "{e:?}");

    let e = decode_err(&s, r#"<top xmlns="urn:t"/><top xmlns="urn:t"/>"#, ALL);
    assert_eq!(e.tag, ErrorTag::InvalidValue, "{e:?}");
    assert_eq!(e.path.as_deref(), Some("/"));
}

#[test]
fn missing_list_key() {
    let s = tu();
    let e = decode_err(
        &s,
        r#"<top xmlns="urn:t"><item><kind>eth</kind></item></top>"#,
        ALL,
    );
    assert_eq!(e.tag, ErrorTag::MissingElement);
    assert_eq!(info(&e, "bad-element"), ["name"]);
    let e = decode_err(&s, r#"<top xmlns="urn:t"><pair><b>1</b></pair></top>"#, ALL);
    assert_eq!(e.tag, ErrorTag::MissingElement);
    assert_eq!(info(&e, "bad-element"), ["a"]);
    let e = decode_err(&s, r#"<top xmlns="urn:t"><pair><a>1</a></pair></top>"#, ALL);
    assert_eq!(info(&e, "bad-element"), ["b"]);
}

#[test]
fn config_false_refused_in_config_decode() {
    let s = tu();
    let xml = r#"<top xmlns="urn:t"><state>up</state></top>"#;
    let e = decode_err(&s, xml, CONFIG);
    assert_eq!(e.tag, ErrorTag::InvalidValue);
    assert_eq!(info(&e, "bad-element"), ["state"]);
    assert_eq!(e.path.as_deref(), Some("/t:top/t:state"));
    decode(&s, xml);

    // Embedded models: oper-status under an interface entry.
    let m = embedded();
    let xml = r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>e0</name><oper-status>up</oper-status></interface></interfaces>"#;
    let e = decode_err(&m, xml, CONFIG);
    assert_eq!(e.tag, ErrorTag::InvalidValue);
    assert_eq!(
        e.path.as_deref(),
        Some("/if:interfaces/if:interface[if:name='e0']/if:oper-status")
    );
    assert!(data::decode(&m, xml, ALL).is_ok());
}

#[test]
fn structure_errors() {
    let s = tu();
    let e = decode_err(&s, r#"<top xmlns="urn:t"><num><x/></num></top>"#, ALL);
    assert_eq!(e.tag, ErrorTag::BadElement);
    assert_eq!(info(&e, "bad-element"), ["num"]);
    assert_eq!(e.path.as_deref(), Some("/t:top/t:num"));

    let e = decode_err(&s, r#"<top xmlns="urn:t">hello<num>1</num></top>"#, ALL);
    assert_eq!(e.tag, ErrorTag::BadElement);
    assert_eq!(info(&e, "bad-element"), ["top"]);

    let e = decode_err(
        &s,
        r#"<top xmlns="urn:t"><item>text<name>a</name></item></top>"#,
        ALL,
    );
    assert_eq!(e.tag, ErrorTag::BadElement);
    assert_eq!(info(&e, "bad-element"), ["item"]);

    // Whitespace between elements is not text.
    decode(&s, "<top xmlns=\"urn:t\">\n\t <num>1</num>\r\n</top>");
}

#[test]
fn mangled_input_never_panics() {
    let s = tu();
    let m = embedded();
    let seed = std::fs::read_to_string(format!(
        "{}/tests/fixtures/seed-a.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let mut docs = vec![DOC_REBOUND.to_string(), seed];
    for d in docs.clone() {
        for (i, _) in d.char_indices().step_by(3) {
            docs.push(d[..i].to_string());
            docs.push(format!("{}{}", &d[..i], &d[i..].replacen('>', "", 1)));
            docs.push(format!("{}<{}", &d[..i], &d[i..]));
        }
    }
    for d in &docs {
        for schema in [&s, &m] {
            for opts in [ALL, CONFIG] {
                if let Ok(mut t) = data::decode(schema, d, opts) {
                    let _ = encode(schema, &t);
                    data::add_defaults(schema, &mut t);
                    let _ = validate(schema, &t, ValidateOptions::default());
                    let _ = diff(schema, &DataTree::new(), &t);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

const MOD_V: &str = r#"
module v {
  yang-version 1.1;
  namespace "urn:v";
  prefix v;

  list iface {
    key "name";
    leaf name { type string; }
    list unit {
      key "id";
      leaf id { type uint16; }
    }
  }

  container c {
    leaf low { type int32; }
    leaf high {
      type int32;
      must ". >= ../low";
    }
    leaf lucky {
      type int32;
      must ". != 13" {
        error-message "thirteen is unlucky";
        error-app-tag "unlucky";
      }
    }
    leaf mode {
      type enumeration { enum a; enum b; }
    }
    leaf b-only {
      when "../mode = 'b'";
      type string;
    }
    leaf if-ref {
      type leafref { path "/v:iface/v:name"; }
    }
    leaf unit-ref {
      type leafref { path "/v:iface[v:name = current()/../if-ref]/v:unit/v:id"; }
    }
    leaf loose-ref {
      type leafref {
        path "/v:iface/v:name";
        require-instance false;
      }
    }
    leaf any-ref { type instance-identifier; }
    leaf any-loose {
      type instance-identifier { require-instance false; }
    }
  }

  container m {
    presence "enables the mandatory checks";
    leaf must-have { type string; mandatory true; }
    choice how {
      mandatory true;
      leaf by-name { type string; }
      leaf by-id { type uint32; }
    }
    choice sel {
      case one {
        leaf x1 { type string; }
        leaf x2 { type string; }
      }
      case two {
        leaf y1 { type string; }
      }
    }
  }

  container lists {
    presence "enables the list checks";
    list entry {
      key "id";
      min-elements 2;
      max-elements 3;
      unique "host port";
      leaf id { type uint8; }
      leaf host { type string; }
      leaf port { type uint16; }
    }
  }
}
"#;

fn v() -> Schema {
    compile(&[("v.yang", MOD_V)])
}

const IFACES: &str = r#"<iface xmlns="urn:v"><name>e0</name><unit><id>1</id></unit><unit><id>2</id></unit></iface>
<iface xmlns="urn:v"><name>e1</name><unit><id>7</id></unit></iface>"#;

#[test]
fn must_violation_default_app_tag() {
    let s = v();
    assert_valid(&s, r#"<c xmlns="urn:v"><low>5</low><high>5</high></c>"#);
    let e = invalid(&s, r#"<c xmlns="urn:v"><low>5</low><high>4</high></c>"#);
    assert_eq!(e.tag, ErrorTag::OperationFailed);
    assert_eq!(e.app_tag.as_deref(), Some("must-violation"));
    assert_eq!(e.path.as_deref(), Some("/v:c/v:high"));
    assert!(e.message.contains(". >= ../low"), "{e:?}");
}

#[test]
fn must_violation_custom_message_and_app_tag() {
    let s = v();
    assert_valid(&s, r#"<c xmlns="urn:v"><lucky>12</lucky></c>"#);
    let e = invalid(&s, r#"<c xmlns="urn:v"><lucky>13</lucky></c>"#);
    assert_eq!(e.tag, ErrorTag::OperationFailed);
    assert_eq!(e.app_tag.as_deref(), Some("unlucky"));
    assert_eq!(e.message, "thirteen is unlucky");
    assert_eq!(e.path.as_deref(), Some("/v:c/v:lucky"));
}

#[test]
fn when_false_on_explicit_node() {
    let s = v();
    assert_valid(
        &s,
        r#"<c xmlns="urn:v"><mode>b</mode><b-only>x</b-only></c>"#,
    );
    assert_valid(&s, r#"<c xmlns="urn:v"><mode>a</mode></c>"#);
    let e = invalid(
        &s,
        r#"<c xmlns="urn:v"><mode>a</mode><b-only>x</b-only></c>"#,
    );
    assert_eq!(e.tag, ErrorTag::InvalidValue);
    assert_eq!(e.app_tag.as_deref(), Some("when-violation"));
    assert_eq!(e.path.as_deref(), Some("/v:c/v:b-only"));
    assert!(e.message.contains("../mode = 'b'"), "{e:?}");
    let e = invalid(&s, r#"<c xmlns="urn:v"><b-only>x</b-only></c>"#);
    assert_eq!(e.path.as_deref(), Some("/v:c/v:b-only"));
}

#[test]
fn leafref_require_instance() {
    let s = v();
    assert_valid(
        &s,
        &format!(r#"{IFACES}<c xmlns="urn:v"><if-ref>e1</if-ref></c>"#),
    );
    let e = invalid(
        &s,
        &format!(r#"{IFACES}<c xmlns="urn:v"><if-ref>e9</if-ref></c>"#),
    );
    assert_eq!(e.tag, ErrorTag::DataMissing);
    assert_eq!(e.app_tag.as_deref(), Some("instance-required"));
    assert_eq!(e.path.as_deref(), Some("/v:c/v:if-ref"));
    assert!(e.message.contains("e9"), "{e:?}");
    // require-instance false: anything goes.
    assert_valid(&s, r#"<c xmlns="urn:v"><loose-ref>nowhere</loose-ref></c>"#);
}

#[test]
fn leafref_with_current_predicate() {
    let s = v();
    assert_valid(
        &s,
        &format!(r#"{IFACES}<c xmlns="urn:v"><if-ref>e0</if-ref><unit-ref>2</unit-ref></c>"#),
    );
    assert_valid(
        &s,
        &format!(r#"{IFACES}<c xmlns="urn:v"><if-ref>e1</if-ref><unit-ref>7</unit-ref></c>"#),
    );
    // Unit 7 exists, but on e1, not on the referenced e0.
    let e = invalid(
        &s,
        &format!(r#"{IFACES}<c xmlns="urn:v"><if-ref>e0</if-ref><unit-ref>7</unit-ref></c>"#),
    );
    assert_eq!(e.tag, ErrorTag::DataMissing);
    assert_eq!(e.app_tag.as_deref(), Some("instance-required"));
    assert_eq!(e.path.as_deref(), Some("/v:c/v:unit-ref"));
}

#[test]
fn instance_identifier_require_instance() {
    let s = v();
    assert_valid(
        &s,
        &format!(
            r#"{IFACES}<c xmlns="urn:v"><any-ref xmlns:p="urn:v">/p:iface[p:name='e0']/p:unit[p:id='2']</any-ref></c>"#
        ),
    );
    let e = invalid(
        &s,
        &format!(
            r#"{IFACES}<c xmlns="urn:v"><any-ref xmlns:p="urn:v">/p:iface[p:name='e1']/p:unit[p:id='2']</any-ref></c>"#
        ),
    );
    assert_eq!(e.tag, ErrorTag::DataMissing);
    assert_eq!(e.app_tag.as_deref(), Some("instance-required"));
    assert_eq!(e.path.as_deref(), Some("/v:c/v:any-ref"));
    assert!(e.message.contains("/v:iface[v:name='e1']"), "{e:?}");
    assert_valid(
        &s,
        r#"<c xmlns="urn:v"><any-loose xmlns:p="urn:v">/p:iface[p:name='zz']</any-loose></c>"#,
    );
}

#[test]
fn mandatory_leaf_and_choice() {
    let s = v();
    assert_valid(
        &s,
        r#"<m xmlns="urn:v"><must-have>x</must-have><by-id>3</by-id></m>"#,
    );
    // Absent presence container: nothing is required.
    assert_valid(&s, r#"<c xmlns="urn:v"/>"#);

    let e = invalid(&s, r#"<m xmlns="urn:v"><by-name>n</by-name></m>"#);
    assert_eq!(e.tag, ErrorTag::DataMissing);
    assert_eq!(e.app_tag, None);
    assert_eq!(info(&e, "bad-element"), ["must-have"]);
    assert_eq!(e.path.as_deref(), Some("/v:m"));
    assert!(e.message.contains("must-have"), "{e:?}");

    let e = invalid(&s, r#"<m xmlns="urn:v"><must-have>x</must-have></m>"#);
    assert_eq!(e.tag, ErrorTag::DataMissing);
    assert_eq!(e.app_tag.as_deref(), Some("missing-choice"));
    assert_eq!(info(&e, "missing-choice"), ["how"]);
    assert_eq!(e.path.as_deref(), Some("/v:m"));
}

#[test]
fn two_cases_of_one_choice() {
    let s = v();
    assert_valid(
        &s,
        r#"<m xmlns="urn:v"><must-have>x</must-have><by-id>3</by-id><x1>a</x1><x2>b</x2></m>"#,
    );
    let e = invalid(
        &s,
        r#"<m xmlns="urn:v"><must-have>x</must-have><by-id>3</by-id><x1>a</x1><y1>b</y1></m>"#,
    );
    assert_eq!(e.tag, ErrorTag::InvalidValue);
    assert_eq!(e.path.as_deref(), Some("/v:m"));
    assert!(
        e.message.contains("sel") && e.message.contains("one") && e.message.contains("two"),
        "{e:?}"
    );
    // Two shorthand cases of a mandatory choice.
    let e = invalid(
        &s,
        r#"<m xmlns="urn:v"><must-have>x</must-have><by-id>3</by-id><by-name>n</by-name></m>"#,
    );
    assert!(e.message.contains("how"), "{e:?}");
}

fn entries(list: &[(u8, &str, u16)]) -> String {
    let mut out = String::from(r#"<lists xmlns="urn:v">"#);
    for (id, host, port) in list {
        out.push_str(&format!(
            "<entry><id>{id}</id><host>{host}</host><port>{port}</port></entry>"
        ));
    }
    out.push_str("</lists>");
    out
}

#[test]
fn min_and_max_elements() {
    let s = v();
    assert_valid(&s, &entries(&[(1, "a", 1), (2, "a", 2)]));
    assert_valid(&s, &entries(&[(1, "a", 1), (2, "a", 2), (3, "b", 1)]));
    let e = invalid(&s, &entries(&[(1, "a", 1)]));
    assert_eq!(e.tag, ErrorTag::OperationFailed);
    assert_eq!(e.app_tag.as_deref(), Some("too-few-elements"));
    assert_eq!(e.path.as_deref(), Some("/v:lists"));
    let e = invalid(&s, r#"<lists xmlns="urn:v"/>"#);
    assert_eq!(e.app_tag.as_deref(), Some("too-few-elements"));
    let e = invalid(
        &s,
        &entries(&[(1, "a", 1), (2, "a", 2), (3, "b", 1), (4, "b", 2)]),
    );
    assert_eq!(e.tag, ErrorTag::OperationFailed);
    assert_eq!(e.app_tag.as_deref(), Some("too-many-elements"));
    // The first entry past the limit.
    assert_eq!(e.path.as_deref(), Some("/v:lists/v:entry[v:id='4']"));
}

#[test]
fn unique_violation() {
    let s = v();
    let e = invalid(&s, &entries(&[(1, "a", 1), (2, "b", 1), (3, "a", 1)]));
    assert_eq!(e.tag, ErrorTag::OperationFailed);
    assert_eq!(e.app_tag.as_deref(), Some("data-not-unique"));
    assert_eq!(e.path.as_deref(), Some("/v:lists/v:entry[v:id='3']"));
    assert_eq!(
        info(&e, "non-unique"),
        ["/v:lists/v:entry[v:id='1']", "/v:lists/v:entry[v:id='3']"]
    );
    assert!(e.message.contains("host port"), "{e:?}");
    // An entry lacking one of the unique leaves is exempt.
    assert_valid(
        &s,
        r#"<lists xmlns="urn:v"><entry><id>1</id><host>a</host></entry><entry><id>2</id><host>a</host></entry></lists>"#,
    );
}

#[test]
fn errors_come_together_in_document_order() {
    let s = v();
    let errs = check(
        &s,
        r#"<c xmlns="urn:v"><low>5</low><high>4</high><lucky>13</lucky></c><m xmlns="urn:v"/>"#,
    )
    .unwrap_err();
    let tags: Vec<Option<&str>> = errs.iter().map(|e| e.app_tag.as_deref()).collect();
    assert!(tags.contains(&Some("must-violation")), "{errs:#?}");
    assert!(tags.contains(&Some("unlucky")), "{errs:#?}");
    assert!(tags.contains(&Some("missing-choice")), "{errs:#?}");
    assert!(errs.len() >= 4, "{errs:#?}");
    let one = validate(
        &s,
        &data::decode(
            &s,
            r#"<c xmlns="urn:v"><low>5</low><high>4</high><lucky>13</lucky></c>"#,
            CONFIG,
        )
        .unwrap(),
        ValidateOptions {
            max_errors: 1,
            ..ValidateOptions::default()
        },
    )
    .unwrap_err();
    assert_eq!(one.len(), 1);
}

#[test]
fn embedded_state_data_is_checked_only_when_asked() {
    let m = embedded();
    // oper-status is mandatory state: a configuration needs none of it.
    let tree = data::decode(
        &m,
        r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces"><interface><name>e0</name></interface></interfaces>"#,
        CONFIG,
    )
    .unwrap();
    validate(&m, &tree, ValidateOptions::default()).unwrap();
    let errs = validate(
        &m,
        &tree,
        ValidateOptions {
            config_only: false,
            ..ValidateOptions::default()
        },
    )
    .unwrap_err();
    // (The NACM counters, mandatory state too, are missing as well.)
    let oper = errs
        .iter()
        .find(|e| info(e, "bad-element") == ["oper-status"])
        .unwrap_or_else(|| panic!("{errs:#?}"));
    assert_eq!(oper.tag, ErrorTag::DataMissing, "{errs:#?}");
}

// ---------------------------------------------------------------------------------------------
// XPath functions in must/when
// ---------------------------------------------------------------------------------------------

const MOD_X: &str = r#"
module x {
  yang-version 1.1;
  namespace "urn:x";
  prefix x;

  identity animal;
  identity mammal { base animal; }
  identity dog { base mammal; }
  identity bird { base animal; }

  list server {
    key "name";
    leaf name { type string; }
    leaf port { type uint16; }
    leaf enabled { type boolean; default "true"; }
  }

  container f {
    leaf pet { type identityref { base animal; } }
    leaf walks {
      type uint8;
      must "derived-from(../pet, 'x:mammal')" { error-app-tag "needs-mammal"; }
    }
    leaf wings {
      type uint8;
      must "derived-from-or-self(../pet, 'x:bird')" { error-app-tag "needs-bird"; }
    }
    leaf level {
      type enumeration {
        enum low { value 1; }
        enum mid { value 5; }
        enum high { value 10; }
      }
    }
    leaf boost {
      type uint8;
      must "enum-value(../level) >= 5" { error-app-tag "level-too-low"; }
    }
    leaf flags {
      type bits {
        bit ro { position 0; }
        bit secure { position 3; }
      }
    }
    leaf key-file {
      type string;
      must "bit-is-set(../flags, 'secure')" { error-app-tag "not-secure"; }
    }
    leaf code {
      type string;
      must "re-match(., '[A-Z]{2}-[0-9]+')" { error-app-tag "bad-code"; }
    }
    leaf server-ref {
      type leafref { path "/x:server/x:name"; }
    }
    leaf server-port {
      type uint16;
      must "deref(../server-ref)/../x:port = ." { error-app-tag "port-mismatch"; }
    }
    leaf enabled-port {
      type uint16;
      must "/x:server[x:port = current()]/x:enabled = 'true'" {
        error-app-tag "no-enabled-server";
      }
    }
    container group {
      must "count(member) <= 2" { error-app-tag "too-many-members"; }
      leaf-list member { type string; }
    }
    container dog-stuff {
      when "derived-from-or-self(../pet, 'x:dog')";
      leaf leash { type string; }
    }
  }
}
"#;

fn x() -> Schema {
    compile(&[("x.yang", MOD_X)])
}

fn f(body: &str) -> String {
    format!(
        r#"<server xmlns="urn:x"><name>s1</name><port>80</port></server>
<server xmlns="urn:x"><name>s2</name><port>81</port><enabled>false</enabled></server>
<f xmlns="urn:x">{body}</f>"#
    )
}

fn fails_with(s: &Schema, body: &str, app_tag: &str, path: &str) {
    let e = invalid(s, &f(body));
    assert_eq!(e.app_tag.as_deref(), Some(app_tag), "{body}: {e:?}");
    assert_eq!(e.path.as_deref(), Some(path), "{body}: {e:?}");
}

#[test]
fn xpath_derived_from() {
    let s = x();
    assert_valid(&s, &f("<pet>dog</pet><walks>2</walks>"));
    assert_valid(
        &s,
        &f(r#"<pet xmlns:o="urn:x">o:dog</pet><walks>2</walks>"#),
    );
    fails_with(
        &s,
        "<pet>mammal</pet><walks>2</walks>",
        "needs-mammal",
        "/x:f/x:walks",
    );
    fails_with(
        &s,
        "<pet>bird</pet><walks>2</walks>",
        "needs-mammal",
        "/x:f/x:walks",
    );
    fails_with(&s, "<walks>2</walks>", "needs-mammal", "/x:f/x:walks");
    assert_valid(&s, &f("<pet>bird</pet><wings>2</wings>"));
    fails_with(
        &s,
        "<pet>dog</pet><wings>2</wings>",
        "needs-bird",
        "/x:f/x:wings",
    );
    // when with derived-from-or-self
    assert_valid(
        &s,
        &f("<pet>dog</pet><dog-stuff><leash>red</leash></dog-stuff>"),
    );
    let e = invalid(
        &s,
        &f("<pet>bird</pet><dog-stuff><leash>red</leash></dog-stuff>"),
    );
    assert_eq!(e.app_tag.as_deref(), Some("when-violation"));
    assert_eq!(e.path.as_deref(), Some("/x:f/x:dog-stuff"));
}

#[test]
fn xpath_enum_value_and_bit_is_set() {
    let s = x();
    assert_valid(&s, &f("<level>mid</level><boost>1</boost>"));
    assert_valid(&s, &f("<level>high</level><boost>1</boost>"));
    fails_with(
        &s,
        "<level>low</level><boost>1</boost>",
        "level-too-low",
        "/x:f/x:boost",
    );
    fails_with(&s, "<boost>1</boost>", "level-too-low", "/x:f/x:boost");
    assert_valid(&s, &f("<flags>secure ro</flags><key-file>k</key-file>"));
    assert_valid(&s, &f("<flags>secure</flags><key-file>k</key-file>"));
    fails_with(
        &s,
        "<flags>ro</flags><key-file>k</key-file>",
        "not-secure",
        "/x:f/x:key-file",
    );
    fails_with(
        &s,
        "<flags/><key-file>k</key-file>",
        "not-secure",
        "/x:f/x:key-file",
    );
}

#[test]
fn xpath_re_match() {
    let s = x();
    assert_valid(&s, &f("<code>AB-12</code>"));
    // re-match is anchored: a matching substring is not enough.
    fails_with(&s, "<code>xAB-12</code>", "bad-code", "/x:f/x:code");
    fails_with(&s, "<code>AB-12x</code>", "bad-code", "/x:f/x:code");
    fails_with(&s, "<code>ab-12</code>", "bad-code", "/x:f/x:code");
}

#[test]
fn xpath_deref_count_and_current() {
    let s = x();
    assert_valid(
        &s,
        &f("<server-ref>s2</server-ref><server-port>81</server-port>"),
    );
    fails_with(
        &s,
        "<server-ref>s1</server-ref><server-port>81</server-port>",
        "port-mismatch",
        "/x:f/x:server-port",
    );
    assert_valid(
        &s,
        &f("<group><member>a</member><member>b</member></group>"),
    );
    fails_with(
        &s,
        "<group><member>a</member><member>b</member><member>c</member></group>",
        "too-many-members",
        "/x:f/x:group",
    );
    // current() in a predicate: the server with that port must be enabled (s1 by default).
    assert_valid(&s, &f("<enabled-port>80</enabled-port>"));
    fails_with(
        &s,
        "<enabled-port>81</enabled-port>",
        "no-enabled-server",
        "/x:f/x:enabled-port",
    );
    fails_with(
        &s,
        "<enabled-port>82</enabled-port>",
        "no-enabled-server",
        "/x:f/x:enabled-port",
    );
}

// ---------------------------------------------------------------------------------------------
// Defaults and with-defaults views
// ---------------------------------------------------------------------------------------------

const MOD_D: &str = r#"
module d {
  yang-version 1.1;
  namespace "urn:d";
  prefix d;

  container settings {
    leaf mtu { type uint16; default "1500"; }
    leaf name { type string; }
    choice transport {
      default tcp;
      case tcp {
        leaf tcp-port { type uint16; default "830"; }
      }
      case tls {
        leaf tls-port { type uint16; default "6513"; }
        leaf cert { type string; }
      }
    }
    leaf-list dns {
      type string;
      default "8.8.8.8";
      default "1.1.1.1";
    }
    container timers {
      leaf hello { type uint16; default "10"; }
      leaf dead { type uint16; default "40"; }
    }
    container opt {
      presence "optional block";
      leaf q { type uint8; default "5"; }
    }
    choice extra {
      leaf e1 { type uint8; default "1"; }
      leaf e2 { type uint8; default "2"; }
    }
  }

  list peer {
    key "name";
    leaf name { type string; }
    leaf weight { type uint8; default "1"; }
  }

  container empty-holder {
    leaf no-default { type string; }
  }
}
"#;

fn d() -> Schema {
    compile(&[("d.yang", MOD_D)])
}

fn with_defaults(s: &Schema, xml: &str) -> DataTree {
    let mut t = decode(s, xml);
    data::add_defaults(s, &mut t);
    t
}

fn all(s: &Schema, t: &DataTree) -> String {
    data::encode(s, t, view(WithDefaults::ReportAll))
}

#[test]
fn add_defaults_fills_leaves_leaf_lists_containers_and_default_case() {
    let s = d();
    let t = with_defaults(&s, "");
    assert_eq!(
        all(&s, &t),
        concat!(
            r#"<settings xmlns="urn:d"><mtu>1500</mtu><tcp-port>830</tcp-port>"#,
            r#"<dns>1.1.1.1</dns><dns>8.8.8.8</dns>"#,
            r#"<timers><hello>10</hello><dead>40</dead></timers></settings>"#
        )
    );
    // All of it is default: the explicit view is empty.
    assert_eq!(encode(&s, &t), "");
    assert!(t.roots.iter().all(|r| !r.has_explicit()));

    // Idempotent.
    let mut again = t.clone();
    data::add_defaults(&s, &mut again);
    assert_eq!(again, t);
}

#[test]
fn add_defaults_respects_what_is_set() {
    let s = d();
    let t = with_defaults(
        &s,
        r#"<settings xmlns="urn:d"><dns>9.9.9.9</dns><timers><hello>3</hello></timers><e2>7</e2><opt/><cert>c</cert></settings>
<peer xmlns="urn:d"><name>p1</name></peer><peer xmlns="urn:d"><name>p2</name><weight>4</weight></peer>"#,
    );
    assert_eq!(
        all(&s, &t),
        concat!(
            r#"<settings xmlns="urn:d"><mtu>1500</mtu><tls-port>6513</tls-port><cert>c</cert>"#,
            r#"<dns>9.9.9.9</dns><timers><hello>3</hello><dead>40</dead></timers>"#,
            r#"<opt><q>5</q></opt><e2>7</e2></settings>"#,
            r#"<peer xmlns="urn:d"><name>p1</name><weight>1</weight></peer>"#,
            r#"<peer xmlns="urn:d"><name>p2</name><weight>4</weight></peer>"#
        )
    );
}

#[test]
fn default_case_only_without_another_case() {
    let s = d();
    // The tls case is set by its default-less leaf: no tcp-port.
    let t = with_defaults(&s, r#"<settings xmlns="urn:d"><cert>c</cert></settings>"#);
    let out = all(&s, &t);
    assert!(!out.contains("tcp-port"), "{out}");
    assert!(out.contains("<tls-port>6513</tls-port>"), "{out}");
    // Setting the default case's leaf explicitly keeps it and adds nothing from tls.
    let t = with_defaults(
        &s,
        r#"<settings xmlns="urn:d"><tcp-port>22</tcp-port></settings>"#,
    );
    let out = all(&s, &t);
    assert!(out.contains("<tcp-port>22</tcp-port>"), "{out}");
    assert!(!out.contains("tls-port"), "{out}");
    // A choice without a default gets nothing.
    assert!(!out.contains("<e1>") && !out.contains("<e2>"), "{out}");
    // The filled tree still validates.
    validate(&s, &t, ValidateOptions::default()).unwrap();
}

#[test]
fn with_defaults_views_of_one_tree() {
    let s = d();
    let t = with_defaults(
        &s,
        r#"<settings xmlns="urn:d"><mtu>1500</mtu><name>r1</name><timers><hello>20</hello></timers></settings>"#,
    );
    let report_all = concat!(
        r#"<settings xmlns="urn:d"><mtu>1500</mtu><name>r1</name><tcp-port>830</tcp-port>"#,
        r#"<dns>1.1.1.1</dns><dns>8.8.8.8</dns>"#,
        r#"<timers><hello>20</hello><dead>40</dead></timers></settings>"#
    );
    assert_eq!(
        data::encode(&s, &t, view(WithDefaults::ReportAll)),
        report_all
    );
    assert_eq!(
        data::encode(&s, &t, view(WithDefaults::Explicit)),
        concat!(
            r#"<settings xmlns="urn:d"><mtu>1500</mtu><name>r1</name>"#,
            r#"<timers><hello>20</hello></timers></settings>"#
        )
    );
    assert_eq!(
        data::encode(&s, &t, view(WithDefaults::Trim)),
        r#"<settings xmlns="urn:d"><name>r1</name><timers><hello>20</hello></timers></settings>"#
    );
    const WD: &str = r#" xmlns:wd="urn:ietf:params:xml:ns:netconf:default:1.0" wd:default="true""#;
    assert_eq!(
        data::encode(&s, &t, view(WithDefaults::ReportAllTagged)),
        format!(
            concat!(
                r#"<settings xmlns="urn:d"><mtu{wd}>1500</mtu><name>r1</name>"#,
                r#"<tcp-port{wd}>830</tcp-port><dns{wd}>1.1.1.1</dns><dns{wd}>8.8.8.8</dns>"#,
                r#"<timers><hello>20</hello><dead{wd}>40</dead></timers></settings>"#
            ),
            wd = WD
        )
    );
    // report-all and report-all-tagged output decodes back to the same values.
    for mode in [WithDefaults::ReportAll, WithDefaults::ReportAllTagged] {
        let out = data::encode(&s, &t, view(mode));
        let mut back = decode(&s, &out);
        let mut expect = t.clone();
        strip_default_flags(&mut back.roots);
        strip_default_flags(&mut expect.roots);
        assert_eq!(back, expect, "{mode:?}");
    }
    // explicit output decodes back to the tree before defaults were added.
    let explicit = data::encode(&s, &t, view(WithDefaults::Explicit));
    let mut back = decode(&s, &explicit);
    data::add_defaults(&s, &mut back);
    assert_eq!(back, t);
}

#[test]
fn with_defaults_parse() {
    for (text, mode) in [
        ("report-all", WithDefaults::ReportAll),
        ("explicit", WithDefaults::Explicit),
        (" trim ", WithDefaults::Trim),
        ("report-all-tagged", WithDefaults::ReportAllTagged),
    ] {
        assert_eq!(WithDefaults::parse(text), Some(mode));
    }
    assert_eq!(WithDefaults::parse("all"), None);
}

// ---------------------------------------------------------------------------------------------
// Diff
// ---------------------------------------------------------------------------------------------

fn ops(changes: &[Change]) -> Vec<(ChangeOp, &str, Option<&str>, Option<&str>)> {
    changes
        .iter()
        .map(|c| (c.op, c.path.as_str(), c.old.as_deref(), c.new.as_deref()))
        .collect()
}

const BASE: &str = r#"<top xmlns="urn:t"><num>7</num><tags>a</tags><tags>b</tags>
<item><name>i1</name><kind>eth</kind><value>1</value></item>
<item><name>i2</name><value>2</value></item>
<rule><id>r1</id><action>permit</action></rule>
<rule><id>r2</id><action>deny</action></rule>
<rule><id>r3</id></rule>
<seq>z</seq><seq>a</seq></top>"#;

fn edited(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from}");
    BASE.replacen(from, to, 1)
}

#[test]
fn diff_identical_trees_is_empty() {
    let s = tu();
    let a = decode(&s, BASE);
    let b = decode(&s, BASE);
    assert!(diff(&s, &a, &b).is_empty());
    assert!(diff(&s, &a, &a.clone()).is_empty());
    assert!(diff(&s, &DataTree::new(), &DataTree::new()).is_empty());
}

#[test]
fn diff_leaf_modify() {
    let s = tu();
    let a = decode(&s, BASE);
    let b = decode(&s, &edited("<num>7</num>", "<num>8</num>"));
    assert_eq!(
        ops(&diff(&s, &a, &b)),
        [(ChangeOp::Modify, "/t:top/t:num", Some("7"), Some("8"))]
    );
    let b = decode(&s, &edited("<kind>eth</kind>", "<kind>loop</kind>"));
    assert_eq!(
        ops(&diff(&s, &a, &b)),
        [(
            ChangeOp::Modify,
            "/t:top/t:item[t:name='i1']/t:kind",
            Some("t:eth"),
            Some("t:loop")
        )]
    );
    // A leaf that appears or disappears.
    let b = decode(&s, &edited("<num>7</num>", ""));
    assert_eq!(
        ops(&diff(&s, &a, &b)),
        [(ChangeOp::Delete, "/t:top/t:num", Some("7"), None)]
    );
    assert_eq!(
        ops(&diff(&s, &b, &a)),
        [(ChangeOp::Create, "/t:top/t:num", None, Some("7"))]
    );
}

#[test]
fn diff_list_entry_create_and_delete() {
    let s = tu();
    let a = decode(&s, BASE);
    let b = decode(
        &s,
        &edited(
            "<item><name>i2</name>",
            "<item><name>i15</name><kind>loop</kind><value>-1</value></item><item><name>i2</name>",
        ),
    );
    let i = "/t:top/t:item[t:name='i15']";
    assert_eq!(
        ops(&diff(&s, &a, &b)),
        [
            (ChangeOp::Create, i, None, None),
            (
                ChangeOp::Create,
                &format!("{i}/t:name") as &str,
                None,
                Some("i15")
            ),
            (
                ChangeOp::Create,
                &format!("{i}/t:kind"),
                None,
                Some("t:loop")
            ),
            (ChangeOp::Create, &format!("{i}/t:value"), None, Some("-1")),
        ]
    );
    // The reverse deletes the entry once, at its root.
    assert_eq!(ops(&diff(&s, &b, &a)), [(ChangeOp::Delete, i, None, None)]);
    // Creating the whole tree lists every node; deleting it lists the one root.
    let all = diff(&s, &DataTree::new(), &a);
    assert_eq!(all.len(), a.count());
    assert!(all.iter().all(|c| c.op == ChangeOp::Create));
    assert_eq!(
        ops(&diff(&s, &a, &DataTree::new())),
        [(ChangeOp::Delete, "/t:top", None, None)]
    );
}

#[test]
fn diff_leaf_list_add_remove() {
    let s = tu();
    let a = decode(&s, BASE);
    let b = decode(
        &s,
        &edited(
            "<tags>a</tags><tags>b</tags>",
            "<tags>c</tags><tags>b</tags>",
        ),
    );
    assert_eq!(
        ops(&diff(&s, &a, &b)),
        [
            (ChangeOp::Delete, "/t:top/t:tags[.='a']", Some("a"), None),
            (ChangeOp::Create, "/t:top/t:tags[.='c']", None, Some("c")),
        ]
    );
}

#[test]
fn diff_user_ordered_list() {
    let s = tu();
    let a = decode(&s, BASE);
    // Insert in the middle, modify one entry, remove another.
    let b = decode(
        &s,
        &edited(
            "<rule><id>r2</id><action>deny</action></rule>\n<rule><id>r3</id></rule>",
            "<rule><id>r9</id></rule><rule><id>r3</id><action>log</action></rule>",
        ),
    );
    assert_eq!(
        ops(&diff(&s, &a, &b)),
        [
            (ChangeOp::Delete, "/t:top/t:rule[t:id='r2']", None, None),
            (ChangeOp::Create, "/t:top/t:rule[t:id='r9']", None, None),
            (
                ChangeOp::Create,
                "/t:top/t:rule[t:id='r9']/t:id",
                None,
                Some("r9")
            ),
            (
                ChangeOp::Create,
                "/t:top/t:rule[t:id='r3']/t:action",
                None,
                Some("log")
            ),
        ]
    );
    // User order is kept as given.
    let out = encode(&s, &b);
    let r1 = out.find("r1").unwrap();
    let r9 = out.find("r9").unwrap();
    let r3 = out.find("r3").unwrap();
    assert!(r1 < r9 && r9 < r3, "{out}");
    let seq = decode(
        &s,
        &edited(
            "<seq>z</seq><seq>a</seq>",
            "<seq>z</seq><seq>m</seq><seq>a</seq>",
        ),
    );
    assert_eq!(
        ops(&diff(&s, &a, &seq)),
        [(ChangeOp::Create, "/t:top/t:seq[.='m']", None, Some("m"))]
    );
}

#[test]
fn diff_user_ordered_reorder() {
    let s = tu();
    let a = decode(&s, BASE);
    let b = decode(
        &s,
        &edited("<seq>z</seq><seq>a</seq>", "<seq>a</seq><seq>z</seq>"),
    );
    assert_ne!(a, b);
    let changes = diff(&s, &a, &b);
    assert!(!changes.is_empty());
    assert!(
        changes.iter().all(|c| c.op == yang::diff::ChangeOp::Move),
        "{changes:?}"
    );
    assert!(
        changes
            .iter()
            .any(|c| c.path.ends_with("[.='a']") && c.new.as_deref() == Some("0")),
        "{changes:?}"
    );
}

#[test]
fn diff_is_proportional_to_the_edit() {
    let s = tu();
    let mut xml = String::from(r#"<top xmlns="urn:t">"#);
    for i in 0..10_000 {
        xml.push_str(&format!(
            "<item><name>n{i:05}</name><value>{}</value></item>",
            i % 7
        ));
    }
    xml.push_str("</top>");
    let old = decode(&s, &xml);
    assert_eq!(old.roots[0].children.len(), 10_000);
    let item = s.node(old.roots[0].children[4321].schema);
    assert_eq!(item.name, "item");

    // Edit one value along one path: top -> item[n04321] -> value.
    let mut new = old.clone();
    {
        let top = Arc::make_mut(&mut new.roots[0]);
        let entry = Arc::make_mut(&mut top.children[4321]);
        let value = entry
            .children
            .iter_mut()
            .find(|c| s.node(c.schema).name == "value")
            .unwrap();
        Arc::make_mut(value).value = Some("9".into());
    }
    // Only the path was copied.
    let shared = old.roots[0]
        .children
        .iter()
        .zip(&new.roots[0].children)
        .filter(|(a, b)| Arc::ptr_eq(a, b))
        .count();
    assert_eq!(shared, 9_999);

    let changes = diff(&s, &old, &new);
    assert_eq!(
        ops(&changes),
        [(
            ChangeOp::Modify,
            "/t:top/t:item[t:name='n04321']/t:value",
            Some(&*(4321 % 7).to_string()),
            Some("9")
        )]
    );
    // A diff of two independently decoded trees finds the same single change.
    let rebuilt = decode(&s, &encode(&s, &new));
    assert_eq!(diff(&s, &old, &rebuilt), changes);
}

#[test]
fn diff_on_embedded_models() {
    let m = embedded();
    let seed = std::fs::read_to_string(format!(
        "{}/tests/fixtures/seed-a.xml",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let load = |xml: &str| {
        let root = yang::xml::parse(xml).unwrap();
        let mut t = data::decode_elements(&m, &root.children, CONFIG).unwrap();
        data::add_defaults(&m, &mut t);
        t
    };
    let a = load(&seed);
    let b = load(&seed.replace("<priority>120</priority>", "<priority>110</priority>"));
    assert_eq!(
        ops(&diff(&m, &a, &b)),
        [(
            ChangeOp::Modify,
            "/if:interfaces/if:interface[if:name='a-ic']/vrrp:vrrp/vrrp:group[vrrp:vrid='1']/vrrp:priority",
            Some("120"),
            Some("110")
        )]
    );
    // Removing an explicit value of a leaf with a default reverts it to the default: a modify.
    let c = load(&seed.replace("<mode>link</mode>", ""));
    assert_eq!(
        ops(&diff(&m, &a, &c)),
        [(
            ChangeOp::Modify,
            "/if:interfaces/if:interface[if:name='a-ic']/vrrp:vrrp/vrrp:group[vrrp:vrid='1']/vrrp:track/vrrp:monitor-group[vrrp:name='uplinks']/vrrp:mode",
            Some("link"),
            Some("reduce")
        )]
    );
}

// ---------------------------------------------------------------------------------------------
// Sibling and key order
// ---------------------------------------------------------------------------------------------

const MOD_ORDER: &str = r#"
module o {
  yang-version 1.1;
  namespace "urn:o";
  prefix o;
  container c {
    leaf a { type string; }
    choice ch {
      leaf b { type string; }
      leaf x { type string; }
    }
    leaf d { type string; }
  }
}
"#;

/// Members of a choice that is not the first child keep their own positions among the
/// parent's children (they once took the positions of the choice's own flattened list, so
/// siblings tied, duplicates went unnoticed and the output order followed the input order).
#[test]
fn schema_order_with_a_choice_between_leaves() {
    let s = compile(&[("o.yang", MOD_ORDER)]);
    let ab = decode(&s, r#"<c xmlns="urn:o"><a>1</a><b>2</b><d>3</d></c>"#);
    let ba = decode(&s, r#"<c xmlns="urn:o"><d>3</d><b>2</b><a>1</a></c>"#);
    assert_eq!(ab, ba);
    assert_eq!(
        encode(&s, &ab),
        r#"<c xmlns="urn:o"><a>1</a><b>2</b><d>3</d></c>"#
    );
    let e = decode_err(&s, r#"<c xmlns="urn:o"><a>1</a><b>2</b><a>3</a></c>"#, ALL);
    assert_eq!(info(&e, "bad-element"), ["a"]);
}

/// System-ordered entries are sorted by key, integers numerically; the order must be total and
/// must tell apart string keys that merely look like the same number.
#[test]
fn key_order_is_total_and_exact() {
    let s = tu();
    let names = ["10", "9", "1a", "b", "05", "5", "+5", "-3", "a", "0"];
    let mut outputs = std::collections::HashSet::new();
    // Every rotation and its reverse of the input order gives the same tree.
    for r in 0..names.len() {
        for rev in [false, true] {
            let mut order: Vec<&str> = names
                .iter()
                .cycle()
                .skip(r)
                .take(names.len())
                .copied()
                .collect();
            if rev {
                order.reverse();
            }
            let mut xml = String::from(r#"<top xmlns="urn:t">"#);
            for n in &order {
                xml.push_str(&format!("<item><name>{n}</name></item>"));
            }
            xml.push_str("</top>");
            let tree = decode(&s, &xml);
            assert_eq!(tree.roots[0].children.len(), names.len());
            outputs.insert(encode(&s, &tree));
        }
    }
    assert_eq!(outputs.len(), 1, "{outputs:#?}");
    let out = outputs.into_iter().next().unwrap();
    let pos = |n: &str| out.find(&format!("<name>{n}</name>")).unwrap();
    assert!(
        pos("-3") < pos("0") && pos("0") < pos("5") && pos("5") < pos("9"),
        "{out}"
    );
    assert!(pos("9") < pos("10"), "{out}");
    // Duplicates are found whatever the neighbours.
    let e = decode_err(
        &s,
        r#"<top xmlns="urn:t"><item><name>10</name></item><item><name>9</name></item><item><name>1a</name></item><item><name>9</name></item></top>"#,
        ALL,
    );
    assert_eq!(info(&e, "bad-element"), ["item"]);
}
