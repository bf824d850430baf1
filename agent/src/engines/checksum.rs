//! The Internet checksum (RFC 1071), shared by the IGMP, PIM, VRRP and IPv4 codecs.

/// The one's complement of the one's complement sum of `data` (16-bit big-endian words, an odd
/// last byte padded with zero), plus an `initial` partial sum (e.g. a pseudo-header). Over data
/// that already holds a valid checksum the result is 0.
pub fn internet(data: &[u8], initial: u32) -> u16 {
    let mut chunks = data.chunks_exact(2);
    let mut sum = u64::from(initial);
    for c in &mut chunks {
        sum += u64::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u64::from(*last) << 8;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_1071_example_and_verification() {
        // RFC 1071 §3: the sum of 0001 f203 f4f5 f6f7 is ddf2 (checksum 220d).
        let d = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(internet(&d, 0), 0x220d);
        let mut with = d.to_vec();
        with.extend_from_slice(&0x220du16.to_be_bytes());
        assert_eq!(internet(&with, 0), 0);
        assert_eq!(internet(&[0x01], 0), !0x0100);
    }
}
