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

#[cfg(test)]
mod tests {
    use super::*;

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
