//! The JSON encoding of YANG data (RFC 7951, `application/yang-data+json`), beside the XML one.
//!
//! - Member names are `module:name` at the top level and wherever the module changes (an
//!   augmentation), `name` otherwise (§4). On input a module name is also accepted where the
//!   simple form would do (a RESTCONF body for a resource below the root starts with one).
//! - Values (§6): int8..int32 and uint8..uint32 are JSON numbers; int64, uint64 and decimal64
//!   strings; boolean `true`/`false`; empty `[null]`; enumeration, bits, binary (base64) and
//!   string strings; identityref `module:identity` (module name, not prefix);
//!   instance-identifier in the JSON form (`/ne-interfaces:interfaces/interface[name='x']`);
//!   a union member as its own type (on input the JSON type takes part in choosing the member,
//!   §6.10); a leafref as the leaf it refers to.
//! - A leaf-list is an array (§5.3), a list an array of entry objects with their keys (§5.4),
//!   a container an object (§5.1).
//! - anydata/anyxml (kept as XML in the tree): YANG data the schema knows is an object, text
//!   content a string (§5.5, §5.6). Other XML content (unmodeled elements) is written as a
//!   string of its XML text, and JSON other than an object of YANG data or a string is refused
//!   on input.
//! - RFC 7952 metadata: `report-all-tagged` marks defaults with
//!   `"@leaf": {"ietf-netconf-with-defaults:default": true}` (RFC 8040 §4.8.9); on input that
//!   annotation is accepted and ignored, any other is an `unknown-attribute` error.
//!
//! Decoding checks and canonicalizes every value through the schema like the XML decoder, with
//! the same errors (tags, instance-identifier paths in the tree's prefix form, `bad-element`),
//! so the JSON and XML forms of some data decode to equal trees; [`to_json_path`] gives an error
//! path in the JSON form for a RESTCONF `errors` body. Encoding writes straight into a `String`.
//! Output is compact (no insignificant white space). Input is read by a strict RFC 8259 reader
//! of our own ([`parse`]): numbers keep their text, so an int64 or a decimal64 is canonicalized
//! from what was written, never through a float.
//!
//! Figures (`cargo run --release -p yang --example json-bench`): encode and decode of 10,000
//! list entries beside the XML codec's, in the same run.

mod decode;
mod encode;
mod parse;
mod value;

pub use decode::{decode, decode_nodes};
pub use encode::{encode, encode_nodes, encode_overlay, encode_overlay_rows};
pub use parse::{parse, JsonError, Value, MAX_DEPTH};
pub use value::{from_json_path, to_json_path, write_string};
