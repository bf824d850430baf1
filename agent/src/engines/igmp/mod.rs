//! Internet Group Management Protocol, router side (IGMPv2 RFC 2236, IGMPv3
//! RFC 3376 §6 with the compatibility rules of §7), protocol core without
//! I/O.
//!
//! [`packet`] encodes and decodes IGMP messages (the payload after the IPv4
//! header); [`group`] is the per-group membership state machine (RFC 3376
//! §6.2–§6.5, §7.3.2 compatibility) and its group-specific queries; [`iface`]
//! runs one router interface: querier election, general queries, and the
//! groups that multicast routing reads through [`iface::Interface::wants`].
//! Like the other engines it is driven by the caller with explicit `now`
//! instants and answers with [`Action`]s. This file holds what both share.

pub mod group;
pub mod iface;
pub mod packet;

use std::fmt;
use std::net::Ipv4Addr;
use std::time::Duration;

use packet::Message;

/// Interface configuration (the YANG `igmp` container).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// 3 for IGMPv3; anything lower runs an IGMPv2 router.
    pub version: u8,
    /// Query Interval (RFC 3376 §8.2).
    pub query_interval: Duration,
    /// Query Response Interval, the Max Resp Time of General Queries (§8.3).
    pub max_response: Duration,
    /// Robustness Variable (§8.1); 0 is treated as 1.
    pub robustness: u8,
    /// Last Member Query Interval (§8.8).
    pub last_member_interval: Duration,
}

impl Default for Config {
    /// The Huawei defaults: version 2, 60 s, 10 s, 2, 1 s.
    fn default() -> Config {
        Config {
            version: 2,
            query_interval: Duration::from_secs(60),
            max_response: Duration::from_secs(10),
            robustness: 2,
            last_member_interval: Duration::from_secs(1),
        }
    }
}

impl Config {
    fn rv(&self) -> u32 {
        u32::from(self.robustness.max(1))
    }

    fn v3(&self) -> bool {
        self.version >= 3
    }

    /// Group Membership Interval, RV × QI + QRI (RFC 3376 §8.4); also the
    /// Older Version Host Present Timeout (§8.13).
    pub fn group_membership_interval(&self) -> Duration {
        self.query_interval * self.rv() + self.max_response
    }

    /// Other Querier Present Interval, RV × QI + QRI / 2 (RFC 3376 §8.5).
    pub fn other_querier_present_interval(&self) -> Duration {
        self.query_interval * self.rv() + self.max_response / 2
    }

    /// Startup Query Interval, QI / 4 (RFC 3376 §8.6).
    pub fn startup_query_interval(&self) -> Duration {
        self.query_interval / 4
    }

    /// Last Member Query Time, LMQI × LMQC with LMQC = RV (RFC 3376 §8.9,
    /// §8.10).
    pub fn last_member_query_time(&self) -> Duration {
        self.last_member_interval * self.rv()
    }
}

/// Router filter mode of a group (RFC 3376 §6.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FilterMode {
    Include,
    Exclude,
}

impl FilterMode {
    /// Lower-case name, as in the YANG model.
    pub fn name(self) -> &'static str {
        match self {
            FilterMode::Include => "include",
            FilterMode::Exclude => "exclude",
        }
    }
}

impl fmt::Display for FilterMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the I/O layer must do on behalf of the interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send an IGMP message (the I/O layer adds the IPv4 header with TTL 1
    /// and Router Alert).
    Send { dst: Ipv4Addr, msg: Message },
    /// Group membership changed (created, removed, or its source
    /// set/filter changed): the multicast table must be recomputed for
    /// `group`.
    Membership { group: Ipv4Addr },
    /// The querier or our role changed.
    QuerierChange {
        querier: Option<Ipv4Addr>,
        is_querier: bool,
    },
}
