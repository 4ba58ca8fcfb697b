//! [`FleetStatus`]: what a replica shows of its fleet, in `/breaker`, `/metrics` and the
//! dashboard.

use serde::Serialize;

/// What this replica knows of its fleet now.
///
/// ```json
/// {"id":"a-1:5000","connected":true,"replicas_live":5,"replicas_open":0,"quorum":1,"probe_holder":null}
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FleetStatus {
    /// This replica's id.
    pub id: String,
    /// Whether the last Redis operation succeeded: while it has not, the replica runs on its
    /// own breaker.
    pub connected: bool,
    /// Live replicas, this one included (1 while disconnected).
    pub replicas_live: u32,
    /// Live replicas whose circuit is Open, this one included, whatever opened it.
    pub replicas_open: u32,
    /// Distinct replicas whose evidence, or whose Open circuits, it takes to open the others.
    pub quorum: u32,
    /// The replica that holds the lease of the fleet's one probe, if one does.
    pub probe_holder: Option<String>,
}
