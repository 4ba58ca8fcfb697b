//! [`Replica`]: everything one replica decides, in one pure state machine that the task drives
//! with what it read of its breaker and of Redis, and the times: what to publish, what to ask
//! of its breaker, when to ask for the lease, and what `/breaker` shows of the fleet.

use std::time::Duration;

use breaker::{Config, Reason, State, Transition};

use crate::config::FleetConfig;
use crate::evidence::{Evidence, Local};
use crate::policy::{self, Rules};
use crate::probe::{Command, LeaseAnswer, ProbeDesk};
use crate::roster::Roster;
use crate::status::FleetStatus;
use crate::store::{Board, split_lease};
use crate::view::{Garbage, PeerState, View};

/// One replica's decisions.
#[derive(Debug)]
pub(crate) struct Replica {
    id: String,
    rules: Rules,
    evidence: Evidence,
    roster: Roster,
    desk: ProbeDesk,
    max_replicas: u32,
    /// Whether this replica's breaker was Open at its last view.
    open: bool,
    status: FleetStatus,
}

/// What a heartbeat's reading asks for.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Decision {
    /// For the breaker.
    pub(crate) command: Option<Command>,
    /// Values under the fleet's keys that were ignored, by the id they were read under.
    pub(crate) garbage: Vec<(String, Garbage)>,
    /// More replicas are live than are read.
    pub(crate) capped: bool,
}

impl Replica {
    pub(crate) fn new(config: &FleetConfig, breaker: &Config) -> Self {
        let lead = config.redis_timeout * 2;
        Self {
            id: config.id.as_str().to_owned(),
            rules: Rules::of(breaker, config.failure_window, config.quorum),
            evidence: Evidence::default(),
            roster: Roster::new(config.max_replicas as usize * 2),
            desk: ProbeDesk::new(lead, config.probe_lease, config.heartbeat),
            max_replicas: config.max_replicas,
            open: false,
            status: FleetStatus {
                id: config.id.as_str().to_owned(),
                connected: false,
                replicas_live: 1,
                replicas_open: 0,
                quorum: config.quorum,
                probe_holder: None,
            },
        }
    }

    /// The view to publish, of `local` at monotonic `now_ms` and wall-clock `wall_ms`.
    pub(crate) fn view(&mut self, local: &Local, now_ms: u64, wall_ms: u64) -> View {
        let report = self.desk.report();
        self.open = local.state == State::Open;
        self.evidence.view(
            &self.id,
            local,
            report,
            self.rules.failure_window,
            now_ms,
            wall_ms,
        )
    }

    /// What the fleet's reading at one heartbeat asks of this replica: `me` is the view just
    /// published, `local` the breaker now.
    pub(crate) fn read(
        &mut self,
        me: &View,
        board: Board,
        local: &Local,
        now_ms: u64,
        wall_ms: u64,
    ) -> Decision {
        let (others, mut garbage) =
            self.roster
                .admit(&self.id, board.reads, wall_ms, board.redis_ms);
        garbage.extend(board.garbage);
        if board.replaced_live_key {
            garbage.push((
                "(live)".to_owned(),
                Garbage::Unreadable("the live set was not a sorted set; replaced".to_owned()),
            ));
        }
        let redis_us = board.redis_ms.saturating_mul(1_000);
        let command = self
            .desk
            .results(&others, local, self.rules.recovery_timeout, redis_us)
            .or_else(|| {
                (local.state == State::Closed)
                    .then(|| policy::judge(&self.rules, me, &others))
                    .flatten()
                    .map(|verdict| Command::Open {
                        lasting: verdict.lasting,
                        reason: Reason::Fleet(verdict.reason),
                    })
            });
        let live = others.len() as u64 + 1;
        self.status.connected = true;
        self.status.replicas_live = u32::try_from(live).unwrap_or(u32::MAX);
        self.status.replicas_open = u32::try_from(
            std::iter::once(me)
                .chain(&others)
                .filter(|view| view.state == PeerState::Open)
                .count(),
        )
        .unwrap_or(u32::MAX);
        self.status.probe_holder = match self.desk.held(now_ms) {
            Some(_) => Some(self.id.clone()),
            None => board
                .lease
                .as_deref()
                .and_then(split_lease)
                .map(|(_, holder)| holder.to_owned()),
        };
        Decision {
            command,
            garbage,
            capped: board.live > u64::from(self.max_replicas),
        }
    }

    /// Redis did not answer: the replica runs on its own breaker, and knows only itself.
    pub(crate) fn lost_redis(&mut self) {
        self.status.connected = false;
        self.status.replicas_live = 1;
        self.status.replicas_open = u32::from(self.open);
        self.status.probe_holder = None;
    }

    /// How long until the lease should be asked for.
    pub(crate) fn lease_due_in(&self, local: &Local, now_ms: u64) -> Option<Duration> {
        self.desk.due_in(local, now_ms)
    }

    /// The lease's time to live.
    pub(crate) fn lease_ttl(&self) -> Duration {
        self.desk.lease_ttl()
    }

    /// What the lease's answer asks of the breaker.
    pub(crate) fn leased(&mut self, answer: LeaseAnswer, now_ms: u64) -> Option<Command> {
        if let LeaseAnswer::Lost { holder, .. } = &answer {
            self.status.probe_holder = Some(holder.clone());
        } else {
            self.status.probe_holder = Some(self.id.clone());
        }
        self.desk.answered(answer, now_ms)
    }

    /// A transition of the breaker; returns the lease to release when it ended this replica's
    /// probe for the fleet.
    pub(crate) fn transition(&mut self, transition: &Transition, now_ms: u64) -> Option<String> {
        let released = self.desk.transition(transition, now_ms);
        if released.is_some() {
            self.status.probe_holder = None;
        }
        released
    }

    /// What `/breaker` shows.
    pub(crate) fn status(&self) -> &FleetStatus {
        &self.status
    }
}

#[cfg(test)]
mod tests;
