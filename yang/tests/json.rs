//! The RFC 7951 JSON codec: each encoding rule on a module with every type, the device's seed
//! configuration (XML -> tree -> JSON -> tree, and against yanglint), bad input.

use yang::data::json;
use yang::data::{self, DataError, DataTree, DecodeOptions, EncodeOptions, ErrorTag, WithDefaults};
use yang::{Schema, SchemaBuilder};

const ALL: DecodeOptions = DecodeOptions { config_only: false };
const CONFIG: DecodeOptions = DecodeOptions { config_only: true };

fn view(with_defaults: WithDefaults) -> EncodeOptions {
    EncodeOptions {
        with_defaults,
        config_only: false,
    }
}

const MOD_J: &str = r#"
module j {
  yang-version 1.1;
  namespace "urn:j";
  prefix j;

  identity base-type;
  identity eth { base base-type; }

  typedef percent { type uint8 { range "0..100"; } }

  container top {
    leaf i8 { type int8; }
    leaf i16 { type int16; }
    leaf i32 { type int32; }
    leaf i64 { type int64; }
    leaf u8 { type uint8; }
    leaf u16 { type uint16; }
    leaf u32 { type uint32; }
    leaf u64 { type uint64; }
    leaf dec { type decimal64 { fraction-digits 2; } }
    leaf flag { type boolean; }
    leaf marker { type empty; }
    leaf text { type string; }
    leaf blob { type binary; }
    leaf color { type enumeration { enum red; enum green; } }
    leaf perms { type bits { bit read; bit write; bit exec; } }
    leaf kind { type identityref { base base-type; } }
    leaf target { type instance-identifier; }
    leaf num-or-text { type union { type int32; type string; } }
    leaf text-or-num { type union { type string; type int32; } }
    leaf bool-or-big { type union { type boolean; type uint64; type empty; } }
    leaf ref { type leafref { path "../item/name"; require-instance false; } }
    leaf kind-ref { type leafref { path "../kind"; } }
    leaf pct { type percent; default 50; }
    leaf-list tags { type string; }
    leaf-list nums { type uint16; }
    leaf-list bigs { type int64; }
    leaf-list levels { type uint8; default 1; default 2; }
    leaf state { type string; config false; }
    list item {
      key "name";
      leaf name { type string; }
      leaf weight { type uint8; default 10; }
      container sub { leaf x { type int32; } }
    }
    list pair {
      key "a b";
      leaf a { type string; }
      leaf b { type uint16; }
      leaf c { type string; }
    }
    choice ch {
      case one { leaf one { type string; } }
      case two { leaf two { type string; } }
    }
    container p { presence "p"; }
    anydata any;
  }
}
"#;

const MOD_JA: &str = r#"
module ja {
  yang-version 1.1;
  namespace "urn:ja";
  prefix x;
  import j { prefix j; }

  identity gadget { base j:base-type; }

  augment "/j:top/j:item" {
    leaf extra { type string; }
    container deep { leaf y { type uint64; } }
  }
  augment "/j:top" {
    leaf-list more { type identityref { base j:base-type; } }
  }
  container other { leaf x { type string; } }
}
"#;

fn jj() -> Schema {
    SchemaBuilder::new()
        .without_embedded()
        .source("j.yang", MOD_J)
        .source("ja.yang", MOD_JA)
        .build()
        .unwrap_or_else(|e| panic!("inline modules compile:\n{e}"))
}

fn xml_tree(s: &Schema, xml: &str) -> DataTree {
    data::decode(s, xml, ALL).unwrap_or_else(|e| panic!("XML decode failed: {e}\n{xml}"))
}

fn json_tree(s: &Schema, text: &str) -> DataTree {
    json::decode(s, text, ALL).unwrap_or_else(|e| panic!("JSON decode failed: {e}\n{text}"))
}

fn to_json(s: &Schema, t: &DataTree) -> String {
    json::encode(s, t, EncodeOptions::default())
}

/// Every type at once, in XML.
const EVERY_TYPE_XML: &str = r#"
<top xmlns="urn:j" xmlns:j="urn:j" xmlns:x="urn:ja">
  <i8>-128</i8><i16>+017</i16><i32>-2147483648</i32><i64>-9223372036854775808</i64>
  <u8>255</u8><u16>65535</u16><u32>4294967295</u32><u64>18446744073709551615</u64>
  <dec>1.50</dec><flag>true</flag><marker/><text> a "quoted" \ line
two &lt;tab&gt;	</text>
  <blob>aGVsbG8=</blob><color>green</color><perms>exec  read</perms>
  <kind>x:gadget</kind>
  <target>/j:top/j:item[j:name="b"]/x:deep/x:y</target>
  <num-or-text>007</num-or-text><text-or-num>7</text-or-num><bool-or-big>42</bool-or-big>
  <ref>a</ref><kind-ref>x:gadget</kind-ref><pct>50</pct>
  <tags>b</tags><tags>a</tags><nums>10</nums><nums>9</nums><bigs>-1</bigs>
  <levels>3</levels>
  <state>up</state>
  <item><name>b</name><weight>1</weight><sub><x>-1</x></sub><x:extra>e</x:extra>
    <x:deep><x:y>5</x:y></x:deep></item>
  <item><name>a</name></item>
  <pair><a>x</a><b>2</b><c>c</c></pair>
  <two>2</two>
  <p/>
  <x:more>x:gadget</x:more><x:more>j:eth</x:more>
