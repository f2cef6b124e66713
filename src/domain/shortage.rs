//! Plans that weigh blood groups (issue 17): what a stop's donors are worth when some groups
//! run short at the station.
//!
//! A site's donors come from villages ([`crate::planning::assemble`]); each village has an
//! expected blood-group mix ([`village_mix`]: its recorded donations by group shrunk toward a
//! prior), and each group a weight from the station's days of supply ([`weight`]: 1 at or
//! above the amber level, 2 at the red level, 3 when none is left). A site's value factor is
//! the expected-donor-weighted mean over its villages of `sum_g mix_g x weight_g`
//! ([`explain`]), and its value `expected x ml_per_donor x factor`: with every weight 1 (no
//! days of supply known) the factor is exactly 1 and the value is plain millilitres.

use std::collections::HashMap;

use serde::ser::{Serialize, SerializeMap, Serializer};
use utoipa::ToSchema;

use super::attendance::{Abo, Rh};
use super::recruitment::BloodGroup;

/// The eight groups, in the order every mix and count array uses.
pub const GROUPS: [BloodGroup; 8] = [
    BloodGroup {
        abo: Abo::A,
        rh: Rh::Positive,
    },
    BloodGroup {
        abo: Abo::A,
        rh: Rh::Negative,
    },
    BloodGroup {
        abo: Abo::B,
        rh: Rh::Positive,
    },
    BloodGroup {
        abo: Abo::B,
        rh: Rh::Negative,
    },
    BloodGroup {
        abo: Abo::AB,
        rh: Rh::Positive,
    },
    BloodGroup {
        abo: Abo::AB,
        rh: Rh::Negative,
    },
    BloodGroup {
        abo: Abo::O,
        rh: Rh::Positive,
    },
    BloodGroup {
        abo: Abo::O,
        rh: Rh::Negative,
    },
];

/// The position of `group` in [`GROUPS`].
pub fn index(group: BloodGroup) -> usize {
    let abo = match group.abo {
        Abo::A => 0,
        Abo::B => 1,
        Abo::AB => 2,
        Abo::O => 3,
    };
    2 * abo + usize::from(group.rh == Rh::Negative)
}

/// The default ABO shares (A, B, AB, O): approximate published figures for the Han Chinese
/// population of Henan (surveys of blood donors in the province report roughly A 28%, B 31%,
/// AB 10%, O 31%; the exact figures vary by city and study by a point or two).
pub const DEFAULT_ABO: [f64; 4] = [0.28, 0.31, 0.10, 0.31];

/// The default Rh(D)-negative share within each ABO group: about 0.4% among Han Chinese
/// (approximate; the published figures range from 0.3% to 0.5%).
pub const DEFAULT_RH_NEGATIVE: f64 = 0.004;

/// How many results the prior counts for when a mix is estimated from recorded donations
/// ([`shrunk`]): a village with 20 results lies halfway between its own counts and the prior,
/// one with 2 results barely moves from it.
pub const SHRINK_K: f64 = 20.0;

/// Weight of a group at or above its amber level of days of supply (and of a group whose days
/// are unknown).
pub const WEIGHT_AT_AMBER: f64 = 1.0;
/// Weight of a group exactly at its red level; between amber and red it rises linearly.
pub const WEIGHT_AT_RED: f64 = 2.0;
/// Weight of a group with no days of supply left; between red and 0 it rises linearly.
pub const WEIGHT_AT_EMPTY: f64 = 3.0;

/// Recorded donations per group, in [`GROUPS`] order.
pub type GroupCounts = [u64; 8];

/// Shares of the eight groups (in [`GROUPS`] order), summing to 1. Serialised as a map from
/// the group (`A+`, `O-`) to its share.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupMix([f64; 8]);

impl GroupMix {
    /// The built-in mix: [`DEFAULT_ABO`] split by [`DEFAULT_RH_NEGATIVE`].
    pub fn default_mix() -> GroupMix {
        let mut shares = [0.0; 8];
        for (i, abo) in DEFAULT_ABO.iter().enumerate() {
            shares[2 * i] = abo * (1.0 - DEFAULT_RH_NEGATIVE);
            shares[2 * i + 1] = abo * DEFAULT_RH_NEGATIVE;
        }
        GroupMix(shares)
    }

    /// The mix of `counts` alone; `None` when there are none.
    pub fn of_counts(counts: &GroupCounts) -> Option<GroupMix> {
        let n = total(counts);
        if n == 0 {
            return None;
        }
        Some(GroupMix(counts.map(|c| c as f64 / n as f64)))
    }

