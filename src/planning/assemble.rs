//! Building a plan instance from the registry's facts, pure: candidate sites, the villages'
//! surveys, the fleet and the request in, an [`Instance`] out. The API (`POST /api/v1/plans`)
//! and `donornet plan --export-instance` load those facts from the database and call
//! [`assemble`], so both give the same instance.
//!
//! **Attribution: one village, one site.** Two stops must never count the same people, so
//! each village counts toward one site only: the one nearest to it, among the candidate
//! sites *and* the active points that are not candidates (an active point outside the plan's
//! region still draws its own villages), provided it lies within the catchment. Ties go to
//! the smaller site id. A site's expected donors on a day are then
//! [`turnout::forecast`](crate::planning::turnout::forecast) over its own villages, uncapped
//! (the planner caps each stop by the vehicle's capacity, `min(expected, max_donors)`).
//! `GET /api/v1/forecast` applies the same rule against the active points, so a point's
//! forecast equals its expected donors in a plan whose candidates are the active points.
//!
//! What this module does not do: read the database, check who may plan, or validate the
//! request's fields (that is `crate::plans`); the instance it builds is checked by
//! [`Instance::validate`] like any other.

use chrono::NaiveDate;

use crate::geo::Wgs84Point;
use crate::geo::coverage::SiteIndex;
use crate::planning::calendar::MarketDays;
use crate::planning::instance::{
    FixedStop, ForbiddenStop, INSTANCE_FORMAT, Instance, Rules, Site, Station, Travel, Vehicle,
};
use crate::planning::turnout::{self, TurnoutParams, VillageSupply};

/// A place a vehicle could stop at: an active point (`point-12`), or a township or village
/// without one (`region-411102100000`).
#[derive(Clone, Debug, PartialEq)]
pub struct CandidateSite {
    pub id: String,
    pub name: String,
    pub location: Wgs84Point,
    pub market_days: Option<MarketDays>,
    /// The last drive there before the plan.
    pub last_visit: Option<NaiveDate>,
}

/// A host organisation as a candidate (a group drive, issue 16): its expected donors are its
/// own colleagues, the same on every day (the caller's estimate: the sign-up goal, or the
/// typical headcount times [`crate::domain::host::PARTICIPATION_SHARE`]). It draws no
/// villages and takes none from the other sites.
#[derive(Clone, Debug, PartialEq)]
pub struct HostSite {
    /// `host-3`.
    pub id: String,
    pub name: String,
    pub location: Wgs84Point,
    pub expected: f64,
    pub last_visit: Option<NaiveDate>,
}

/// A site that draws villages without being a candidate (an active point outside the plan).
#[derive(Clone, Debug, PartialEq)]
pub struct OtherSite {
    pub id: String,
    pub location: Wgs84Point,
}

/// Everything an instance is made of.
#[derive(Clone, Debug)]
pub struct Assembly {
    pub name: String,
    /// The plan's first and last day (inclusive) and the days no vehicle drives.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub blackout: Vec<NaiveDate>,
    pub stations: Vec<Station>,
    pub vehicles: Vec<Vehicle>,
    /// In the order the instance lists them.
    pub candidates: Vec<CandidateSite>,
    /// Host organisations that may hold a group drive (after the candidates in the instance).
    pub hosts: Vec<HostSite>,
    pub others: Vec<OtherSite>,
    pub villages: Vec<VillageSupply>,
    pub params: TurnoutParams,
    pub rules: Rules,
    pub travel: Travel,
    pub fixed: Vec<FixedStop>,
    pub forbidden: Vec<ForbiddenStop>,
}

/// The days from `from` to `to` (inclusive) without the blackout dates, ascending.
pub fn planning_days(from: NaiveDate, to: NaiveDate, blackout: &[NaiveDate]) -> Vec<NaiveDate> {
    from.iter_days()
        .take_while(|d| *d <= to)
        .filter(|d| !blackout.contains(d))
        .collect()
}

/// For each site (given as id and location), the indices of the villages it counts: each
/// village goes to its nearest site within `catchment_km` (ties to the smaller id); a village
/// with no site within the catchment counts nowhere.
pub fn attribute(
    sites: &[(&str, Wgs84Point)],
    villages: &[VillageSupply],
    catchment_km: f64,
) -> Vec<Vec<usize>> {
    let index = SiteIndex::new(sites.iter().map(|(_, p)| *p).collect());
    let mut out = vec![Vec::new(); sites.len()];
    for (v, village) in villages.iter().enumerate() {
        let nearest = index
            .within(village.location, catchment_km)
            .into_iter()
            .map(|s| (village.location.distance_km(sites[s].1), s))
            .min_by(|a, b| {
                a.0.total_cmp(&b.0)
                    .then_with(|| sites[a.1].0.cmp(sites[b.1].0))
            });
        if let Some((_, s)) = nearest {
            out[s].push(v);
        }
    }
    out
}

