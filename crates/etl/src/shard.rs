//! Sharding: with `ETL_SHARDS=N`, series are split over N shards by their id, as Prometheus'
//! `hashmod` splits targets, and each shard has one leader at a time. This module is the pure
//! part: which shard a series is in, how many shards a replica should lead, and in which order
//! it should try to take them.

use std::fmt;

use common::{SeriesId, series::Labels};

/// One shard of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shard {
    /// Its index, `0..count`.
    pub index: u32,
    /// How many shards there are.
    pub count: u32,
}

impl Shard {
    /// The only shard when nothing is sharded.
    pub const WHOLE: Shard = Shard { index: 0, count: 1 };

    /// Every shard of `count`.
    pub fn all(count: u32) -> impl Iterator<Item = Shard> {
        (0..count.max(1)).map(move |index| Shard {
            index,
            count: count.max(1),
        })
    }

    /// Whether the series with `id` is in this shard.
    pub fn contains(self, id: SeriesId) -> bool {
        id.as_u64() % u64::from(self.count) == u64::from(self.index)
    }

    /// Whether the series `labels` is in this shard.
    pub fn holds(self, labels: &Labels) -> bool {
        self.count == 1 || self.contains(SeriesId::of(labels))
    }

    /// The shard's lease name, which includes the shard count so that replicas configured with
    /// different counts (during a rolling change) never share a lease.
    pub fn lease_name(self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

/// The shard as a metric label and a record header, e.g. `1/4`.
impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// How many shards one of `live` replicas should lead so that `shards` are spread evenly: the
/// ceiling of the share, so that every shard has a leader even when the division is uneven.
pub fn fair_share(shards: u32, live: usize) -> usize {
    let live = live.max(1);
    (shards as usize).div_ceil(live)
}

/// The order in which the replica ranked `rank` of `live` tries to take shards: starting at
/// its own stretch of the ring, so that replicas starting together mostly ask for different
/// shards instead of racing for shard 0.
pub fn preference(shards: u32, rank: usize, live: usize) -> impl Iterator<Item = Shard> {
    let count = shards.max(1);
    let start = (rank * count as usize / live.max(1)) as u32 % count;
    (0..count).map(move |offset| Shard {
        index: (start + offset) % count,
        count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_series_is_in_exactly_one_shard() {
        for count in [1, 2, 3, 4, 7] {
            for n in 0..200u32 {
                let labels: Labels = [
                    ("__name__".to_owned(), "up".to_owned()),
                    ("instance".to_owned(), format!("host-{n}")),
                ]
                .into();
                let owners = Shard::all(count)
                    .filter(|shard| shard.holds(&labels))
                    .count();
                assert_eq!(owners, 1, "count {count}, series {n}");
            }
        }
    }

    #[test]
    fn shards_split_series_roughly_evenly() {
        let count = 4;
        let mut sizes = [0usize; 4];
        for n in 0..10_000u32 {
            let labels: Labels = [("instance".to_owned(), format!("host-{n}"))].into();
            let shard = Shard::all(count)
                .find(|shard| shard.holds(&labels))
                .unwrap();
            sizes[shard.index as usize] += 1;
        }
        for size in sizes {
            assert!((2_300..=2_700).contains(&size), "{sizes:?}");
        }
    }

    #[test]
    fn the_fair_share_covers_every_shard() {
        assert_eq!(fair_share(1, 3), 1);
        assert_eq!(fair_share(2, 3), 1);
        assert_eq!(fair_share(4, 3), 2);
        assert_eq!(fair_share(4, 1), 4);
        assert_eq!(fair_share(4, 0), 4);
        for shards in 1..10u32 {
            for live in 1..10usize {
                assert!(fair_share(shards, live) * live >= shards as usize);
            }
        }
    }

    #[test]
    fn replicas_start_at_different_shards() {
        let firsts: Vec<u32> = (0..4)
            .map(|rank| preference(4, rank, 4).next().unwrap().index)
            .collect();
        assert_eq!(firsts, [0, 1, 2, 3]);
        let order: Vec<u32> = preference(4, 1, 2).map(|shard| shard.index).collect();
        assert_eq!(order, [2, 3, 0, 1]);
    }

    #[test]
    fn names_and_labels() {
        let shard = Shard { index: 1, count: 4 };
        assert_eq!(shard.lease_name(), "shard-1-of-4");
        assert_eq!(shard.to_string(), "1/4");
        assert!(Shard::WHOLE.holds(&Labels::new()));
    }
}