    /// The share of `group`.
    pub fn share(&self, group: BloodGroup) -> f64 {
        self.0[index(group)]
    }

    /// The shares in [`GROUPS`] order.
    pub fn shares(&self) -> &[f64; 8] {
        &self.0
    }

    /// `sum_g share_g x weights_g`: what one donor drawn from this mix is worth.
    pub fn weighted(&self, weights: &[f64; 8]) -> f64 {
        self.0.iter().zip(weights).map(|(s, w)| s * w).sum()
    }
}

impl Default for GroupMix {
    fn default() -> Self {
        GroupMix::default_mix()
    }
}

impl Serialize for GroupMix {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(GROUPS.len()))?;
        for (g, share) in GROUPS.iter().zip(self.0) {
            map.serialize_entry(&g.to_string(), &share)?;
        }
        map.end()
    }
}

/// How many donations `counts` holds.
pub fn total(counts: &GroupCounts) -> u64 {
    counts.iter().sum()
}

/// `(counts + k x prior) / (n + k)` per group, with `k` = [`SHRINK_K`]: the recorded mix,
/// pulled toward `prior` the more the fewer results there are (no results: `prior` itself).
pub fn shrunk(counts: &GroupCounts, prior: &GroupMix) -> GroupMix {
    let n = total(counts) as f64;
    let mut shares = [0.0; 8];
    for (i, share) in shares.iter_mut().enumerate() {
        let c = counts[i] as f64;
        *share = (c + SHRINK_K * prior.0[i]) / (n + SHRINK_K);
    }
    GroupMix(shares)
}

/// The deployment's mix: every recorded donation with a known group, shrunk toward the
/// built-in [`GroupMix::default_mix`].
pub fn prior_mix(all: &GroupCounts) -> GroupMix {
    shrunk(all, &GroupMix::default_mix())
}

/// Where a village's mix comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MixSource {
    /// The village's own recorded donations (shrunk toward the prior).
    Village,
    /// No donation with a known group recorded there: the prior (the deployment's mix).
    Prior,
}

/// A village's mix: its recorded donations shrunk toward `prior` ([`shrunk`]), or `prior`
/// itself when none are recorded; with the source.
pub fn village_mix(counts: &GroupCounts, prior: &GroupMix) -> (GroupMix, MixSource) {
    if total(counts) == 0 {
        (*prior, MixSource::Prior)
    } else {
        (shrunk(counts, prior), MixSource::Village)
    }
}

/// A group's days of supply at the station, with its levels (days).
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize, ToSchema)]
pub struct GroupDays {
    /// Days of supply; `None` when there are no figures.
    pub days: Option<f64>,
    /// At or above this many days the group is not short.
    pub amber_days: f64,
    /// At this many days the group is critically short.
    pub red_days: f64,
}

/// How short a group is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SupplyLevel {
    /// No figures: weight 1.
    Unknown,
    /// At or above amber.
    Ok,
    /// Below amber, above red.
    Amber,
    /// At or below red.
    Red,
}

/// The level of `d`: below amber is amber, below red is red (as the inventory's levels).
pub fn level(d: &GroupDays) -> SupplyLevel {
    match d.days {
        None => SupplyLevel::Unknown,
        Some(days) if !days.is_finite() => SupplyLevel::Unknown,
        Some(days) if days >= d.amber_days => SupplyLevel::Ok,
        Some(days) if days >= d.red_days => SupplyLevel::Amber,
        Some(_) => SupplyLevel::Red,
    }
}

/// A group's weight from its days of supply: [`WEIGHT_AT_AMBER`] (1) at or above
/// `amber_days`, rising linearly to [`WEIGHT_AT_RED`] (2) at `red_days`, and on linearly to
/// [`WEIGHT_AT_EMPTY`] (3) at 0 days (and below); unknown days weigh 1. Levels out of order
/// (red at or above amber) skip the amber ramp: below amber is at least 2. With a red level of
/// 0 or less the amber ramp runs down to 0 days, and 0 days or fewer weigh 3.
pub fn weight(d: &GroupDays) -> f64 {
    let Some(days) = d.days.filter(|x| x.is_finite()) else {
        return WEIGHT_AT_AMBER;
    };
    if days >= d.amber_days {
        return WEIGHT_AT_AMBER;
    }
    if days > d.red_days {
        // Between red and amber (so amber > red here).
        let t = (d.amber_days - days) / (d.amber_days - d.red_days);
        return WEIGHT_AT_AMBER + t * (WEIGHT_AT_RED - WEIGHT_AT_AMBER);
    }
    if days <= 0.0 {
        return WEIGHT_AT_EMPTY;
    }
    // 0 < days <= red.
    let t = (d.red_days - days) / d.red_days;
    WEIGHT_AT_RED + t * (WEIGHT_AT_EMPTY - WEIGHT_AT_RED)
}

