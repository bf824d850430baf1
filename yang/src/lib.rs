//! The YANG engine of ne-agent: YANG 1.1 source -> compiled schema -> data trees bound to it,
//! with XML and JSON (RFC 7951) encodings, validation (types, constraints, XPath `must`/`when`),
//! diff and the RFC 8340 tree printer.

pub mod data;
pub mod diff;
pub mod instance_id;
pub mod leafref;
pub mod pattern;
pub mod schema;
pub mod stmt;
pub mod tree;
pub mod validate;
pub mod xml;
pub mod xpath;

pub use schema::{CompileError, CompileErrors, NodeId, NodeKind, Schema, SchemaBuilder};
