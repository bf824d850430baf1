//! XML text -> element tree -> data tree (config and all data) -> defaults -> validation ->
//! encoding in every with-defaults view -> diff, against the embedded models. Any input may be
//! refused with an error; nothing may panic.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use yang::data::{self, DataTree, DecodeOptions, EncodeOptions, WithDefaults};
use yang::validate::{validate, ValidateOptions};
use yang::xml::Element;
use yang::{Schema, SchemaBuilder};

fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        SchemaBuilder::new()
            .embedded()
            .build()
            .expect("embedded models compile")
    })
}

const VIEWS: [WithDefaults; 4] = [
    WithDefaults::ReportAll,
    WithDefaults::Explicit,
    WithDefaults::Trim,
    WithDefaults::ReportAllTagged,
];

fn exercise(s: &Schema, elements: &[Element]) {
    for config_only in [true, false] {
        let Ok(mut tree) = data::decode_elements(s, elements, DecodeOptions { config_only }) else {
            continue;
        };
        let empty = DataTree::new();
        let _ = yang::diff::diff(s, &empty, &tree);
        let before = tree.clone();
        data::add_defaults(s, &mut tree);
        let _ = validate(
            s,
            &tree,
            ValidateOptions {
                config_only,
                max_errors: 50,
            },
        );
        for with_defaults in VIEWS {
            for config in [true, false] {
                let _ = data::encode(
                    s,
                    &tree,
                    EncodeOptions {
                        with_defaults,
                        config_only: config,
                    },
                );
            }
        }
        let _ = yang::diff::diff(s, &empty, &tree);
        let _ = yang::diff::diff(s, &tree, &empty);
        let _ = yang::diff::diff(s, &before, &tree);
    }
}

fuzz_target!(|bytes: &[u8]| {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    let Ok(roots) = yang::xml::parse_fragment(text) else {
        return;
    };
    let s = schema();
    // The elements as given, and the content of each root (a <config> or <data> wrapper).
    exercise(s, &roots);
    for r in &roots {
        exercise(s, &r.children);
    }
});
