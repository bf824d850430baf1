//! Interface monitor groups: the failure ratio their consumers (VRRP tracking) act on.

/// Failure ratio in percent: the down-weights of the bindings that are down, times 100, over
/// the sum of all down-weights (rounded down). A disabled group, or one without bindings,
/// reports 0: its consumers see "no failure".
pub fn failure_ratio(enabled: bool, bindings: &[(u16, bool)]) -> u8 {
    let total: u32 = bindings.iter().map(|&(w, _)| u32::from(w)).sum();
    if !enabled || total == 0 {
        return 0;
    }
    let down: u32 = bindings
        .iter()
        .filter(|&&(_, up)| !up)
        .map(|&(w, _)| u32::from(w))
        .sum();
    (down * 100 / total) as u8
}

/// A bound interface as the group sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    Up,
    Down,
    /// The agent has just set the interface admin up and its link state has not caught up yet
    /// (carrier and the kernel's link watch take up to about a second): neither up nor down.
    Settling,
}

/// The failure ratio, or None while a binding of an enabled group is still settling: the group
/// is then left as it was, so that the agent's own start-up (interfaces brought up after the
/// first check) does not read as 100 % failure for an instant and move VRRP priorities.
pub fn settled_failure_ratio(enabled: bool, bindings: &[(u16, Binding)]) -> Option<u8> {
    if enabled && bindings.iter().any(|&(_, b)| b == Binding::Settling) {
        return None;
    }
    let plain: Vec<(u16, bool)> = bindings
        .iter()
        .map(|&(w, b)| (w, b == Binding::Up))
        .collect();
    Some(failure_ratio(enabled, &plain))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_settling_binding_leaves_an_enabled_group_unevaluated() {
        use Binding::*;
        assert_eq!(settled_failure_ratio(true, &[(10, Settling)]), None);
        assert_eq!(
            settled_failure_ratio(true, &[(10, Down), (10, Settling)]),
            None
        );
        assert_eq!(
            settled_failure_ratio(true, &[(10, Down), (10, Up)]),
            Some(50)
        );
        assert_eq!(settled_failure_ratio(true, &[(10, Up)]), Some(0));
        // A disabled group reports 0 whatever its bindings do.
        assert_eq!(settled_failure_ratio(false, &[(10, Settling)]), Some(0));
    }

    #[test]
    fn weights_decide_the_ratio() {
        assert_eq!(failure_ratio(true, &[(10, true)]), 0);
        assert_eq!(failure_ratio(true, &[(10, false)]), 100);
        assert_eq!(failure_ratio(true, &[(10, false), (30, true)]), 25);
        assert_eq!(failure_ratio(true, &[(1, false), (2, true)]), 33);
        assert_eq!(failure_ratio(true, &[(1000, false); 32]), 100);
    }

    #[test]
    fn disabled_or_empty_groups_report_no_failure() {
        assert_eq!(failure_ratio(false, &[(10, false)]), 0);
        assert_eq!(failure_ratio(true, &[]), 0);
    }
}
