//! Tests of access control on data trees and datastores.
