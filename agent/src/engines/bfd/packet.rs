//! BFD Control packet, mandatory section only (RFC 5880 §4.1).
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                       My Discriminator                        |
//! |                      Your Discriminator                       |
//! |                    Desired Min TX Interval                    |
//! |                   Required Min RX Interval                    |
//! |                 Required Min Echo RX Interval                 |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! ```
//!
//! Authentication (the A bit and the optional section) is not supported:
//! such packets are rejected with [`PacketError::Auth`].

use std::fmt;

/// Length of the mandatory section, which is all we ever send.
pub const CONTROL_PACKET_LEN: usize = 24;

/// Protocol version (RFC 5880 §4.1).
const VERSION: u8 = 1;

const FLAG_POLL: u8 = 0x20;
const FLAG_FINAL: u8 = 0x10;
const FLAG_CPI: u8 = 0x08;
const FLAG_AUTH: u8 = 0x04;
const FLAG_DEMAND: u8 = 0x02;
const FLAG_MULTIPOINT: u8 = 0x01;

/// Session state (RFC 5880 §4.1 "State (Sta)", §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    AdminDown = 0,
    Down = 1,
    Init = 2,
    Up = 3,
}

impl State {
    /// Name as used in the management model.
    pub fn name(self) -> &'static str {
        match self {
            State::AdminDown => "admin-down",
            State::Down => "down",
            State::Init => "init",
            State::Up => "up",
        }
    }

    /// State from the two-bit wire field (only the low two bits are used).
    fn from_bits(bits: u8) -> State {
        match bits & 0x03 {
            0 => State::AdminDown,
            1 => State::Down,
            2 => State::Init,
            _ => State::Up,
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Diagnostic code (RFC 5880 §4.1 "Diagnostic (Diag)").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Diag {
    None = 0,
    ControlDetectionTimeExpired = 1,
    EchoFunctionFailed = 2,
    NeighborSignaledSessionDown = 3,
    ForwardingPlaneReset = 4,
    PathDown = 5,
    ConcatenatedPathDown = 6,
    AdministrativelyDown = 7,
    ReverseConcatenatedPathDown = 8,
}

impl Diag {
    /// Name as used in the management model.
    pub fn name(self) -> &'static str {
        match self {
            Diag::None => "none",
            Diag::ControlDetectionTimeExpired => "control-expiry",
            Diag::EchoFunctionFailed => "echo-failed",
            Diag::NeighborSignaledSessionDown => "neighbor-down",
            Diag::ForwardingPlaneReset => "forwarding-reset",
            Diag::PathDown => "path-down",
            Diag::ConcatenatedPathDown => "concatenated-path-down",
            Diag::AdministrativelyDown => "admin-down",
            Diag::ReverseConcatenatedPathDown => "reverse-concatenated-path-down",
        }
    }

    /// Diag from the wire value. Values 9-31 are reserved (RFC 5880 §4.1);
    /// they carry no meaning for us and map to [`Diag::None`].
    pub fn from_u8(v: u8) -> Diag {
        match v {
            1 => Diag::ControlDetectionTimeExpired,
            2 => Diag::EchoFunctionFailed,
            3 => Diag::NeighborSignaledSessionDown,
            4 => Diag::ForwardingPlaneReset,
            5 => Diag::PathDown,
            6 => Diag::ConcatenatedPathDown,
            7 => Diag::AdministrativelyDown,
            8 => Diag::ReverseConcatenatedPathDown,
            _ => Diag::None,
        }
    }
}

impl fmt::Display for Diag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a received datagram is not a usable Control packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketError {
    /// Fewer bytes than the 24-byte mandatory section.
    Short,
    /// Version field other than 1.
    Version(u8),
    /// Length field below 24 or beyond the received payload.
    Length(u8),
    /// Detect Mult is zero.
    ZeroDetectMult,
    /// Multipoint (M) bit is set.
    Multipoint,
    /// My Discriminator is zero.
    ZeroMyDisc,
    /// Authentication (A) bit is set; not supported.
    Auth,
}

impl fmt::Display for PacketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PacketError::Short => write!(f, "packet shorter than {CONTROL_PACKET_LEN} bytes"),
            PacketError::Version(v) => write!(f, "unsupported BFD version {v}"),
            PacketError::Length(l) => write!(f, "invalid length field {l}"),
            PacketError::ZeroDetectMult => f.write_str("detect multiplier is zero"),
            PacketError::Multipoint => f.write_str("multipoint bit set"),
            PacketError::ZeroMyDisc => f.write_str("my discriminator is zero"),
            PacketError::Auth => f.write_str("authentication not supported"),
        }
    }
}

impl std::error::Error for PacketError {}

