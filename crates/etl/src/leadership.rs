//! Leader election among etl replicas: every third of the lease's TTL, each replica renews its
//! heartbeat and the leases it holds, gives up shards beyond its fair share of the live
//! replicas, and takes free ones up to it. A shard it holds runs its fast and slow loops; a
//! shard it loses stops them (and its records stop at the lease's tenure in any case).
//!
//! A standby therefore takes a dead leader's shard within the TTL plus one tick; a leader that
//! stops cleanly releases its leases so that takeover is immediate.

use std::{collections::BTreeMap, sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::{
    fast_loop::FastLoop,
    instruments::Instruments,
    lease::{Lease, LeaseStore},
    schedule::{Cycle, run_slots},
    shard::{Shard, fair_share, preference},
    slow_loop::SlowLoop,
};

/// The two loops a shard runs, and their periods.
#[derive(Debug, Clone)]
pub struct Loops {
    /// The fast loop.
    pub fast: Arc<FastLoop>,
    /// The slow loop.
    pub slow: Arc<SlowLoop>,
    /// Its period.
    pub fast_period: Duration,
    /// Its period.
    pub slow_period: Duration,
    /// The metrics.
    pub instruments: Instruments,
}

/// The slots each loop of a shard last completed, as the journal says.
#[derive(Debug, Clone, Copy, Default)]
pub struct LastSlots {
    /// The fast loop's.
    pub fast: Option<DateTime<Utc>>,
    /// The slow loop's.
    pub slow: Option<DateTime<Utc>>,
}

impl Loops {
    /// Runs both loops of `lease`'s shard in `tasks` until `token` is cancelled or the lease's
    /// tenure ends, journaling cycles in `journal` when there is one.
    pub fn spawn(
        &self,
        tasks: &mut JoinSet<()>,
        lease: &Lease,
        last: LastSlots,
        journal: Option<LeaseStore>,
        token: &CancellationToken,
    ) {
        tasks.spawn(run_slots(
            self.fast.clone(),
            lease.clone(),
            self.fast_period,
            last.fast,
            journal.clone(),
            self.instruments.clone(),
            token.clone(),
        ));
        tasks.spawn(run_slots(
            self.slow.clone(),
            lease.clone(),
            self.slow_period,
            last.slow,
            journal,
            self.instruments.clone(),
            token.clone(),
        ));
    }
}

/// A shard this replica leads.
#[derive(Debug)]
struct Held {
    lease: Lease,
    /// Stops the shard's loops.
    token: CancellationToken,
}

/// Takes, keeps and gives up shard leases, and runs the loops of the shards it holds.
#[derive(Debug)]
pub struct Coordinator {
    store: LeaseStore,
    shards: u32,
    loops: Loops,
    held: BTreeMap<Shard, Held>,
    tasks: JoinSet<()>,
}

impl Coordinator {
    /// A coordinator of `shards` shards through `store`.
    pub fn new(store: LeaseStore, shards: u32, loops: Loops) -> Self {
        // Every shard's series from the start, so that a shard nobody leads shows as 0 rather
        // than as nothing.
        for shard in Shard::all(shards) {
            let label = shard.to_string();
            loops
                .instruments
                .shard_leader
                .with_label_values(&[&label])
                .set(0);
        }
        Self {
            store,
            shards: shards.max(1),
            loops,
            held: BTreeMap::new(),
            tasks: JoinSet::new(),
        }
    }

    /// Coordinates until `token` is cancelled, then stops the loops and releases every lease.
    pub async fn run(mut self, token: CancellationToken) {
        let mut ticks = tokio::time::interval(self.store.ttl() / 3);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        if let Err(error) = self.store.ensure_indexes().await {
            tracing::warn!(%error, "cannot create the cycle journal's index yet");
        }
        loop {
            tokio::select! {
                _ = token.cancelled() => break,
                _ = ticks.tick() => self.tick(&token).await,
            }
            while self.tasks.try_join_next().is_some() {}
        }
        self.stop().await;
    }

    /// One round: renewals first (they keep the tenures), then the heartbeat and rebalancing.
    #[tracing::instrument(name = "leadership_tick", skip_all, fields(replica = %self.store.replica()))]
    async fn tick(&mut self, token: &CancellationToken) {
        self.renew_all().await;
        let live = match self.store.heartbeat().await {
            Ok(live) => live,
            Err(error) => {
                tracing::warn!(%error, "cannot renew the heartbeat");
                Vec::new()
            }
        };
        if live.is_empty() {
            // Without the database, keep what is held until its tenure ends; take nothing.
            return;
        }
        self.loops.instruments.replicas_live.set(live.len() as i64);
        let me = self.store.replica().as_ref();
        let rank = live.iter().position(|id| id == me).unwrap_or(live.len());
        let replicas = live.len().max(rank + 1);
        let share = fair_share(self.shards, replicas);
        // A mutation run of reliability/ (feature `fault-injection`, FAULT_ETL_DOUBLE_LEADER=1):
        // every replica wants every shard.
        #[cfg(feature = "fault-injection")]
        let share = if common::fault::etl_double_leader() {
            self.shards as usize
        } else {
            share
        };
        while self.held.len() > share {
            let Some((&shard, _)) = self.held.last_key_value() else {
                break;
            };
            self.give_up(shard, "released").await;
        }
        for shard in preference(self.shards, rank, replicas) {
            if self.held.len() >= share {
                break;
            }
            if !self.held.contains_key(&shard) {
                self.try_take(shard, token).await;
            }
        }
    }

    /// Renews every held lease; drops those lost, or whose tenure ran out while the database
    /// did not answer (the next tick checks again).
    async fn renew_all(&mut self) {
        let shards: Vec<Shard> = self.held.keys().copied().collect();
        for shard in shards {
            let Some(held) = self.held.get(&shard) else {
                continue;
            };
            // A tenure that ran out has stopped the shard's loops: start afresh in a new term.
            if !held.lease.tenure.is_valid() {
                self.give_up(shard, "lost").await;
                continue;
            }
            let kept = match self.store.renew(&held.lease).await {
                Ok(renewed) => renewed,
                Err(error) => {
                    tracing::warn!(%shard, %error, "cannot renew the lease");
                    true
                }
            };
            if !kept {
                self.give_up(shard, "lost").await;
            }
        }
    }

    /// Takes `shard` when it is free, and starts its loops where the journal says the last
    /// leader stopped.
    async fn try_take(&mut self, shard: Shard, token: &CancellationToken) {
        let lease = match self.store.acquire(shard).await {
            Ok(Some(lease)) => lease,
            Ok(None) => return,
            Err(error) => {
                tracing::warn!(%shard, %error, "cannot take the lease");
                return;
            }
        };
        let last = LastSlots {
            fast: self.last_slot(FastLoop::NAME, shard).await,
            slow: self.last_slot(SlowLoop::NAME, shard).await,
        };
        let label = shard.to_string();
        let instruments = &self.loops.instruments;
        instruments.shard_leader.with_label_values(&[&label]).set(1);
        instruments
            .lease_changes
            .with_label_values(&[&label, "acquired"])
            .inc();
        tracing::info!(%shard, term = lease.term, last_fast = ?last.fast, last_slow = ?last.slow, "leading the shard");
        let shard_token = token.child_token();
        self.loops.spawn(
            &mut self.tasks,
            &lease,
            last,
            Some(self.store.clone()),
            &shard_token,
        );
        self.held.insert(
            shard,
            Held {
                lease,
                token: shard_token,
            },
        );
    }

    /// The journal's last slot of a loop; none when the journal cannot be read (the loop then
    /// runs the current slot, which at worst repeats a cycle's records, and records are
    /// idempotent upserts).
    async fn last_slot(&self, loop_name: &str, shard: Shard) -> Option<DateTime<Utc>> {
        self.store
            .last_slot(loop_name, shard)
            .await
            .unwrap_or_else(|error| {
                tracing::warn!(%shard, %error, "cannot read the cycle journal");
                None
            })
    }

    /// Stops `shard`'s loops and gives its lease back; `change` says why: `released` (rebalance,
    /// shutdown) or `lost` (taken by another, or the tenure lapsed).
    async fn give_up(&mut self, shard: Shard, change: &'static str) {
        let Some(held) = self.held.remove(&shard) else {
            return;
        };
        held.token.cancel();
        held.lease.tenure.revoke();
        // Also when lost: a no-op if another replica holds it, an earlier takeover if the tenure
        // merely lapsed.
        if let Err(error) = self.store.release(&held.lease).await {
            tracing::warn!(%shard, %error, "cannot release the lease; it will expire");
        }
        let label = shard.to_string();
        let instruments = &self.loops.instruments;
        instruments.shard_leader.with_label_values(&[&label]).set(0);
        instruments
            .lease_changes
            .with_label_values(&[&label, change])
            .inc();
        tracing::warn!(%shard, term = held.lease.term, change, "no longer leading the shard");
    }

    /// At shutdown: stops every loop, releases every lease and leaves, so that the standbys
    /// take over at once.
    async fn stop(&mut self) {
        let shards: Vec<Shard> = self.held.keys().copied().collect();
        for shard in shards {
            self.give_up(shard, "released").await;
        }
        self.tasks.shutdown().await;
        if let Err(error) = self.store.leave().await {
            tracing::warn!(%error, "cannot remove the heartbeat; it will expire");
        }
    }
}
