//! RFC 6242 framing: arbitrary bytes, fed in arbitrary pieces, through the decoder in both
//! framings. It may report an error (then the session would close); it may not panic, loop, or
//! hand out a message larger than its limit.

#![no_main]

use agent::netconf::framing::{encode, Decoder, Framing};
use libfuzzer_sys::fuzz_target;

const LIMIT: usize = 1 << 16;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let framing = if data[0] & 1 == 0 {
        Framing::EndOfMessage
    } else {
        Framing::Chunked
    };
    let piece = usize::from(data[1]).max(1);
    let mut d = Decoder::new(framing, LIMIT);
    for chunk in data[2..].chunks(piece) {
        d.push(chunk);
        loop {
            match d.next_message() {
                Ok(Some(m)) => {
                    assert!(m.len() <= LIMIT + 16, "message over the limit");
                    // What we encode, we decode back unchanged.
                    let mut back = Decoder::new(framing, LIMIT * 2);
                    back.push(&encode(&m, framing));
                    if framing == Framing::Chunked || !contains(&m, b"]]>]]>") {
                        assert_eq!(back.next_message().ok().flatten().as_deref(), Some(&m[..]));
                    }
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
});

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