</top>
<other xmlns="urn:ja"><x>o</x></other>
"#;

/// The same data in RFC 7951 JSON, as we write it (checked against yanglint's conversion below).
const EVERY_TYPE_JSON: &str = concat!(
    r#"{"j:top":{"i8":-128,"i16":17,"i32":-2147483648,"i64":"-9223372036854775808","#,
    r#""u8":255,"u16":65535,"u32":4294967295,"u64":"18446744073709551615","#,
    r#""dec":"1.5","flag":true,"marker":[null],"text":" a \"quoted\" \\ line\ntwo <tab>\t","#,
    r#""blob":"aGVsbG8=","color":"green","perms":"read exec","kind":"ja:gadget","#,
    r#""target":"/j:top/item[name='b']/ja:deep/y","num-or-text":7,"text-or-num":"7","#,
    r#""bool-or-big":"42","ref":"a","kind-ref":"ja:gadget","pct":50,"#,
    r#""tags":["a","b"],"nums":[9,10],"bigs":["-1"],"levels":[3],"state":"up","#,
    r#""item":[{"name":"a"},{"name":"b","weight":1,"sub":{"x":-1},"ja:extra":"e","ja:deep":{"y":"5"}}],"#,
    r#""pair":[{"a":"x","b":2,"c":"c"}],"two":"2","p":{},"ja:more":["j:eth","ja:gadget"]},"#,
    r#""ja:other":{"x":"o"}}"#,
);