/// The weights of all eight groups (in [`GROUPS`] order); a group absent from `days` weighs 1.
pub fn weights(days: &HashMap<BloodGroup, GroupDays>) -> [f64; 8] {
    GROUPS.map(|g| days.get(&g).map_or(WEIGHT_AT_AMBER, weight))
}

/// One village a site draws from: its code, its expected donors at the site, and its recorded
/// donations by group.
#[derive(Clone, Debug, PartialEq)]
pub struct VillageDraw {
    pub code: String,
    pub expected: f64,
    pub counts: GroupCounts,
}

/// One group's weight, explained.
#[derive(Clone, Debug, PartialEq, serde::Serialize, ToSchema)]
pub struct GroupWeight {
    /// `A+`, `O-`, …
    #[schema(example = "O-")]
    pub group: String,
    /// The station's days of supply; `null` when there are no figures.
    pub days: Option<f64>,
    pub amber_days: Option<f64>,
    pub red_days: Option<f64>,
    pub level: SupplyLevel,
    pub weight: f64,
}

/// One village's mix, explained.
#[derive(Clone, Debug, PartialEq, serde::Serialize, ToSchema)]
pub struct VillageValue {
    pub code: String,
    /// Its expected donors at the site.
    pub expected: f64,
    /// `village`: its own recorded donations shrunk toward the prior; `prior`: none recorded.
    pub source: MixSource,
    /// How many donations with a known group are recorded there.
    pub results: u64,
    /// The mix used.
    #[schema(value_type = Object)]
    pub mix: GroupMix,
    /// `sum_g mix_g x weight_g`.
    pub worth: f64,
}

/// A site's value factor with its explanation.
#[derive(Clone, Debug, PartialEq, serde::Serialize, ToSchema)]
pub struct ValueExplanation {
    /// The rule, in one sentence.
    pub rule: String,
    /// The shrinkage constant `k` of `(counts + k x prior) / (n + k)`.
    pub shrink_k: f64,
    /// The prior: the deployment's mix from every recorded result, shrunk toward the built-in
    /// default.
    #[schema(value_type = Object)]
    pub prior: GroupMix,
    /// Donations with a known group the prior is made from.
    pub prior_results: u64,
    /// The site's expected mix: the villages' mixes weighted by their expected donors.
    #[schema(value_type = Object)]
    pub mix: GroupMix,
    /// Each group's days of supply, level and weight.
    pub weights: Vec<GroupWeight>,
    /// The villages, in the order given.
    pub villages: Vec<VillageValue>,
    /// `sum_v expected_v x worth_v / sum_v expected_v` (`sum_g prior_g x weight_g` when no
    /// donors are expected); 1 when every weight is 1.
    pub factor: f64,
}

/// The rule as the forecast states it.
pub const RULE: &str = "value = expected donors x mL per donor x factor; factor = the villages' \
     mean (weighted by expected donors) of sum over groups of mix x weight; a village's mix is \
     (its donations by group + 20 x prior) / (its donations + 20); a group's weight is 1 at or \
     above its amber days of supply (or unknown), rising linearly to 2 at red and 3 at 0 days";

/// The value factor of a site drawing from `villages`, given the deployment's recorded
/// donations by group (`all`, for the prior) and the station's days of supply per group.
pub fn explain(
    villages: &[VillageDraw],
    all: &GroupCounts,
    days: &HashMap<BloodGroup, GroupDays>,
) -> ValueExplanation {
    let prior = prior_mix(all);
    let w = weights(days);
    let mut site = [0.0; 8];
    let mut sum_expected = 0.0;
    let mut sum_worth = 0.0;
    let mut shown = Vec::with_capacity(villages.len());
    for v in villages {
        let (mix, source) = village_mix(&v.counts, &prior);
        let worth = mix.weighted(&w);
        let expected = v.expected.max(0.0);
        sum_expected += expected;
        sum_worth += expected * worth;
        for (s, m) in site.iter_mut().zip(mix.0) {
            *s += expected * m;
        }
        shown.push(VillageValue {
            code: v.code.clone(),
            expected: v.expected,
            source,
            results: total(&v.counts),
            mix,
            worth,
        });
    }
    let (mix, factor) = if sum_expected > 0.0 {
        (
            GroupMix(site.map(|s| s / sum_expected)),
            sum_worth / sum_expected,
        )
    } else {
        (prior, prior.weighted(&w))
    };
    ValueExplanation {
        rule: RULE.to_owned(),
        shrink_k: SHRINK_K,
        prior,
        prior_results: total(all),
        mix,
        weights: GROUPS
            .iter()
            .zip(w)
            .map(|(g, weight)| {
                let d = days.get(g);
                GroupWeight {
                    group: g.to_string(),
                    days: d.and_then(|d| d.days),
                    amber_days: d.map(|d| d.amber_days),
                    red_days: d.map(|d| d.red_days),
                    level: d.map_or(SupplyLevel::Unknown, level),
                    weight,
                }
            })
            .collect(),
        villages: shown,
        factor,
    }
}

