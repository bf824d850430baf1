//! Running, candidate and startup datastores persisted in sled, locks, the commit log and
//! confirmed-commit state (see ARCHITECTURE.md, "Data flow"). Built by the datastore issue.
