//! RESTCONF (RFC 8040) over HTTPS: the same datastores, users, access control and commit
//! pipeline as NETCONF and the CLI, in JSON (RFC 7951) or XML, with YANG Patch (RFC 8072) and
//! the NMDA datastores (RFC 8527).
//!
//! - `server`: TLS, HTTP/1.1 and HTTP/2, limits; `tls`: the certificate; `auth`: Basic
//!   authentication against the SSH users.
//! - `api`: the resources and reads; `edit`: POST/PUT/PATCH/DELETE; `patch`: YANG Patch;
//!   `operations`: the RPCs; `events`: server-sent event streams; `monitoring`:
//!   ietf-restconf-monitoring's capabilities and streams.
//! - `path`: api-paths; `query`: query parameters; `view`, `fields`: what a GET shows;
//!   `media`: encodings; `errors`: error bodies and status codes; `modified`: Last-Modified
//!   per resource.

pub mod api;
pub mod auth;
pub mod edit;
pub mod errors;
pub mod events;
pub mod fields;
pub mod media;
pub mod modified;
pub mod monitoring;
pub mod operations;
pub mod patch;
pub mod path;
pub mod query;
pub mod server;
pub mod tls;
pub mod view;

/// The ietf-restconf namespace (errors, the root resource, the datastore wrapper in XML).
pub const RESTCONF_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-restconf";

/// The revision of ietf-yang-library the server implements (RFC 8040 §3.3.3).
pub const YANG_LIBRARY_REVISION: &str = "2019-01-04";