#[test]
fn every_type_has_its_rfc7951_form() {
    let s = jj();
    let tree = xml_tree(&s, EVERY_TYPE_XML);
    let out = to_json(&s, &tree);
    assert_eq!(out, EVERY_TYPE_JSON);
    // Valid JSON, and it decodes to the tree the XML gave; the output is a fixed point.
    json::parse(&out).expect("well-formed JSON");
    let back = json_tree(&s, &out);
    assert_eq!(back, tree);
    assert_eq!(to_json(&s, &back), out);
    // The XML of the JSON's tree is the XML of the XML's tree, and decodes to it (a leafref to
    // an identityref declares the identity's prefix).
    let xml = data::encode(&s, &back, EncodeOptions::default());
    assert_eq!(xml, data::encode(&s, &tree, EncodeOptions::default()));
    assert!(
        xml.contains(r#"<kind-ref xmlns:x="urn:ja">x:gadget</kind-ref>"#),
        "{xml}"
    );
    assert_eq!(xml_tree(&s, &xml), tree);
}

/// What RFC 7951 allows besides our own output decodes to the same tree: any member order,
/// entries in any order, lexical variants of values, an identity of the leaf's own module
/// without its module name, a module name where the simple form would do, white space.
#[test]
fn other_forms_of_the_same_data_decode_alike() {
    let s = jj();
    let tree = xml_tree(&s, EVERY_TYPE_XML);
    let other = r#"
      { "ja:other" : { "x" : "o" },
        "j:top" : {
          "ja:more" : [ "ja:gadget", "j:eth" ], "p" : { }, "two" : "2",
          "pair" : [ { "c" : "c", "b" : 2, "j:a" : "x" } ],
          "item" : [ { "ja:deep" : { "y" : "5" }, "j:name" : "b", "ja:extra" : "e",
                       "sub" : { "x" : -1 }, "weight" : 1 },
                     { "name" : "a" } ],
          "state" : "up", "levels" : [ 3 ], "bigs" : [ "-1" ], "nums" : [ 10, 9 ],
          "tags" : [ "b", "a" ], "pct" : 50, "kind-ref" : "ja:gadget", "ref" : "a",
          "bool-or-big" : "42", "text-or-num" : "7", "num-or-text" : 7,
          "target" : "/j:top/j:item[j:name = \"b\"]/ja:deep/ja:y",
          "kind" : "ja:gadget", "perms" : "exec read", "color" : "green",
          "blob" : "aGVs bG8=", "text" : " a \u0022quoted\u0022 \\ line\u000atwo <tab>\t",
          "marker" : [ null ], "flag" : true, "dec" : "1.50",
          "u64" : "18446744073709551615", "u32" : 4294967295, "u16" : 65535, "u8" : 255,
          "i64" : "-9223372036854775808", "i32" : -2147483648, "i16" : 17, "i8" : -128
        }
      }"#;
    assert_eq!(json_tree(&s, other), tree);
    // An identity of the leaf's own module may go without its module name (RFC 7951 §6.8).
    let a = json_tree(&s, r#"{"j:top":{"kind":"eth"}}"#);
    let b = xml_tree(&s, r#"<top xmlns="urn:j"><kind>eth</kind></top>"#);
    assert_eq!(a, b);
    assert_eq!(to_json(&s, &a), r#"{"j:top":{"kind":"j:eth"}}"#);
    // -0 is 0; a byte order mark is ignored.
    assert_eq!(
        json_tree(&s, "\u{feff}{\"j:top\":{\"i8\":-0}}"),
        xml_tree(&s, r#"<top xmlns="urn:j"><i8>0</i8></top>"#)
    );
}

/// RFC 7951 §6.10: a union's member is chosen by the value and its JSON type.
#[test]
fn union_members_follow_the_json_type() {
    let s = jj();
    let cases = [
        // (JSON value of num-or-text (int32 | string), value in the tree, re-encoded)
        (r#"7"#, "7", "7"),
        (r#""7""#, "7", "7"),
        (r#""007""#, "007", r#""007""#),
        (r#""seven""#, "seven", r#""seven""#),
    ];
    for (v, stored, again) in cases {
        let t = json_tree(&s, &format!(r#"{{"j:top":{{"num-or-text":{v}}}}}"#));
        let leaf = t.find(&s, "/j:top/j:num-or-text").unwrap();
        assert_eq!(leaf.value.as_deref(), Some(stored), "{v}");
        assert_eq!(
            to_json(&s, &t),
            format!(r#"{{"j:top":{{"num-or-text":{again}}}}}"#)
        );
    }
    // boolean | uint64 | empty: each member in its own JSON type.
    for (v, stored) in [("true", "true"), (r#""5""#, "5"), ("[null]", "")] {
        let text = format!(r#"{{"j:top":{{"bool-or-big":{v}}}}}"#);
        let t = json_tree(&s, &text);
        let leaf = t.find(&s, "/j:top/j:bool-or-big").unwrap();
        assert_eq!(leaf.value.as_deref(), Some(stored), "{v}");
        assert_eq!(to_json(&s, &t), text);
    }
    for v in ["5", r#""true""#, "null", "[]"] {
        let text = format!(r#"{{"j:top":{{"bool-or-big":{v}}}}}"#);
        let e = json::decode(&s, &text, ALL).unwrap_err();
        assert!(
            matches!(e.tag, ErrorTag::InvalidValue | ErrorTag::BadElement),
            "{v}: {e}"
        );
    }
}

#[test]
fn identities_and_instance_identifiers_name_modules_not_prefixes() {
    let s = jj();
    // ja's prefix is x: in JSON the module name is what counts.
    let t = json_tree(
        &s,
        r#"{"j:top":{"kind":"ja:gadget","target":"/j:top/pair[a='x'][b='2']/c"}}"#,
    );
    assert_eq!(
        t.find(&s, "/j:top/j:kind").unwrap().value.as_deref(),
        Some("x:gadget")
    );
    assert_eq!(
        t.find(&s, "/j:top/j:target").unwrap().value.as_deref(),
        Some("/j:top/j:pair[j:a='x'][j:b='2']/j:c")
    );
    let e = json::decode(&s, r#"{"j:top":{"kind":"x:gadget"}}"#, ALL).unwrap_err();
    assert_eq!(e.tag, ErrorTag::InvalidValue, "{e}");
    let e = json::decode(&s, r#"{"j:top":{"target":"/top"}}"#, ALL).unwrap_err();
    assert!(e.message.contains("module name"), "{e}");
    // Paths both ways, as a RESTCONF front end needs them for URIs and error-path.
    for (tree_form, json_form) in [
        ("/j:top", "/j:top"),
        (
            "/j:top/j:item[j:name='a']/x:deep/x:y",
            "/j:top/item[name='a']/ja:deep/y",
        ),
        ("/j:top/j:tags[.='a b']", "/j:top/tags[.='a b']"),
        ("/x:other/x:x", "/ja:other/x"),
    ] {
        assert_eq!(
            json::to_json_path(&s, tree_form).as_deref(),
            Some(json_form)
        );
        assert_eq!(
            json::from_json_path(&s, json_form).as_deref(),
            Ok(tree_form)
        );
    }
    assert!(json::from_json_path(&s, "/j:top/nope").is_err());
    assert_eq!(json::to_json_path(&s, "/j:nope"), None);
}

#[test]
fn with_defaults_views_and_config_only() {
    let s = jj();
    let mut tree = json_tree(
        &s,
        r#"{"j:top":{"u8":1,"state":"up","item":[{"name":"a"},{"name":"b","weight":10}]}}"#,
    );
    data::add_defaults(&s, &mut tree);
    let enc = |opts| json::encode(&s, &tree, opts);
    assert_eq!(
        enc(view(WithDefaults::Explicit)),
        r#"{"j:top":{"u8":1,"state":"up","item":[{"name":"a"},{"name":"b","weight":10}]}}"#
    );
    assert_eq!(
        enc(view(WithDefaults::ReportAll)),
        concat!(
            r#"{"j:top":{"u8":1,"pct":50,"levels":[1,2],"state":"up","#,
            r#""item":[{"name":"a","weight":10},{"name":"b","weight":10}]}}"#
        )
    );
    // RFC 8040 §4.8.9: defaults tagged with the RFC 7952 annotation.
    let tagged = enc(view(WithDefaults::ReportAllTagged));
    let d = r#"{"ietf-netconf-with-defaults:default":true}"#;
    assert_eq!(
        tagged,
        format!(
            concat!(
                r#"{{"j:top":{{"u8":1,"pct":50,"@pct":{d},"levels":[1,2],"@levels":[{d},{d}],"#,
                r#""state":"up","item":[{{"name":"a","weight":10,"@weight":{d}}},"#,
                r#"{{"name":"b","weight":10,"@weight":{d}}}]}}}}"#
            ),
            d = d
        )
    );
    // A tagged reply can be sent back: the annotation is accepted (and ignored).
    let mut back = json_tree(&s, &tagged);
    data::add_defaults(&s, &mut back);
    assert_eq!(
        json::encode(&s, &back, view(WithDefaults::ReportAll)),
        enc(view(WithDefaults::ReportAll))
    );
    // trim leaves out values equal to their default, explicitly set or not.
    assert_eq!(
        enc(view(WithDefaults::Trim)),
        r#"{"j:top":{"u8":1,"state":"up","item":[{"name":"a"},{"name":"b"}]}}"#
    );
    let config = EncodeOptions {
        with_defaults: WithDefaults::Explicit,
        config_only: true,
    };
    assert_eq!(
        enc(config),
        r#"{"j:top":{"u8":1,"item":[{"name":"a"},{"name":"b","weight":10}]}}"#
    );
    // A leaf-list whose entries are partly tagged gets null where there is no annotation.
    let mut t2 = json_tree(&s, r#"{"j:top":{"levels":[7]}}"#);
    data::add_defaults(&s, &mut t2);
    assert_eq!(
        json::encode(&s, &t2, view(WithDefaults::ReportAllTagged)),
        r#"{"j:top":{"pct":50,"@pct":{"ietf-netconf-with-defaults:default":true},"levels":[7]}}"#
    );
    let mixed = r#"{"j:top":{"levels":[1,7],"@levels":[{"ietf-netconf-with-defaults:default":true},null]}}"#;
    assert_eq!(
        json_tree(&s, mixed),
        json_tree(&s, r#"{"j:top":{"levels":[1,7]}}"#)
    );
    // An empty tree is an empty object.
    assert_eq!(to_json(&s, &DataTree::new()), "{}");
    assert!(json_tree(&s, "{}").is_empty());
}

/// RESTCONF resources below the root: a subtree is encoded with its top member qualified, and
/// a body is decoded under its parent with error paths below the parent's.
#[test]
fn nodes_under_a_parent() {
    let s = jj();
    let tree = xml_tree(&s, EVERY_TYPE_XML);
    let top = &tree.roots[0];
    let item = s.node(top.schema).children.iter().copied();
    let item_id = item
        .clone()
        .find(|&c| s.node(c).name == "item")
        .expect("item");
    let entries = top.instances(&s, item_id);
    let mut out = String::new();
    json::encode_nodes(&s, &entries[..1], None, EncodeOptions::default(), &mut out);
    assert_eq!(out, r#"{"j:item":[{"name":"a"}]}"#);
    out.clear();
    json::encode_nodes(
        &s,
        &entries[1..],
        Some(top.schema),
        EncodeOptions::default(),
        &mut out,
    );
    assert_eq!(
        out,
        r#"{"item":[{"name":"b","weight":1,"sub":{"x":-1},"ja:extra":"e","ja:deep":{"y":"5"}}]}"#
    );
    // A body under /j:top: qualified (RFC 8040 bodies) or simple names both decode.
    for body in [
        r#"{"j:item":[{"name":"b","weight":1,"sub":{"x":-1},"ja:extra":"e","ja:deep":{"y":"5"}}]}"#,
        &out,
    ] {
        let nodes = json::decode_nodes(&s, body, Some(top.schema), "/j:top", ALL).unwrap();
        assert_eq!(nodes.as_slice(), &entries[1..]);
    }
    let e = json::decode_nodes(
        &s,
        r#"{"item":[{"name":"b","ja:deep":{"y":"x"}}]}"#,
        Some(top.schema),
        "/j:top",
        ALL,
    )
    .unwrap_err();
    assert_eq!(
        e.path.as_deref(),
        Some("/j:top/j:item[j:name='b']/x:deep/x:y")
    );
    // A leaf resource.
    let u8_id = item.clone().find(|&c| s.node(c).name == "u8").unwrap();
    out.clear();
    json::encode_nodes(
        &s,
        top.instances(&s, u8_id),
        None,
        EncodeOptions::default(),
        &mut out,
    );
    assert_eq!(out, r#"{"j:u8":255}"#);
}

#[test]
fn anydata_holds_yang_data_or_text() {
    let s = jj();
    for (json_text, xml) in [
        (
            r#"{"j:top":{"any":{"ja:other":{"x":"o"}}}}"#,
            r#"<top xmlns="urn:j"><any><other xmlns="urn:ja"><x>o</x></other></any></top>"#,
        ),
        (
            r#"{"j:top":{"any":"a < b & c"}}"#,
            r#"<top xmlns="urn:j"><any>a &lt; b &amp; c</any></top>"#,
        ),
        (
            r#"{"j:top":{"any":{}}}"#,
            r#"<top xmlns="urn:j"><any/></top>"#,
        ),
    ] {
        let t = json_tree(&s, json_text);
        assert_eq!(t, xml_tree(&s, xml), "{json_text}");
        assert_eq!(to_json(&s, &t), json_text);
    }
    // Unmodeled XML content has no JSON form: it is written as a string of its XML.
    let t = xml_tree(
        &s,
        r#"<top xmlns="urn:j"><any><blob xmlns="urn:elsewhere">1</blob></any></top>"#,
    );
    assert_eq!(
        to_json(&s, &t),
        r#"{"j:top":{"any":"<blob xmlns=\"urn:elsewhere\">1</blob>"}}"#
    );
    for v in ["1", "true", "[1]", "null"] {
        let e = json::decode(&s, &format!(r#"{{"j:top":{{"any":{v}}}}}"#), ALL).unwrap_err();
        assert_eq!(e.tag, ErrorTag::BadElement, "{v}: {e}");
    }
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

/// (JSON, options, tag, error-path, bad-element, a fragment of the message)
type Bad = (
    &'static str,
    DecodeOptions,
    ErrorTag,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
);

#[test]
fn bad_input_gets_precise_errors() {
    use ErrorTag::*;
    let s = jj();
    let top = Some("/j:top");
    let cases: &[Bad] = &[
        ("[]", ALL, MalformedMessage, None, None, "an array"),
        (
            r#"{"j:top":"#,
            ALL,
            MalformedMessage,
            None,
            None,
            "line 1 column 10",
        ),
        (
            "{\"j:top\":{}}\n}",
            ALL,
            MalformedMessage,
            None,
            None,
            "line 2 column 1",
        ),
        (
            r#"{"top":{}}"#,
            ALL,
            UnknownNamespace,
            Some("/"),
            Some("top"),
            "'module:top'",
        ),
        (
            r#"{"nope:top":{}}"#,
            ALL,
            UnknownNamespace,
            Some("/"),
            Some("top"),
            "'nope'",
        ),
        (
            r#"{"j:nope":{}}"#,
            ALL,
            UnknownElement,
            Some("/"),
            Some("nope"),
            "at the top level",
        ),
        (
            r#"{"j:top":{"more":[]}}"#,
            ALL,
            UnknownElement,
            top,
            Some("more"),
            "did you mean 'ja:more'",
        ),
        (
            r#"{"j:top":{"sub":{}}}"#,
            ALL,
            UnknownElement,
            top,
            Some("sub"),
            "under 'top'",
        ),
        (
            r#"{"j:top":"x"}"#,
            ALL,
            BadElement,
            top,
            Some("top"),
            "an object (RFC 7951 §5.1), not a string",
        ),
        (
            r#"{"j:top":{"u8":"5"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:u8"),
            Some("u8"),
            "JSON number",
        ),
        (
            r#"{"j:top":{"u8":256}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:u8"),
            Some("u8"),
            "out of the range",
        ),
        (
            r#"{"j:top":{"u8":1.0}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:u8"),
            Some("u8"),
            "'1.0' is not a valid uint8",
        ),
        (
            r#"{"j:top":{"u8":1e2}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:u8"),
            Some("u8"),
            "not a valid",
        ),
        (
            r#"{"j:top":{"pct":101}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:pct"),
            Some("pct"),
            "range",
        ),
        (
            r#"{"j:top":{"u64":5}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:u64"),
            Some("u64"),
            "JSON string",
        ),
        (
            r#"{"j:top":{"i64":"99999999999999999999"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:i64"),
            Some("i64"),
            "range",
        ),
        (
            r#"{"j:top":{"u32":4294967296}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:u32"),
            Some("u32"),
            "range",
        ),
        (
            r#"{"j:top":{"i32":123456789012345678901234567890}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:i32"),
            Some("i32"),
            "not a valid",
        ),
        (
            r#"{"j:top":{"dec":1.5}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:dec"),
            Some("dec"),
            "JSON string",
        ),
        (
            r#"{"j:top":{"dec":"1.555"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:dec"),
            Some("dec"),
            "fraction digits",
        ),
        (
            r#"{"j:top":{"flag":"true"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:flag"),
            Some("flag"),
            "true or false",
        ),
        (
            r#"{"j:top":{"flag":1}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:flag"),
            Some("flag"),
            "true or false",
        ),
        (
            r#"{"j:top":{"marker":null}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:marker"),
            Some("marker"),
            "[null]",
        ),
        (
            r#"{"j:top":{"marker":[]}}"#,
            ALL,
            BadElement,
            Some("/j:top/j:marker"),
            Some("marker"),
            "not an array",
        ),
        (
            r#"{"j:top":{"marker":[null,null]}}"#,
            ALL,
            BadElement,
            Some("/j:top/j:marker"),
            Some("marker"),
            "not an array",
        ),
        (
            r#"{"j:top":{"u8":[5]}}"#,
            ALL,
            BadElement,
            Some("/j:top/j:u8"),
            Some("u8"),
            "is a leaf",
        ),
        (
            r#"{"j:top":{"u8":{}}}"#,
            ALL,
            BadElement,
            Some("/j:top/j:u8"),
            Some("u8"),
            "not an object",
        ),
        (
            r#"{"j:top":{"tags":{"a":1}}}"#,
            ALL,
            BadElement,
            Some("/j:top/j:tags"),
            Some("tags"),
            "is a leaf-list",
        ),
        (
            r#"{"j:top":{"tags":"a"}}"#,
            ALL,
            BadElement,
            Some("/j:top/j:tags"),
            Some("tags"),
            "an array of values",
        ),
        (
            r#"{"j:top":{"tags":[["a"]]}}"#,
            ALL,
            BadElement,
            Some("/j:top/j:tags"),
            Some("tags"),
            "not an array",
        ),
        (
            r#"{"j:top":{"nums":[1,"2"]}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:nums"),
            Some("nums"),
            "JSON number",
        ),
        (
            r#"{"j:top":{"item":{"name":"a"}}}"#,
            ALL,
            BadElement,
            Some("/j:top/j:item"),
            Some("item"),
            "is a list",
        ),
        (
            r#"{"j:top":{"item":["a"]}}"#,
            ALL,
            BadElement,
            Some("/j:top/j:item"),
            Some("item"),
            "an entry is an object, not a string",
        ),
        (
            r#"{"j:top":{"item":[{"weight":1}]}}"#,
            ALL,
            MissingElement,
            Some("/j:top/j:item"),
            Some("name"),
            "lacks its key 'name'",
        ),
        (
            r#"{"j:top":{"pair":[{"a":"x"}]}}"#,
            ALL,
            MissingElement,
            Some("/j:top/j:pair"),
            Some("b"),
            "lacks its key 'b'",
        ),
        (
            r#"{"j:top":{"item":[{"name":7}]}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:item"),
            Some("name"),
            "JSON string",
        ),
        (
            r#"{"j:top":{"item":[{"name":"a"},{"name":"a"}]}}"#,
            ALL,
            InvalidValue,
            top,
            Some("item"),
            "same keys",
        ),
        (
            r#"{"j:top":{"tags":["a","a"]}}"#,
            ALL,
            InvalidValue,
            top,
            Some("tags"),
            "same value",
        ),
        (
            r#"{"j:top":{"u8":1,"u8":2}}"#,
            ALL,
            InvalidValue,
            top,
            Some("u8"),
            "appears twice in one object",
        ),
        (
            r#"{"j:top":{"item":[{"name":"a"}],"j:item":[{"name":"b"}]}}"#,
            ALL,
            InvalidValue,
            top,
            Some("item"),
            "as 'item' and as 'j:item'",
        ),
        (
            r#"{"j:top":{"item":[{"name":"a","weight":1,"weight":2}]}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:item[j:name='a']"),
            Some("weight"),
            "twice",
        ),
        (
            r#"{"j:top":{"kind":"ja:nope"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:kind"),
            Some("kind"),
            "not a known identity",
        ),
        (
            r#"{"j:top":{"kind":"j:base-type"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:kind"),
            Some("kind"),
            "not derived",
        ),
        (
            r#"{"j:top":{"target":"/j:top/nope"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:target"),
            Some("target"),
            "instance-identifier",
        ),
        (
            r#"{"j:top":{"color":"blue"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:color"),
            Some("color"),
            "enumeration",
        ),
        (
            r#"{"j:top":{"perms":"read read"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:perms"),
            Some("perms"),
            "twice",
        ),
        (
            r#"{"j:top":{"blob":"***"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:blob"),
            Some("blob"),
            "base64",
        ),
        (
            r#"{"j:top":{"text":"a\u0001b"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:text"),
            Some("text"),
            "U+0001",
        ),
        (
            r#"{"j:top":{"bool-or-big":"yes"}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:bool-or-big"),
            Some("bool-or-big"),
            "no member of the union",
        ),
        (
            r#"{"j:top":{"state":"x"}}"#,
            CONFIG,
            InvalidValue,
            Some("/j:top/j:state"),
            Some("state"),
            "config false",
        ),
        (
            r#"{"j:top":{"item":[{"name":"a","ja:deep":{"y":5}}]}}"#,
            ALL,
            InvalidValue,
            Some("/j:top/j:item[j:name='a']/x:deep/x:y"),
            Some("y"),
            "JSON string",
        ),
        (
            r#"{"j:top":{"@u8":{"ietf-netconf-with-defaults:default":true}}}"#,
            ALL,
            UnknownAttribute,
            top,
            Some("u8"),
            "lacks",
        ),
        (
            r#"{"j:top":{"u8":1,"@u8":{"ex:note":"x"}}}"#,
            ALL,
            UnknownAttribute,
            top,
            Some("u8"),
            "'ex:note' is not supported",
        ),
        (
            r#"{"j:top":{"u8":1,"@u8":true}}"#,
            ALL,
            UnknownAttribute,
            top,
            Some("u8"),
            "not an object of annotations",
        ),
    ];
    for &(text, opts, tag, path, bad, fragment) in cases {
        let e = match json::decode(&s, text, opts) {
            Ok(t) => panic!("accepted: {text}\n{t:#?}"),
            Err(e) => e,
        };
        assert_eq!(e.tag, tag, "{text}: {e}");
        assert_eq!(e.path.as_deref(), path, "{text}: {e}");
        assert_eq!(info(&e, "bad-element"), bad, "{text}: {e}");
        assert!(e.message.contains(fragment), "{text}: {e}");
    }
}

fn info<'e>(e: &'e DataError, name: &str) -> Option<&'e str> {
    e.info
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Where the XML and JSON forms of some data carry the same mistake, the errors are the same.
#[test]
fn errors_match_the_xml_decoders() {
    let s = jj();
    for (xml, json_text) in [
        (
            r#"<top xmlns="urn:j"><u8>256</u8></top>"#,
            r#"{"j:top":{"u8":256}}"#,
        ),
        (
            r#"<top xmlns="urn:j"><item><weight>1</weight></item></top>"#,
            r#"{"j:top":{"item":[{"weight":1}]}}"#,
        ),
        (
            r#"<top xmlns="urn:j"><item><name>a</name></item><item><name>a</name></item></top>"#,
            r#"{"j:top":{"item":[{"name":"a"},{"name":"a"}]}}"#,
        ),
        (
            r#"<top xmlns="urn:j"><item><name>a</name><deep xmlns="urn:ja"><y>-1</y></deep></item></top>"#,
            r#"{"j:top":{"item":[{"name":"a","ja:deep":{"y":"-1"}}]}}"#,
        ),
        (
            r#"<top xmlns="urn:j"><pct>101</pct></top>"#,
            r#"{"j:top":{"pct":101}}"#,
        ),
        (
            r#"<top xmlns="urn:j"><state>x</state></top>"#,
            r#"{"j:top":{"state":"x"}}"#,
        ),
    ] {
        let x = data::decode(&s, xml, CONFIG).unwrap_err();
        let j = json::decode(&s, json_text, CONFIG).unwrap_err();
        assert_eq!(j, x, "{json_text}");
    }
}

/// Cut or corrupted input is refused (or decoded), never a panic.
#[test]
fn mangled_input_never_panics() {
    let s = jj();
    let good = EVERY_TYPE_JSON;
    for cut in 0..good.len() {
        assert!(json::decode(&s, &good[..cut], ALL).is_err(), "cut at {cut}");
    }
    let bytes = good.as_bytes();
    let replacements = [
        b'"', b'{', b'}', b'[', b']', b',', b':', b'0', b'-', b'n', b' ', b'\\',
    ];
    for i in 0..bytes.len() {
        for &r in &replacements {
            let mut m = bytes.to_vec();
            m[i] = r;
            if let Ok(text) = std::str::from_utf8(&m) {
                let _ = json::decode(&s, text, ALL);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The device's models: the seed configuration, and yanglint
// ---------------------------------------------------------------------------------------------

fn embedded() -> Schema {
    SchemaBuilder::new()
        .embedded()
        .build()
        .expect("embedded models compile")
}

/// An example's `<config>` content as a configuration tree (no defaults added).
fn seed(schema: &Schema, device: char) -> DataTree {
    let p = format!(
        "{}/../examples/seed/device-{device}.xml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let root = yang::xml::parse(&text).unwrap_or_else(|e| panic!("{p}: {e}"));
    data::decode_elements(schema, &root.children, CONFIG).unwrap_or_else(|e| panic!("{p}: {e}"))
}

#[test]
fn seed_configuration_round_trips() {
    let s = embedded();
    for dev in ['a', 'b'] {
        let tree = seed(&s, dev);
        let out = to_json(&s, &tree);
        let back = json::decode(&s, &out, CONFIG).unwrap_or_else(|e| panic!("{e}\n{out}"));
        assert_eq!(back, tree, "device {dev}:\n{out}");
        assert_eq!(to_json(&s, &back), out);
        // Module-qualified at the top and where augmentations start, simple names inside.
        for part in [
            r#""ne-bfd:bfd":{"session":[{"name":"#,
            r#""ne-interfaces:interfaces":{"interface":[{"name":"#,
            r#""ne-multicast:multicast":{"routing-enable":true}"#,
            r#""ne-vrrp:vrrp":{"group":[{"vrid":1,"virtual-ip":[{"address":"10.0.0.6"}]"#,
            r#""admin-vrrp":{}"#,
            r#""ne-multicast:pim":{"sm":true"#,
        ] {
            assert!(out.contains(part), "device {dev}: no {part} in\n{out}");
        }
        if dev == 'a' {
            let part = r#""ne-monitor-group:monitor-groups":{"monitor-group":[{"name":"uplinks","enabled":true,"#;
            assert!(out.contains(part), "no {part} in\n{out}");
        }
        // With every default: what report-all shows comes back as it was.
        let mut full = seed(&s, dev);
        data::add_defaults(&s, &mut full);
        let all = json::encode(&s, &full, view(WithDefaults::ReportAll));
        let mut again = json::decode(&s, &all, CONFIG).unwrap();
        data::add_defaults(&s, &mut again);
        assert_eq!(json::encode(&s, &again, view(WithDefaults::ReportAll)), all);
        assert_eq!(
            json::encode(&s, &again, view(WithDefaults::Explicit)),
            all,
            "decoded values are explicit"
        );
    }
}

/// yanglint on PATH, or None (a failure when NE_REQUIRE_TOOLS is set).
fn yanglint() -> Option<std::path::PathBuf> {
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join("yanglint"))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("NE_REQUIRE_TOOLS").is_none(),
            "yanglint is required (NE_REQUIRE_TOOLS is set) but not on PATH"
        );
        eprintln!("SKIPPED: yanglint (libyang2-tools) not on PATH");
    }
    found
}

/// Run yanglint on `data` (a file named by its extension) against `modules`; its stdout, or
/// a panic with its stderr when it refuses the data.
fn run_yanglint(
    exe: &std::path::Path,
    search: &std::path::Path,
    modules: &[std::path::PathBuf],
    kind: &str,
    out_format: Option<&str>,
    file: &std::path::Path,
) -> String {
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["-t", kind]).arg("-p").arg(search);
    if let Some(f) = out_format {
        cmd.args(["-f", f]);
    }
    let out = cmd.args(modules).arg(file).output().expect("yanglint runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && !stderr.contains(" err"),
        "yanglint refused {}:\n{stderr}\n{}",
        file.display(),
        std::fs::read_to_string(file).unwrap_or_default()
    );
    String::from_utf8(out.stdout).expect("UTF-8 from yanglint")
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("yang-json-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The device's modules in an order yanglint can implement them in (ne-vrrp before the
/// ne-multicast `must` that refers to it).
fn device_modules() -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("modules");
    [
        "ne-types",
        "ne-interfaces",
        "ne-bfd",
        "ne-monitor-group",
        "ne-vrrp",
        "ne-multicast",
    ]
    .iter()
    .map(|m| dir.join(format!("{m}.yang")))
    .collect()
}

/// libyang reads our JSON of the seed configuration, and we read libyang's JSON of it to the
/// tree we made of the XML.
#[test]
fn yanglint_agrees_on_the_seed() {
    let Some(exe) = yanglint() else { return };
    let s = embedded();
    let search = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("modules");
    let dir = temp_dir("seed");
    for dev in ['a', 'b'] {
        let tree = seed(&s, dev);
        let ours = dir.join(format!("device-{dev}.json"));
        std::fs::write(&ours, to_json(&s, &tree)).unwrap();
        run_yanglint(&exe, &search, &device_modules(), "config", None, &ours);
        let xml = dir.join(format!("device-{dev}.xml"));
        std::fs::write(&xml, data::encode(&s, &tree, EncodeOptions::default())).unwrap();
        let theirs = run_yanglint(
            &exe,
            &search,
            &device_modules(),
            "config",
            Some("json"),
            &xml,
        );
        assert_eq!(json::decode(&s, &theirs, CONFIG).unwrap(), tree, "{theirs}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The same both ways on the module with every type.
#[test]
fn yanglint_agrees_on_every_type() {
    let Some(exe) = yanglint() else { return };
    let s = jj();
    let dir = temp_dir("types");
    let modules = vec![dir.join("j.yang"), dir.join("ja.yang")];
    std::fs::write(&modules[0], MOD_J).unwrap();
    std::fs::write(&modules[1], MOD_JA).unwrap();
    let tree = xml_tree(&s, EVERY_TYPE_XML);
    let ours = dir.join("every.json");
    std::fs::write(&ours, EVERY_TYPE_JSON).unwrap();
    run_yanglint(&exe, &dir, &modules, "data", None, &ours);
    let xml = dir.join("every.xml");
    std::fs::write(&xml, data::encode(&s, &tree, EncodeOptions::default())).unwrap();
    let theirs = run_yanglint(&exe, &dir, &modules, "data", Some("json"), &xml);
    assert_eq!(json_tree(&s, &theirs), tree, "{theirs}");
    // And it refuses what we refuse for the JSON type of a value.
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"j:top":{"u64":5}}"#).unwrap();
    let out = std::process::Command::new(&exe)
        .args(["-t", "data", "-p"])
        .arg(&dir)
        .args(&modules)
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(&dir);
}
