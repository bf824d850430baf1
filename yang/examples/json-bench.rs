//! JSON codec figures next to the XML codec's, measured in the same run: encode and decode of
//! a configuration of 10,000 BFD sessions (the size of RESTCONF's "GET of 10,000 list entries"
//! goal, issue 18).
//!
//! Run: `cargo run --release -p yang --example json-bench`

use std::time::{Duration, Instant};

use yang::data::{self, json, DecodeOptions, EncodeOptions};
use yang::SchemaBuilder;

fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut v: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// `n` BFD sessions over 100 interfaces, as XML.
fn bfd_config(n: usize) -> String {
    let mut x = String::from(r#"<interfaces xmlns="urn:ne-agent:yang:ne-interfaces">"#);
    for i in 0..100 {
        x.push_str(&format!("<interface><name>eth{i}</name></interface>"));
    }
    x.push_str(r#"</interfaces><bfd xmlns="urn:ne-agent:yang:ne-bfd">"#);
    for i in 0..n {
        x.push_str(&format!(
            "<session><name>s{i}</name><peer-ip>10.{}.{}.{}</peer-ip><interface>eth{}</interface>\
             <local-discriminator>{}</local-discriminator><remote-discriminator>{}</remote-discriminator>\
             <min-tx-interval>100</min-tx-interval></session>",
            i / 65536,
            (i / 256) % 256,
            i % 256,
            i % 100,
            i + 1,
            i + 100_001
        ));
    }
    x.push_str("</bfd>");
    x
}

fn main() {
    let schema = SchemaBuilder::new().embedded().build().expect("models");
    let opts = DecodeOptions { config_only: true };
    let xml = bfd_config(10_000);
    let tree = data::decode(&schema, &xml, opts).expect("config decodes");
    let enc = EncodeOptions::default();
    let json_text = json::encode(&schema, &tree, enc);
    assert_eq!(json::decode(&schema, &json_text, opts).unwrap(), tree);
    println!(
        "json-bench: 10,000 BFD sessions, {} data nodes; XML {} bytes, JSON {} bytes",
        tree.count(),
        xml.len(),
        json_text.len()
    );
    let runs = 21;
    let t_xml_enc = median(runs, || {
        std::hint::black_box(data::encode(&schema, &tree, enc));
    });
    let t_json_enc = median(runs, || {
        std::hint::black_box(json::encode(&schema, &tree, enc));
    });
    let t_xml_dec = median(runs, || {
        std::hint::black_box(data::decode(&schema, &xml, opts).unwrap());
    });
    let t_json_dec = median(runs, || {
        std::hint::black_box(json::decode(&schema, &json_text, opts).unwrap());
    });
    let t_parse = median(runs, || {
        std::hint::black_box(json::parse(&json_text).unwrap());
    });
    let row = |what: &str, ours: Duration, base: Duration| {
        println!(
            "{what:<28} {:>8.3} ms   XML {:>8.3} ms   ratio {:.2}x",
            ms(ours),
            ms(base),
            ms(base) / ms(ours)
        );
    };
    row("encode JSON", t_json_enc, t_xml_enc);
    row("decode JSON", t_json_dec, t_xml_dec);
    println!("  of which JSON parsing        {:>8.3} ms", ms(t_parse));
}