/// A BFD Control packet without authentication section (RFC 5880 §4.1).
/// Intervals are in microseconds, as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlPacket {
    pub diag: Diag,
    pub state: State,
    /// Poll (P) bit.
    pub poll: bool,
    /// Final (F) bit.
    pub final_: bool,
    /// Control Plane Independent (C) bit.
    pub cpi: bool,
    /// Demand (D) bit.
    pub demand: bool,
    pub detect_mult: u8,
    pub my_disc: u32,
    pub your_disc: u32,
    pub desired_min_tx_us: u32,
    pub required_min_rx_us: u32,
    pub required_min_echo_rx_us: u32,
}

impl ControlPacket {
    /// Wire form: version 1, Length 24, A and M bits clear.
    pub fn encode(&self) -> [u8; CONTROL_PACKET_LEN] {
        let mut flags = (self.state as u8) << 6;
        for (set, bit) in [
            (self.poll, FLAG_POLL),
            (self.final_, FLAG_FINAL),
            (self.cpi, FLAG_CPI),
            (self.demand, FLAG_DEMAND),
        ] {
            if set {
                flags |= bit;
            }
        }
        let mut out = [0u8; CONTROL_PACKET_LEN];
        out[0] = (VERSION << 5) | (self.diag as u8 & 0x1f);
        out[1] = flags;
        out[2] = self.detect_mult;
        out[3] = CONTROL_PACKET_LEN as u8;
        out[4..8].copy_from_slice(&self.my_disc.to_be_bytes());
        out[8..12].copy_from_slice(&self.your_disc.to_be_bytes());
        out[12..16].copy_from_slice(&self.desired_min_tx_us.to_be_bytes());
        out[16..20].copy_from_slice(&self.required_min_rx_us.to_be_bytes());
        out[20..24].copy_from_slice(&self.required_min_echo_rx_us.to_be_bytes());
        out
    }

