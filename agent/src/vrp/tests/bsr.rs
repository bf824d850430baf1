//! `display pim bsr-info` and `display pim rp-info` over running with the `bsr` state.

use super::*;

/// Running with c-bsr, c-rp and a static RP, and the `bsr` state the engine reports.
fn tree() -> DataTree {
    let schema = schema();
    let mut tree = decode_config(
        r#"<data><multicast xmlns="urn:ne-agent:yang:ne-multicast">
        <routing-enable>true</routing-enable><rp-address>10.1.0.200</rp-address>
        <c-bsr><address>10.1.0.1</address><priority>10</priority></c-bsr>
        <c-rp><address>10.1.0.1</address><priority>200</priority></c-rp>
        </multicast></data>"#,
    );
    let state = yang::xml::parse(
        r#"<data><multicast xmlns="urn:ne-agent:yang:ne-multicast"><bsr>
        <state>elected</state><elected-address>10.1.0.1</elected-address>
        <elected-priority>10</elected-priority><hash-mask-length>30</hash-mask-length>
        <rp><group-range>224.0.0.0/4</group-range><address>10.1.0.1</address>
          <priority>200</priority><holdtime>150</holdtime><expires>149</expires></rp>
        <rp><group-range>224.0.0.0/4</group-range><address>10.1.0.2</address>
          <priority>100</priority><holdtime>150</holdtime><expires>130</expires></rp>
        </bsr></multicast></data>"#,
    )
    .unwrap();
    let state = decode_elements(
        &schema,
        &state.children,
        DecodeOptions { config_only: false },
    )
    .unwrap();
    yang::data::merge(&schema, &mut tree, state);
    tree
}

#[test]
fn display_pim_bsr_info_shows_the_elected_bsr_and_our_candidacy() {
    let out = crate::vrp::show::bsr_info(&schema(), &tree());
    assert_eq!(
        out,
        " VPN-Instance: public net
 Elected BSR Address: 10.1.0.1
     Priority: 10
     Hash mask length: 30
     State: Elected
     C-RP Count: 2

 Candidate BSR Address: 10.1.0.1
     Priority: 10
     Hash mask length: 30
     State: Elected
"
    );
}

#[test]
fn display_pim_rp_info_lists_the_bsr_rp_set_and_the_static_rp() {
    let out = crate::vrp::show::rp_info(&schema(), &tree());
    assert_eq!(
        out,
        " VPN-Instance: public net
 PIM-SM BSR RP Number:2
 Group/MaskLen: 224.0.0.0/4
     RP: 10.1.0.1
     Priority: 200
     Holdtime: 150
     Expires: 00:02:29
     RP: 10.1.0.2
     Priority: 100
     Holdtime: 150
     Expires: 00:02:10
 PIM SM static RP Number:1
     Static RP: 10.1.0.200
"
    );
    let none = crate::vrp::show::rp_info(&schema(), &decode_config("<data/>"));
    assert_eq!(
        none,
        " VPN-Instance: public net\n PIM-SM BSR RP Number:0\n PIM SM static RP Number:0\n"
    );
}

#[test]
fn the_bsr_displays_parse() {
    use crate::vrp::Show;
    let mut s = session();
    assert_eq!(
        s.line("display pim bsr-info"),
        Outcome::Show(Show::PimBsrInfo)
    );
    assert_eq!(s.line("dis pim rp-info"), Outcome::Show(Show::PimRpInfo));
}
