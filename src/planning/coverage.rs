//! Where new donation points would reach the most uncovered donors: greedy maximum coverage
//! with lazy evaluation.
//!
//! Each candidate site covers the demands (uncovered villages, weighted by eligible donors)
//! within the radius. Greedy picks, K times, the candidate whose *still uncovered* weight is
//! largest; this is the classic (1 - 1/e)-approximation for maximum coverage. Lazy
//! evaluation keeps every candidate in a max-heap under its last computed gain: gains only
//! fall as demands get covered, so a popped candidate whose recomputed gain still tops the
//! heap is the true best, and most candidates are never recomputed.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use crate::geo::Wgs84Point;
use crate::geo::coverage::SiteIndex;

/// A place to cover and how much covering it is worth.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Demand {
    pub location: Wgs84Point,
    pub weight: f64,
}

/// One pick of the greedy.
#[derive(Clone, Debug, PartialEq)]
pub struct Pick {
    /// Index into the candidates.
    pub candidate: usize,
    /// Weight newly covered by this pick.
    pub gain: f64,
    /// Indices of the demands newly covered, ascending.
    pub covers: Vec<usize>,
}

/// A heap entry: the last known gain of a candidate, and the round it was computed in.
#[derive(Clone, Copy, Debug)]
struct Entry {
    gain: f64,
    candidate: usize,
    round: usize,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    /// Larger gain first; among equal gains the lower candidate index, so that results do not
    /// depend on the heap's internals.
    fn cmp(&self, other: &Self) -> Ordering {
        self.gain
            .total_cmp(&other.gain)
            .then_with(|| other.candidate.cmp(&self.candidate))
    }
}

/// Up to `k` picks among `candidates`, each covering the demands within `radius_km`. Stops
/// early when no candidate adds anything. Deterministic: ties go to the lower candidate index.
pub fn greedy_max_coverage(
    demands: &[Demand],
    candidates: &[Wgs84Point],
    radius_km: f64,
    k: usize,
) -> Vec<Pick> {
    let index = SiteIndex::new(demands.iter().map(|d| d.location).collect());
    let reach: Vec<Vec<usize>> = candidates
        .iter()
        .map(|c| index.within(*c, radius_km))
        .collect();
    let mut covered = vec![false; demands.len()];
    let gain_of = |candidate: usize, covered: &[bool]| -> f64 {
        reach[candidate]
            .iter()
            .filter(|d| !covered[**d])
            .map(|d| demands[*d].weight)
            .sum()
    };
    let mut heap: BinaryHeap<Entry> = (0..candidates.len())
        .map(|candidate| Entry {
            gain: gain_of(candidate, &covered),
            candidate,
            round: 0,
        })
        .collect();
    let mut picks = Vec::new();
    while picks.len() < k {
        let Some(top) = heap.pop() else { break };
        if top.gain <= 0.0 {
            break;
        }
        let round = picks.len();
        if top.round != round {
            // Stale: recompute and put back; it is picked when it tops the heap while fresh.
            heap.push(Entry {
                gain: gain_of(top.candidate, &covered),
                round,
                ..top
            });
            continue;
        }
        let covers: Vec<usize> = reach[top.candidate]
            .iter()
            .copied()
            .filter(|d| !covered[*d])
            .collect();
        for d in &covers {
            covered[*d] = true;
        }
        picks.push(Pick {
            candidate: top.candidate,
            gain: top.gain,
            covers,
        });
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain greedy, recomputing every gain each round: what the lazy one must equal.
    fn plain_greedy(
        demands: &[Demand],
        candidates: &[Wgs84Point],
        radius: f64,
        k: usize,
    ) -> Vec<(usize, f64)> {
        let mut covered = vec![false; demands.len()];
        let mut out = Vec::new();
        for _ in 0..k {
            let mut best: Option<(usize, f64)> = None;
            for (c, place) in candidates.iter().enumerate() {
                let gain: f64 = demands
                    .iter()
                    .enumerate()
                    .filter(|(i, d)| !covered[*i] && place.distance_km(d.location) <= radius)
                    .map(|(_, d)| d.weight)
                    .sum();
                if gain > 0.0 && best.is_none_or(|(_, g)| gain > g) {
                    best = Some((c, gain));
                }
            }
            let Some((c, gain)) = best else { break };
            for (i, d) in demands.iter().enumerate() {
                if candidates[c].distance_km(d.location) <= radius {
                    covered[i] = true;
                }
            }
            out.push((c, gain));
        }
        out
    }

    /// A small deterministic generator (no randomness crate needed for a test).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    #[test]
    fn lazy_greedy_equals_the_plain_greedy() {
        for seed in 1..=30 {
            let mut rng = Lcg(seed);
            let mut place =
                || Wgs84Point::stored(114.0 + rng.next() * 0.3, 33.5 + rng.next() * 0.3);
            let demands: Vec<Demand> = (0..60)
                .map(|_| Demand {
                    location: place(),
                    weight: 0.0,
                })
                .collect();
            let mut rng = Lcg(seed * 7919);
            let demands: Vec<Demand> = demands
                .into_iter()
                .map(|d| Demand {
                    // Whole numbers, so that no two different sums tie by rounding.
                    weight: (rng.next() * 1000.0).floor() + 1.0,
                    ..d
                })
                .collect();
            let candidates: Vec<Wgs84Point> = demands.iter().map(|d| d.location).take(40).collect();
            let lazy = greedy_max_coverage(&demands, &candidates, 4.0, 8);
            let plain = plain_greedy(&demands, &candidates, 4.0, 8);
            let lazy_pairs: Vec<(usize, f64)> =
                lazy.iter().map(|p| (p.candidate, p.gain)).collect();
            assert_eq!(lazy_pairs, plain, "seed {seed}");
            // Gains never grow, and add up to the weight covered.
            assert!(lazy.windows(2).all(|w| w[0].gain >= w[1].gain));
            for pick in &lazy {
                let sum: f64 = pick.covers.iter().map(|d| demands[*d].weight).sum();
                assert_eq!(sum, pick.gain);
            }
        }
    }

    #[test]
    fn it_stops_when_nothing_is_left_to_cover() {
        let here = Wgs84Point::stored(114.0, 33.6);
        let demands = [Demand {
            location: here,
            weight: 5.0,
        }];
        let picks = greedy_max_coverage(&demands, &[here, here], 1.0, 3);
        assert_eq!(picks.len(), 1);
        assert_eq!(picks[0].candidate, 0, "ties go to the lower index");
        assert_eq!(picks[0].covers, [0]);
        assert!(greedy_max_coverage(&[], &[here], 1.0, 3).is_empty());
    }
}