    /// Parse a received packet (the UDP payload), applying the checks of
    /// RFC 5880 §6.8.6 that need no session state. Bytes beyond the Length
    /// field are ignored. Checks that need the session (Your Discriminator)
    /// are left to the session.
    pub fn decode(buf: &[u8]) -> Result<ControlPacket, PacketError> {
        if buf.len() < CONTROL_PACKET_LEN {
            return Err(PacketError::Short);
        }
        let version = buf[0] >> 5;
        if version != VERSION {
            return Err(PacketError::Version(version));
        }
        let flags = buf[1];
        let length = buf[3];
        if usize::from(length) < CONTROL_PACKET_LEN || usize::from(length) > buf.len() {
            return Err(PacketError::Length(length));
        }
        if flags & FLAG_AUTH != 0 {
            return Err(PacketError::Auth);
        }
        let detect_mult = buf[2];
        if detect_mult == 0 {
            return Err(PacketError::ZeroDetectMult);
        }
        if flags & FLAG_MULTIPOINT != 0 {
            return Err(PacketError::Multipoint);
        }
        let word = |at: usize| u32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]]);
        let my_disc = word(4);
        if my_disc == 0 {
            return Err(PacketError::ZeroMyDisc);
        }
        Ok(ControlPacket {
            diag: Diag::from_u8(buf[0] & 0x1f),
            state: State::from_bits(flags >> 6),
            poll: flags & FLAG_POLL != 0,
            final_: flags & FLAG_FINAL != 0,
            cpi: flags & FLAG_CPI != 0,
            demand: flags & FLAG_DEMAND != 0,
            detect_mult,
            my_disc,
            your_disc: word(8),
            desired_min_tx_us: word(12),
            required_min_rx_us: word(16),
            required_min_echo_rx_us: word(20),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ControlPacket {
        ControlPacket {
            diag: Diag::None,
            state: State::Up,
            poll: false,
            final_: false,
            cpi: false,
            demand: false,
            detect_mult: 3,
            my_disc: 1,
            your_disc: 2,
            desired_min_tx_us: 300_000,
            required_min_rx_us: 300_000,
            required_min_echo_rx_us: 0,
        }
    }

    /// Derived by hand from the §4.1 layout: version 1 in the top three bits
    /// (0x20), Sta=Up in the top two bits of byte 1 (0xc0), mult 3, length
    /// 24, then big-endian words; 300000 = 0x000493e0.
    const SAMPLE_BYTES: [u8; 24] = [
        0x20, 0xc0, 0x03, 0x18, //
        0x00, 0x00, 0x00, 0x01, //
        0x00, 0x00, 0x00, 0x02, //
        0x00, 0x04, 0x93, 0xe0, //
        0x00, 0x04, 0x93, 0xe0, //
        0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn encode_matches_hand_vector() {
        assert_eq!(sample().encode(), SAMPLE_BYTES);
        assert_eq!(ControlPacket::decode(&SAMPLE_BYTES), Ok(sample()));
    }

    #[test]
    fn encode_diag_and_flags() {
        let pkt = ControlPacket {
            diag: Diag::ControlDetectionTimeExpired,
            state: State::Down,
            poll: true,
            demand: true,
            ..sample()
        };
        let b = pkt.encode();
        // Version 1 | diag 1; Sta=Down (0x40) | P (0x20) | D (0x02).
        assert_eq!(b[0], 0x21);
        assert_eq!(b[1], 0x62);
        let pkt = ControlPacket {
            state: State::Init,
            final_: true,
            cpi: true,
            ..sample()
        };
        // Sta=Init (0x80) | F (0x10) | C (0x08).
        assert_eq!(pkt.encode()[1], 0x98);
    }

    #[test]
    fn round_trip_all_states_and_diags() {
        let states = [State::AdminDown, State::Down, State::Init, State::Up];
        for (i, state) in states.into_iter().enumerate() {
            for d in 0..=8u8 {
                let pkt = ControlPacket {
                    diag: Diag::from_u8(d),
                    state,
                    poll: i % 2 == 0,
                    final_: i % 2 == 1,
                    cpi: d % 2 == 0,
                    demand: d % 3 == 0,
                    detect_mult: 5,
                    my_disc: 0xdead_beef,
                    your_disc: 0,
                    desired_min_tx_us: 1_000_000,
                    required_min_rx_us: u32::MAX,
                    required_min_echo_rx_us: 7,
                };
                assert_eq!(pkt.diag as u8, d);
                assert_eq!(ControlPacket::decode(&pkt.encode()), Ok(pkt));
            }
        }
    }

    #[test]
    fn unknown_diag_maps_to_none() {
        let mut b = SAMPLE_BYTES;
        b[0] = 0x20 | 0x1f;
        assert_eq!(ControlPacket::decode(&b).unwrap().diag, Diag::None);
    }

    #[test]
    fn trailing_bytes_beyond_length_are_ignored() {
        let mut v = SAMPLE_BYTES.to_vec();
        v.extend_from_slice(&[0xff; 8]);
        assert_eq!(ControlPacket::decode(&v), Ok(sample()));
    }

    #[test]
    fn rejects_short() {
        assert_eq!(ControlPacket::decode(&[]), Err(PacketError::Short));
        assert_eq!(
            ControlPacket::decode(&SAMPLE_BYTES[..23]),
            Err(PacketError::Short)
        );
    }

    #[test]
    fn rejects_version() {
        let mut b = SAMPLE_BYTES;
        b[0] = 0x40; // version 2
        assert_eq!(ControlPacket::decode(&b), Err(PacketError::Version(2)));
        b[0] = 0x00;
        assert_eq!(ControlPacket::decode(&b), Err(PacketError::Version(0)));
    }

    #[test]
    fn rejects_length() {
        let mut b = SAMPLE_BYTES;
        b[3] = 23;
        assert_eq!(ControlPacket::decode(&b), Err(PacketError::Length(23)));
        b[3] = 25; // more than the payload
        assert_eq!(ControlPacket::decode(&b), Err(PacketError::Length(25)));
    }

    #[test]
    fn rejects_auth() {
        let mut v = SAMPLE_BYTES.to_vec();
        v.extend_from_slice(&[1, 4, 0, 0]); // a plausible auth section
        v[1] |= FLAG_AUTH;
        v[3] = 28;
        assert_eq!(ControlPacket::decode(&v), Err(PacketError::Auth));
    }

    #[test]
    fn rejects_zero_detect_mult() {
        let mut b = SAMPLE_BYTES;
        b[2] = 0;
        assert_eq!(ControlPacket::decode(&b), Err(PacketError::ZeroDetectMult));
    }

    #[test]
    fn rejects_multipoint() {
        let mut b = SAMPLE_BYTES;
        b[1] |= FLAG_MULTIPOINT;
        assert_eq!(ControlPacket::decode(&b), Err(PacketError::Multipoint));
    }

    #[test]
    fn rejects_zero_my_disc() {
        let mut b = SAMPLE_BYTES;
        b[4..8].copy_from_slice(&[0; 4]);
        assert_eq!(ControlPacket::decode(&b), Err(PacketError::ZeroMyDisc));
        // Your Discriminator zero is legal at this layer.
        let mut b = SAMPLE_BYTES;
        b[8..12].copy_from_slice(&[0; 4]);
        assert_eq!(ControlPacket::decode(&b).unwrap().your_disc, 0);
    }

    #[test]
    fn names() {
        assert_eq!(State::AdminDown.name(), "admin-down");
        assert_eq!(State::Down.name(), "down");
        assert_eq!(State::Init.name(), "init");
        assert_eq!(State::Up.to_string(), "up");
        let expect = [
            "none",
            "control-expiry",
            "echo-failed",
            "neighbor-down",
            "forwarding-reset",
            "path-down",
            "concatenated-path-down",
            "admin-down",
            "reverse-concatenated-path-down",
        ];
        for (v, name) in expect.iter().enumerate() {
            assert_eq!(Diag::from_u8(v as u8).name(), *name);
        }
        assert_eq!(
            PacketError::Version(2).to_string(),
            "unsupported BFD version 2"
        );
    }
}
