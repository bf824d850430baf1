//! [`Pdu`]: any PIM message this implementation decodes, the link-local [`Message`]s and the
//! unicast and BSR ones, with the checksum rule of each type.

use super::{
    bootstrap, register, Bootstrap, CandidateRpAdv, Message, PacketError, Register, RegisterStop,
    HEADER_LEN, PIM_VERSION, TYPE_ASSERT, TYPE_BOOTSTRAP, TYPE_CANDIDATE_RP_ADV, TYPE_HELLO,
    TYPE_JOIN_PRUNE, TYPE_REGISTER, TYPE_REGISTER_STOP,
};

/// Any PIM message this implementation decodes: the link-local [`Message`]s and the
/// Register, Register-Stop, Bootstrap and Candidate-RP-Advertisement messages of the RP and
/// BSR machinery. [`Message::decode`] still refuses the latter as unsupported, so a caller
/// that handles only [`Message`] keeps counting them as such.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pdu {
    Message(Message),
    Register(Register),
    RegisterStop(RegisterStop),
    Bootstrap(Bootstrap),
    CandidateRpAdv(CandidateRpAdv),
}

impl Pdu {
    /// The PIM message type number.
    pub fn message_type(&self) -> u8 {
        match self {
            Pdu::Message(m) => m.message_type(),
            Pdu::Register(_) => TYPE_REGISTER,
            Pdu::RegisterStop(_) => TYPE_REGISTER_STOP,
            Pdu::Bootstrap(_) => TYPE_BOOTSTRAP,
            Pdu::CandidateRpAdv(_) => TYPE_CANDIDATE_RP_ADV,
        }
    }

    /// Encodes the message with its header and checksum: over the first 8 bytes for a
    /// Register (§4.9.3), over the whole message otherwise.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = match self {
            Pdu::Message(m) => return m.encode(),
            Pdu::Bootstrap(b) if b.no_forward => vec![
                (PIM_VERSION << 4) | TYPE_BOOTSTRAP,
                bootstrap::BOOTSTRAP_NO_FORWARD,
                0,
                0,
            ],
            _ => vec![(PIM_VERSION << 4) | self.message_type(), 0, 0, 0],
        };
        match self {
            Pdu::Message(_) => {}
            Pdu::Register(r) => r.encode_body(&mut out),
            Pdu::RegisterStop(r) => r.encode_body(&mut out),
            Pdu::Bootstrap(b) => b.encode_body(&mut out),
            Pdu::CandidateRpAdv(c) => c.encode_body(&mut out),
        }
        let covered = match self {
            Pdu::Register(_) => register::REGISTER_HEADER_LEN,
            _ => out.len(),
        };
        let sum = dataplane::wire::internet(&out[..covered], 0);
        out[2..4].copy_from_slice(&sum.to_be_bytes());
        out
    }

    /// Decodes and validates a PIM message (what follows the IPv4 header). A Register's
    /// checksum may cover its first 8 bytes (§4.9.3) or the whole message.
    pub fn decode(bytes: &[u8]) -> Result<Pdu, PacketError> {
        let typ = super::header_type(bytes)?;
        let body = &bytes[HEADER_LEN..];
        let whole_sum_ok = || dataplane::wire::internet(bytes, 0) == 0;
        match typ {
            TYPE_HELLO | TYPE_JOIN_PRUNE | TYPE_ASSERT => Message::decode(bytes).map(Pdu::Message),
            TYPE_REGISTER => {
                if bytes.len() < register::REGISTER_HEADER_LEN {
                    return Err(PacketError::Short);
                }
                let header_sum_ok =
                    dataplane::wire::internet(&bytes[..register::REGISTER_HEADER_LEN], 0) == 0;
                if !header_sum_ok && !whole_sum_ok() {
                    return Err(PacketError::Checksum);
                }
                Register::decode_body(body).map(Pdu::Register)
            }
            TYPE_REGISTER_STOP | TYPE_BOOTSTRAP | TYPE_CANDIDATE_RP_ADV => {
                if !whole_sum_ok() {
                    return Err(PacketError::Checksum);
                }
                match typ {
                    TYPE_REGISTER_STOP => RegisterStop::decode_body(body).map(Pdu::RegisterStop),
                    TYPE_BOOTSTRAP => Bootstrap::decode_body(bytes[1], body).map(Pdu::Bootstrap),
                    _ => CandidateRpAdv::decode_body(body).map(Pdu::CandidateRpAdv),
                }
            }
            _ => Err(PacketError::UnsupportedType(typ)),
        }
    }
}
