//! PIM messages (RFC 7761 Register and Register-Stop, RFC 5059 Bootstrap and
//! Candidate-RP-Advertisement, and the link-local ones) through `Pdu::decode`: arbitrary bytes
//! may be refused with an error, never panic; whatever decodes comes back the same through
//! its encoder.

#![no_main]

use agent::engines::pim::packet::Pdu;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = Pdu::decode(data) {
        assert_eq!(Pdu::decode(&m.encode()), Ok(m));
    }
});