/// Builds the instance: the planning days, and each candidate's expected donors per day from
/// the villages attributed to it.
pub fn assemble(input: Assembly) -> Instance {
    let days = planning_days(input.from, input.to, &input.blackout);
    let places: Vec<(&str, Wgs84Point)> = input
        .candidates
        .iter()
        .map(|c| (c.id.as_str(), c.location))
        .chain(input.others.iter().map(|o| (o.id.as_str(), o.location)))
        .collect();
    let shares = attribute(&places, &input.villages, input.params.catchment_km);
    let hosts = input.hosts.iter().map(|h| Site {
        id: h.id.clone(),
        name: h.name.clone(),
        lon: h.location.lon(),
        lat: h.location.lat(),
        expected: vec![h.expected; days.len()],
        last_visit: h.last_visit,
        value: None,
        extra_service_min: None,
    });
    let sites = input
        .candidates
        .iter()
        .zip(&shares)
        .map(|(c, share)| {
            let own: Vec<VillageSupply> =
                share.iter().map(|&v| input.villages[v].clone()).collect();
            let site = turnout::Site {
                location: c.location,
                market_days: c.market_days,
            };
            Site {
                id: c.id.clone(),
                name: c.name.clone(),
                lon: c.location.lon(),
                lat: c.location.lat(),
                expected: days
                    .iter()
                    .map(|d| turnout::forecast(&site, *d, &own, &input.params, None).total)
                    .collect(),
                last_visit: c.last_visit,
                value: None,
                extra_service_min: None,
            }
        })
        .chain(hosts)
        .collect();
    Instance {
        format: INSTANCE_FORMAT.to_owned(),
        name: input.name,
        days,
        stations: input.stations,
        vehicles: input.vehicles,
        sites,
        travel: input.travel,
        rules: input.rules,
        fixed: input.fixed,
        forbidden: input.forbidden,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn village(code: &str, lon: f64, lat: f64, resident: f64) -> VillageSupply {
        VillageSupply {
            code: code.to_owned(),
            name: code.to_owned(),
            location: Wgs84Point::stored(lon, lat),
            resident_eligible: resident,
            away_for_work: 0.0,
            recent_donors: 0.0,
        }
    }

    fn candidate(id: &str, lon: f64, lat: f64, market: Option<&str>) -> CandidateSite {
        CandidateSite {
            id: id.to_owned(),
            name: id.to_owned(),
            location: Wgs84Point::stored(lon, lat),
            market_days: market.map(|m| m.parse().unwrap()),
            last_visit: None,
        }
    }

    fn assembly(candidates: Vec<CandidateSite>, villages: Vec<VillageSupply>) -> Assembly {
        Assembly {
            name: "test".to_owned(),
            from: date(2026, 6, 8),
            to: date(2026, 6, 12),
            blackout: vec![],
            stations: vec![Station {
                id: "station-1".to_owned(),
                name: String::new(),
                lon: 114.0,
                lat: 33.5,
            }],
            vehicles: vec![],
            candidates,
            hosts: vec![],
            others: vec![],
            villages,
            params: TurnoutParams::default(),
            rules: Rules::default(),
            travel: Travel::default(),
            fixed: vec![],
            forbidden: vec![],
        }
    }

    fn approx(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-9, "{a} != {b}");
    }

    #[test]
    fn blackout_days_are_removed_and_the_range_is_inclusive() {
        let days = planning_days(
            date(2026, 12, 1),
            date(2026, 12, 5),
            &[date(2026, 12, 2), date(2026, 12, 4), date(2026, 12, 30)],
        );
        assert_eq!(
            days,
            [date(2026, 12, 1), date(2026, 12, 3), date(2026, 12, 5)]
        );
        assert_eq!(
            planning_days(date(2026, 12, 1), date(2026, 12, 1), &[]),
            [date(2026, 12, 1)]
        );
        let mut input = assembly(vec![candidate("a", 114.0, 33.6, None)], vec![]);
        input.blackout = vec![date(2026, 6, 9)];
        let instance = assemble(input);
        assert_eq!(
            instance.days,
            [
                date(2026, 6, 8),
                date(2026, 6, 10),
                date(2026, 6, 11),
                date(2026, 6, 12)
            ]
        );
        assert_eq!(instance.sites[0].expected, [0.0; 4]);
    }

    #[test]
    fn each_village_counts_toward_its_nearest_site_only() {
        // Sites A (114.00) and B (114.05) on one parallel, 4.6 km apart. Village 1 at A;
        // village 2 at 114.02 (nearer A: 1.86 km against 2.79 km); village 3 at B; village 4 at
        // 114.20, 13.9 km from B: beyond the 10 km catchment of both.
        let a = candidate("point-1", 114.00, 33.6, None);
        let b = candidate("point-2", 114.05, 33.6, None);
        let villages = vec![
            village("v1", 114.00, 33.6, 1000.0),
            village("v2", 114.02, 33.6, 500.0),
            village("v3", 114.05, 33.6, 2000.0),
            village("v4", 114.20, 33.6, 9000.0),
        ];
        let places = [("point-1", a.location), ("point-2", b.location)];
        assert_eq!(
            attribute(&places, &villages, 10.0),
            vec![vec![0, 1], vec![2]]
        );
        let instance = assemble(assembly(vec![a.clone(), b.clone()], villages.clone()));
        // 2026-06-08 is a Monday, outside the festival window: presence 0.1, factor 1; no one
        // is away, so available = resident.
        let d2 = Wgs84Point::stored(114.0, 33.6).distance_km(Wgs84Point::stored(114.02, 33.6));
        assert!((d2 - 1.855).abs() < 0.01, "{d2}");
        approx(
            instance.sites[0].expected[0],
            1000.0 * 0.006 + 500.0 * 0.006 * (-d2 / 3.0).exp(),
        );
        // B counts only its own village, not v2 (nearer A) nor v1.
        approx(instance.sites[1].expected[0], 2000.0 * 0.006);

        // Without A as a candidate but with A as another active point, B still does not count
        // A's villages; with A gone altogether, B counts them.
        let mut input = assembly(vec![b.clone()], villages.clone());
        input.others = vec![OtherSite {
            id: "point-1".to_owned(),
            location: a.location,
        }];
        approx(assemble(input).sites[0].expected[0], 2000.0 * 0.006);
        let alone = assemble(assembly(vec![b.clone()], villages.clone()));
        let from_b =
            |lon: f64| Wgs84Point::stored(114.05, 33.6).distance_km(Wgs84Point::stored(lon, 33.6));
        approx(
            alone.sites[0].expected[0],
            2000.0 * 0.006
                + 1000.0 * 0.006 * (-from_b(114.0) / 3.0).exp()
                + 500.0 * 0.006 * (-from_b(114.02) / 3.0).exp(),
        );

        // A tie goes to the smaller id, whichever comes first.
        let tied = [("point-9", a.location), ("point-10", a.location)];
        assert_eq!(
            attribute(&tied, &villages[..1], 10.0),
            vec![vec![], vec![0]]
        );
    }

    #[test]
    fn market_days_and_weekends_show_in_expected() {
        // 2026-06-12 (Friday) is lunar 4/27, 2026-06-13 (Saturday) lunar 4/28, 2026-06-15
        // (Monday) lunar 5/1: with markets on days ending in 7 and 1, the Friday and the Monday
        // are market days.
        use crate::planning::calendar::lunar_day;
        assert_eq!(lunar_day(date(2026, 6, 12)), Some(27));
        assert_eq!(lunar_day(date(2026, 6, 15)), Some(1));
        let mut input = assembly(
            vec![
                candidate("market", 114.0, 33.6, Some("1,7")),
                candidate("plain", 114.5, 33.6, None),
            ],
            vec![
                village("m", 114.0, 33.6, 1000.0),
                village("p", 114.5, 33.6, 1000.0),
            ],
        );
        input.from = date(2026, 6, 11);
        input.to = date(2026, 6, 15);
        let instance = assemble(input);
        let base = 1000.0 * 0.006;
        let market = &instance.sites[0].expected;
        let plain = &instance.sites[1].expected;
        // Thu, Fri (market), Sat (weekend), Sun (weekend), Mon (market).
        for (got, want) in market
            .iter()
            .zip([base, base * 1.3, base * 1.2, base * 1.2, base * 1.3])
        {
            approx(*got, want);
        }
        for (got, want) in plain.iter().zip([base, base, base * 1.2, base * 1.2, base]) {
            approx(*got, want);
        }
    }
}