/// The value of a site: `expected x ml_per_donor x factor`, mL-equivalents.
pub fn value_ml(expected: f64, ml_per_donor: f64, factor: f64) -> f64 {
    expected * ml_per_donor * factor
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(s: &str) -> BloodGroup {
        s.parse().unwrap()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    fn days(days: Option<f64>) -> GroupDays {
        GroupDays {
            days,
            amber_days: 7.0,
            red_days: 3.0,
        }
    }

    #[test]
    fn the_groups_are_indexed_in_their_listed_order() {
        for (i, group) in GROUPS.iter().enumerate() {
            assert_eq!(index(*group), i, "{group}");
        }
        assert_eq!(GROUPS[7].to_string(), "O-");
    }

    #[test]
    fn the_default_mix_sums_to_one_with_the_published_shares() {
        let mix = GroupMix::default_mix();
        assert!(close(mix.shares().iter().sum(), 1.0));
        assert!(close(mix.share(g("A+")) + mix.share(g("A-")), 0.28));
        assert!(close(mix.share(g("O-")), 0.31 * 0.004));
        assert!(close(mix.share(g("AB+")), 0.10 * 0.996));
    }

    #[test]
    fn weights_at_the_boundaries() {
        assert_eq!(weight(&days(None)), 1.0, "unknown");
        assert_eq!(weight(&days(Some(20.0))), 1.0, "well stocked");
        assert_eq!(weight(&days(Some(7.0))), 1.0, "exactly amber");
        assert!(close(weight(&days(Some(5.0))), 1.5), "halfway to red");
        assert_eq!(weight(&days(Some(3.0))), 2.0, "exactly red");
        assert!(close(weight(&days(Some(1.5))), 2.5), "halfway to empty");
        assert_eq!(weight(&days(Some(0.0))), 3.0, "empty");
        assert_eq!(weight(&days(Some(-1.0))), 3.0, "below empty");
        assert_eq!(weight(&days(Some(f64::NAN))), 1.0, "no figure");
    }

    #[test]
    fn levels_follow_the_same_boundaries() {
        assert_eq!(level(&days(None)), SupplyLevel::Unknown);
        assert_eq!(level(&days(Some(7.0))), SupplyLevel::Ok);
        assert_eq!(level(&days(Some(6.9))), SupplyLevel::Amber);
        // Exactly at red is amber, as the inventory's levels say (red is below it).
        assert_eq!(level(&days(Some(3.0))), SupplyLevel::Amber);
        assert_eq!(level(&days(Some(2.9))), SupplyLevel::Red);
        assert_eq!(level(&days(Some(0.0))), SupplyLevel::Red);
    }

    #[test]
    fn weights_rise_monotonically_as_supply_falls_even_with_odd_levels() {
        for (amber, red) in [(7.0, 3.0), (3.0, 3.0), (2.0, 5.0), (4.0, 0.0)] {
            let mut last = 0.0;
            for tenth in (-10..=100).rev() {
                let d = GroupDays {
                    days: Some(f64::from(tenth) / 10.0),
                    amber_days: amber,
                    red_days: red,
                };
                let w = weight(&d);
                assert!((1.0..=3.0).contains(&w), "{d:?}: {w}");
                assert!(w >= last - 1e-12, "{d:?}: {w} after {last}");
                last = w;
            }
            assert_eq!(last, 3.0, "amber {amber}, red {red}");
        }
    }

    #[test]
    fn few_results_move_the_mix_little_and_many_move_it_most_of_the_way() {
        let prior = GroupMix::default_mix();
        let mut counts = [0; 8];
        counts[index(g("O-"))] = 2;
        let (few, source) = village_mix(&counts, &prior);
        assert_eq!(source, MixSource::Village);
        // (2 + 20 x p) / 22.
        assert!(close(
            few.share(g("O-")),
            (2.0 + 20.0 * prior.share(g("O-"))) / 22.0
        ));
        assert!(close(few.shares().iter().sum(), 1.0));
        assert!(close(
            few.share(g("A+")),
            20.0 * prior.share(g("A+")) / 22.0
        ));
        counts[index(g("O-"))] = 2000;
        let (many, _) = village_mix(&counts, &prior);
        assert!(many.share(g("O-")) > 0.99);
        let (none, source) = village_mix(&[0; 8], &prior);
        assert_eq!((none, source), (prior, MixSource::Prior));
    }

    #[test]
    fn the_prior_is_the_deployments_results_shrunk_toward_the_default() {
        assert_eq!(prior_mix(&[0; 8]), GroupMix::default_mix());
        let mut all = [0; 8];
        all[index(g("B+"))] = 20;
        let prior = prior_mix(&all);
        let default = GroupMix::default_mix();
        assert!(close(
            prior.share(g("B+")),
            (20.0 + 20.0 * default.share(g("B+"))) / 40.0
        ));
    }

    #[test]
    fn without_shortage_the_factor_is_one() {
        let mut counts = [0; 8];
        counts[index(g("AB-"))] = 7;
        let villages = [
            VillageDraw {
                code: "1".into(),
                expected: 10.0,
                counts,
            },
            VillageDraw {
                code: "2".into(),
                expected: 5.0,
                counts: [0; 8],
            },
        ];
        let e = explain(&villages, &counts, &HashMap::new());
        assert!(close(e.factor, 1.0));
        assert!(e.weights.iter().all(|w| w.weight == 1.0));
        assert!(e.weights.iter().all(|w| w.level == SupplyLevel::Unknown));
        assert_eq!(e.villages[0].source, MixSource::Village);
        assert_eq!(e.villages[0].results, 7);
        assert_eq!(e.villages[1].source, MixSource::Prior);
        assert_eq!(e.prior_results, 7);
        assert!(close(e.mix.shares().iter().sum(), 1.0));
    }

    #[test]
    fn the_factor_weighs_each_village_by_its_expected_donors() {
        // Village 1 gives only O- (which is empty at the station), village 2 nothing recorded.
        let mut counts = [0; 8];
        counts[index(g("O-"))] = 30;
        let all = counts;
        let shortage = HashMap::from([(g("O-"), days(Some(0.0))), (g("A+"), days(Some(5.0)))]);
        let villages = [
            VillageDraw {
                code: "1".into(),
                expected: 30.0,
                counts,
            },
            VillageDraw {
                code: "2".into(),
                expected: 10.0,
                counts: [0; 8],
            },
        ];
        let e = explain(&villages, &all, &shortage);
        let prior = prior_mix(&all);
        let w = weights(&shortage);
        assert_eq!(w[index(g("O-"))], 3.0);
        assert!(close(w[index(g("A+"))], 1.5));
        let (m1, _) = village_mix(&counts, &prior);
        let worth1 = m1.weighted(&w);
        let worth2 = prior.weighted(&w);
        // Each worth is 1 plus the extra weight of its short groups.
        assert!(close(
            worth1,
            1.0 + 2.0 * m1.share(g("O-")) + 0.5 * m1.share(g("A+"))
        ));
        assert!(close(e.factor, (30.0 * worth1 + 10.0 * worth2) / 40.0));
        assert!(e.factor > 1.0);
        assert!(close(e.villages[0].worth, worth1));
        assert!(close(
            e.mix.share(g("O-")),
            (30.0 * m1.share(g("O-")) + 10.0 * prior.share(g("O-"))) / 40.0
        ));
        assert!(close(value_ml(40.0, 400.0, e.factor), 16_000.0 * e.factor));
        let o = &e.weights[index(g("O-"))];
        assert_eq!(
            (o.days, o.level, o.weight),
            (Some(0.0), SupplyLevel::Red, 3.0)
        );
    }

    #[test]
    fn with_no_donors_expected_the_factor_is_the_priors_worth() {
        let shortage = HashMap::from([(g("B+"), days(Some(3.0)))]);
        let e = explain(&[], &[0; 8], &shortage);
        let prior = GroupMix::default_mix();
        assert!(close(e.factor, 1.0 + prior.share(g("B+"))));
    }

    #[test]
    fn a_mix_serialises_as_a_map_of_groups() {
        let json = serde_json::to_value(GroupMix::default_mix()).unwrap();
        assert_eq!(json.as_object().unwrap().len(), 8);
        assert!(close(json["O+"].as_f64().unwrap(), 0.31 * 0.996));
    }
}
