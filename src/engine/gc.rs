//! Garbage collection of unit records (systemd's `unit_gc_sweep`).
//!
//! A unit may be collected when it is inactive (or failed with `CollectMode=inactive-or-failed`),
//! has no job, no client references (`Ref()`/`AddRef`), no live processes, no pending timer and
//! is not pinned by the caller. Every dependency a unit names keeps the named unit alive (systemd
//! adds a `References`/`ReferencedBy` pair for each dependency, ordering included), so the units
//! kept are those reachable over forward edges from a unit that cannot be collected.
//!
//! Removal keeps ids stable: the record stays in the table as a tombstone (name freed, edges,
//! PIDs and timers dropped, load data reduced to a stub), so ids handed out earlier never point
//! at another unit. A later request for the same name creates a fresh record with a new id.

use std::collections::VecDeque;

use super::*;
use crate::spec::{LoadState, LoadedUnit, UnitName, UnitSpec};

impl Engine {
    /// Whether `u` on its own allows collecting it (ignoring what references it).
    fn may_gc(u: &Unit) -> bool {
        let state_ok = match u.active_state {
            ActiveState::Inactive => true,
            ActiveState::Failed => u.loaded.spec.collect_inactive_or_failed,
            _ => false,
        };
        let s = &u.service;
        state_ok
            && u.job.is_none()
            && u.refs == 0
            && s.main_pid.is_none()
            && s.control_pid.is_none()
            && s.pending.is_none()
            && s.others_remaining == 0
            && s.timer.is_none()
    }

    /// Whether anything happened since the last collection that may make a unit collectable
    /// (a state or job change, a reference dropped, a unit loaded).
    pub fn gc_pending(&self) -> bool {
        self.gc_pending
    }

    /// Remove every unit that nothing keeps (see the module docs). `pinned` names units the
    /// caller keeps regardless (for unitd: units with a file in the search path and built-in
    /// units, which `list-units --all` shows). Emits `UnitChanged` for pending changes first,
    /// then one `UnitRemoved` per removed unit. Returns the removed units' names.
    pub fn collect_garbage(
        &mut self,
        now: Timestamp,
        pinned: impl Fn(&Unit) -> bool,
    ) -> Vec<String> {
        self.now = now;
        self.flush_dirty();
        self.gc_pending = false;
        let n = self.units.len();
        let mut keep = vec![false; n];
        let mut queue = VecDeque::new();
        for u in &self.units {
            if u.merged_into.is_some() || u.removed {
                continue;
            }
            // A record still being loaded is never collected under the loader's feet.
            if u.loaded.load_state == LoadState::Stub || !Self::may_gc(u) || pinned(u) {
                keep[u.id.0 as usize] = true;
                queue.push_back(u.id);
            }
        }
        while let Some(id) = queue.pop_front() {
            for (edge, other) in &self.u(id).edges {
                if let DepEdge::Forward(_) = edge {
                    let o = self.resolve(*other).0 as usize;
                    if !keep[o] {
                        keep[o] = true;
                        queue.push_back(UnitId(o as u32));
                    }
                }
            }
        }
        let doomed: Vec<UnitId> = self
            .units
            .iter()
            .filter(|u| u.merged_into.is_none() && !u.removed && !keep[u.id.0 as usize])
            .map(|u| u.id)
            .collect();
        let mut removed = Vec::with_capacity(doomed.len());
        for id in doomed {
            removed.push(self.remove_unit(id));
        }
        removed
    }

    /// Turn `id` into a tombstone and announce `UnitRemoved`. Returns its name.
    fn remove_unit(&mut self, id: UnitId) -> String {
        let name = self.u(id).name().to_owned();
        // Edges: drop the mirror entries on the other side.
        for (edge, other) in std::mem::take(&mut self.um(id).edges) {
            let mirror = match edge {
                DepEdge::Forward(k) => (DepEdge::Reverse(k), id),
                DepEdge::Reverse(k) => (DepEdge::Forward(k), id),
            };
            if other != id {
                self.um(other).edges.retain(|e| *e != mirror);
            }
        }
        // Names (primary, aliases, names of records merged into this one).
        let stale: Vec<String> = self
            .names
            .iter()
            .filter(|(_, v)| self.resolve(**v) == id)
            .map(|(k, _)| k.clone())
            .collect();
        for k in stale {
            if let Some(old) = self.names.remove(&k)
                && old != id
            {
                self.um(old).removed = true;
            }
        }
        self.pids.retain(|_, u| *u != id);
        self.disarm_timer(id);
        self.dirty.retain(|d| *d != id);
        // The smallest spec there is (a target's: no boxed type settings); only the name of a
        // tombstone is ever read.
        let stub_spec = UnitSpec::default_for(&UnitName::new("tombstone.target").expect("valid"));
        let mut tomb = Unit::new(
            id,
            LoadedUnit {
                name: name.clone(),
                aliases: Vec::new(),
                load_state: LoadState::Stub,
                load_error: None,
                fragment_path: None,
                dropin_paths: Vec::new(),
                diagnostics: Vec::new(),
                spec: stub_spec,
            },
        );
        tomb.removed = true;
        *self.um(id) = tomb;
        self.changes.push_back(Change::UnitRemoved {
            unit: id,
            name: name.clone(),
        });
        name
    }
}
