//! Transactions: expanding a requested job over dependencies (systemd's
//! `transaction_add_job_and_dependencies`), merging with installed jobs, ordering-cycle
//! detection and installation.

use std::collections::HashMap;

use super::*;
use crate::spec::{DepKind, LoadState};

/// One job of a transaction under construction.
#[derive(Debug, Clone)]
struct TxJob {
    job_type: JobType,
    /// Pulled in by a requirement (failure to add it fails the transaction).
    matters: bool,
    anchor: bool,
}

/// Result of merging two job types (systemd's `job_type_merge_and_collapse`).
pub(crate) fn merge_types(a: JobType, b: JobType) -> Option<JobType> {
    use JobType::*;
    if a == b {
        return Some(a);
    }
    let pair = |x, y| (a == x && b == y) || (a == y && b == x);
    if pair(Start, VerifyActive) {
        Some(Start)
    } else if pair(Start, Reload) || pair(Start, ReloadOrStart) || pair(Reload, ReloadOrStart) {
        Some(ReloadOrStart)
    } else if pair(Start, Restart) || pair(VerifyActive, Restart) || pair(Reload, Restart) {
        Some(Restart)
    } else if pair(VerifyActive, Reload) {
        Some(Reload)
    } else if pair(ReloadOrStart, Restart) {
        Some(Restart)
    } else if pair(VerifyActive, ReloadOrStart) {
        Some(ReloadOrStart)
    } else if a == Nop {
        Some(b)
    } else if b == Nop {
        Some(a)
    } else {
        None
    }
}

impl Engine {
    /// Collapse the "try"/"or" job types against the unit's current state.
    fn collapse(&self, unit: UnitId, t: JobType) -> JobType {
        let st = self.u(unit).active_state;
        let down = st.is_inactive_or_failed() || st == ActiveState::Deactivating;
        match t {
            JobType::TryRestart => {
                if down {
                    JobType::Nop
                } else {
                    JobType::Restart
                }
            }
            JobType::TryReload => {
                if down {
                    JobType::Nop
                } else {
                    JobType::Reload
                }
            }
            JobType::ReloadOrStart => {
                if down {
                    JobType::Start
                } else {
                    JobType::Reload
                }
            }
            other => other,
        }
    }

    /// systemd's `bus_unit_validate_load_state`: may a job other than stop run on this unit?
    pub(crate) fn validate_load_state(&self, unit: UnitId) -> Result<(), EnqueueError> {
        let u = self.u(unit);
        let name = u.name();
        match u.loaded.load_state {
            LoadState::Loaded => Ok(()),
            LoadState::NotFound | LoadState::Stub => {
                Err(EnqueueError::NoSuchUnit(format!("Unit {name} not found.")))
            }
            LoadState::Error => Err(EnqueueError::LoadFailed(format!(
                "Unit {name} failed to load properly, please adjust/correct and reload service manager: {}",
                u.loaded
                    .load_error
                    .as_ref()
                    .map(|(_, m)| m.as_str())
                    .unwrap_or("Invalid argument")
            ))),
            LoadState::BadSetting => Err(EnqueueError::BadUnitSetting(format!(
                "Unit {name} has a bad unit file setting."
            ))),
            LoadState::Masked => Err(EnqueueError::UnitMasked(format!("Unit {name} is masked."))),
        }
    }

    fn job_applicable(&self, unit: UnitId, t: JobType) -> bool {
        match t {
            JobType::Reload | JobType::TryReload => self.can_reload(unit),
            _ => true,
        }
    }

    /// Build, check and install a transaction anchored at (`unit`, `job_type`).
    pub(crate) fn enqueue_internal(
        &mut self,
        unit: UnitId,
        job_type: JobType,
        mode: JobMode,
        manual: bool,
    ) -> Result<JobId, EnqueueError> {
        let u = self.u(unit);
        let name = u.name().to_owned();
        if mode == JobMode::Isolate && job_type != JobType::Start {
            return Err(EnqueueError::InvalidArgs(
                "Isolate is only valid for start.".into(),
            ));
        }
        if mode == JobMode::Isolate && !u.loaded.spec.allow_isolate {
            return Err(EnqueueError::NoIsolation(
                "Operation refused, unit may not be isolated.".into(),
            ));
        }
        if job_type == JobType::Stop
            && matches!(
                u.loaded.load_state,
                LoadState::NotFound | LoadState::Error | LoadState::BadSetting | LoadState::Stub
            )
            && u.active_state == ActiveState::Inactive
        {
            return Err(EnqueueError::NoSuchUnit(format!("Unit {name} not loaded.")));
        }
        if manual {
            let spec = &u.loaded.spec;
            let refused = match job_type {
                JobType::Start | JobType::ReloadOrStart => spec.refuse_manual_start,
                JobType::Stop => spec.refuse_manual_stop,
                JobType::Restart | JobType::TryRestart => {
                    spec.refuse_manual_start || spec.refuse_manual_stop
                }
                _ => false,
            };
            if refused {
                return Err(EnqueueError::OnlyByDependency(format!(
                    "Operation refused, unit {name} may be requested by dependency only (it is configured to refuse manual start/stop)."
                )));
            }
        }

        let mut tx: HashMap<UnitId, TxJob> = HashMap::new();
        let mut order: Vec<UnitId> = Vec::new();
        self.tx_add(&mut tx, &mut order, unit, job_type, true, true, mode)?;

        // Ordering cycles among the transaction's jobs: drop non-essential jobs to break them.
        if mode != JobMode::IgnoreDependencies {
            while let Some(cycle) = self.find_cycle(&tx, &order) {
                let victim = cycle
                    .iter()
                    .copied()
                    .find(|id| !tx[id].matters && !tx[id].anchor);
                let names: Vec<&str> = cycle.iter().map(|id| self.u(*id).name()).collect();
                match victim {
                    Some(v) => {
                        tracing::warn!(
                            "Found ordering cycle: {}; deleting job {}/{}",
                            names.join(" -> "),
                            self.u(v).name(),
                            tx[&v].job_type.as_str()
                        );
                        tx.remove(&v);
                        order.retain(|x| *x != v);
                    }
                    None => {
                        tracing::error!("Found unbreakable ordering cycle: {}", names.join(" -> "));
                        return Err(EnqueueError::TransactionOrderIsCyclic(
                            "Transaction order is cyclic. See system logs for details.".into(),
                        ));
                    }
                }
            }
        }

        // Conflicts with installed jobs.
        for id in &order {
            let tj = &tx[id];
            if let Some(existing) = self.u(*id).job {
                let ej = &self.jobs[&existing];
                if merge_types(ej.job_type, tj.job_type).is_none()
                    && (mode == JobMode::Fail || ej.irreversible)
                {
                    return Err(EnqueueError::TransactionIsDestructive(format!(
                        "Transaction for {name}/{} is destructive ({} has '{}' job queued, but '{}' is included in transaction).",
                        job_type.as_str(),
                        self.u(*id).name(),
                        ej.job_type.as_str(),
                        tj.job_type.as_str()
                    )));
                }
            }
        }

        // Isolate: stop everything not in the transaction. Flush: cancel unrelated jobs.
        if mode == JobMode::Isolate {
            let stops: Vec<UnitId> = self
                .units()
                .filter(|o| {
                    !tx.contains_key(&o.id)
                        && !o.loaded.spec.ignore_on_isolate
                        && !o.active_state.is_inactive_or_failed()
                })
                .map(|o| o.id)
                .collect();
            for s in stops {
                tx.insert(
                    s,
                    TxJob {
                        job_type: JobType::Stop,
                        matters: false,
                        anchor: false,
                    },
                );
                order.push(s);
            }
        }
        if matches!(mode, JobMode::Isolate | JobMode::Flush) {
            let stale: Vec<JobId> = self
                .jobs
                .values()
                .filter(|j| !tx.contains_key(&j.unit))
                .map(|j| j.id)
                .collect();
            for j in stale {
                self.finish_job(j, JobResult::Canceled);
            }
        }

        // Install.
        let mut anchor_id = None;
        for id in order {
            let Some(tj) = tx.remove(&id) else { continue };
            let jid = self.install_job(id, tj.job_type, mode, tj.anchor);
            if tj.anchor {
                anchor_id = Some(jid);
            }
        }
        Ok(anchor_id.expect("anchor job is always installed"))
    }

    #[allow(clippy::too_many_arguments)]
    fn tx_add(
        &self,
        tx: &mut HashMap<UnitId, TxJob>,
        order: &mut Vec<UnitId>,
        unit: UnitId,
        job_type: JobType,
        matters: bool,
        anchor: bool,
        mode: JobMode,
    ) -> Result<(), EnqueueError> {
        // Like systemd, the load state is checked for the job type asked for, before it is
        // collapsed against the unit's state: `try-restart` of a unit that does not exist is
        // an error, not a no-op.
        if !matches!(job_type, JobType::Stop | JobType::Nop) {
            self.validate_load_state(unit)?;
        }
        let t = self.collapse(unit, job_type);
        if !self.job_applicable(unit, t) {
            return Err(EnqueueError::JobTypeNotApplicable(format!(
                "Job type {} is not applicable for unit {}.",
                t.as_str(),
                self.u(unit).name()
            )));
        }
        if let Some(existing) = tx.get_mut(&unit) {
            match merge_types(existing.job_type, t) {
                Some(m) => {
                    let changed = m != existing.job_type;
                    existing.job_type = m;
                    existing.matters |= matters;
                    existing.anchor |= anchor;
                    if !changed {
                        return Ok(());
                    }
                }
                None => {
                    // A requirement conflicts with another job of this transaction.
                    if matters {
                        return Err(EnqueueError::TransactionIsDestructive(format!(
                            "Transaction contains conflicting jobs '{}' and '{}' for {}. Probably contradicting requirement dependencies configured.",
                            existing.job_type.as_str(),
                            t.as_str(),
                            self.u(unit).name()
                        )));
                    }
                    return Ok(());
                }
            }
        } else {
            tx.insert(
                unit,
                TxJob {
                    job_type: t,
                    matters,
                    anchor,
                },
            );
            order.push(unit);
        }
        if matches!(
            mode,
            JobMode::IgnoreDependencies | JobMode::IgnoreRequirements
        ) {
            return Ok(());
        }
        let targets = |kind: DepEdge| self.edge_targets(unit, kind);
        use DepEdge::{Forward as F, Reverse as R};
        match t {
            JobType::Start | JobType::Restart | JobType::VerifyActive => {
                if t == JobType::VerifyActive {
                    return Ok(());
                }
                for k in [DepKind::Requires, DepKind::BindsTo] {
                    for o in targets(F(k)) {
                        self.tx_add(tx, order, o, JobType::Start, true, false, mode)?;
                    }
                }
                for k in [DepKind::Wants, DepKind::Upholds] {
                    for o in targets(F(k)) {
                        // Failures of wanted units are ignored (not found, masked, …).
                        let mut trial = tx.clone();
                        let mut trial_order = order.clone();
                        if self
                            .tx_add(
                                &mut trial,
                                &mut trial_order,
                                o,
                                JobType::Start,
                                false,
                                false,
                                mode,
                            )
                            .is_ok()
                        {
                            *tx = trial;
                            *order = trial_order;
                        }
                    }
                }
                for o in targets(F(DepKind::Requisite)) {
                    self.tx_add(tx, order, o, JobType::VerifyActive, true, false, mode)?;
                }
                for o in targets(F(DepKind::Conflicts)) {
                    self.tx_add(tx, order, o, JobType::Stop, true, false, mode)?;
                }
                for o in targets(R(DepKind::Conflicts)) {
                    let mut trial = tx.clone();
                    let mut trial_order = order.clone();
                    if self
                        .tx_add(
                            &mut trial,
                            &mut trial_order,
                            o,
                            JobType::Stop,
                            false,
                            false,
                            mode,
                        )
                        .is_ok()
                    {
                        *tx = trial;
                        *order = trial_order;
                    }
                }
                if t == JobType::Restart {
                    for k in [
                        DepKind::Requires,
                        DepKind::Requisite,
                        DepKind::BindsTo,
                        DepKind::PartOf,
                    ] {
                        for o in targets(R(k)) {
                            let _ = self.tx_add_nonfatal(tx, order, o, JobType::TryRestart, mode);
                        }
                    }
                }
            }
            JobType::Stop => {
                for k in [
                    DepKind::Requires,
                    DepKind::Requisite,
                    DepKind::BindsTo,
                    DepKind::PartOf,
                ] {
                    for o in targets(R(k)) {
                        self.tx_add(tx, order, o, JobType::Stop, true, false, mode)?;
                    }
                }
                // `PropagatesStopTo=` here, or `StopPropagatedFrom=` naming this unit there.
                for o in targets(F(DepKind::PropagatesStopTo))
                    .into_iter()
                    .chain(targets(R(DepKind::StopPropagatedFrom)))
                {
                    self.tx_add(tx, order, o, JobType::Stop, true, false, mode)?;
                }
            }
            JobType::Reload => {
                // `PropagatesReloadTo=` here, or `ReloadPropagatedFrom=` naming this unit
                // there (postgresql@.service's link to postgresql.service).
                for o in targets(F(DepKind::PropagatesReloadTo))
                    .into_iter()
                    .chain(targets(R(DepKind::ReloadPropagatedFrom)))
                {
                    let _ = self.tx_add_nonfatal(tx, order, o, JobType::TryReload, mode);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn tx_add_nonfatal(
        &self,
        tx: &mut HashMap<UnitId, TxJob>,
        order: &mut Vec<UnitId>,
        unit: UnitId,
        t: JobType,
        mode: JobMode,
    ) -> Result<(), EnqueueError> {
        let mut trial = tx.clone();
        let mut trial_order = order.clone();
        self.tx_add(&mut trial, &mut trial_order, unit, t, false, false, mode)?;
        *tx = trial;
        *order = trial_order;
        Ok(())
    }

    /// A cycle of `After=` ordering among units with transaction jobs (nop jobs excluded), as
    /// the list of units on it.
    fn find_cycle(&self, tx: &HashMap<UnitId, TxJob>, order: &[UnitId]) -> Option<Vec<UnitId>> {
        // Iterative DFS with colours: 0 white, 1 grey (on stack), 2 black.
        let mut colour: HashMap<UnitId, u8> = HashMap::new();
        for &start in order {
            if colour.get(&start).copied().unwrap_or(0) != 0 {
                continue;
            }
            let mut stack: Vec<(UnitId, Vec<UnitId>)> = vec![(start, self.after_in_tx(start, tx))];
            colour.insert(start, 1);
            while let Some((node, succ)) = stack.last_mut() {
                let node = *node;
                match succ.pop() {
                    Some(next) => match colour.get(&next).copied().unwrap_or(0) {
                        0 => {
                            colour.insert(next, 1);
                            let s = self.after_in_tx(next, tx);
                            stack.push((next, s));
                        }
                        1 => {
                            let pos = stack.iter().position(|(n, _)| *n == next).unwrap_or(0);
                            let mut cycle: Vec<UnitId> =
                                stack[pos..].iter().map(|(n, _)| *n).collect();
                            cycle.push(next);
                            return Some(cycle);
                        }
                        _ => {}
                    },
                    None => {
                        colour.insert(node, 2);
                        stack.pop();
                    }
                }
            }
        }
        None
    }

    /// Units in the transaction that `unit` is ordered after.
    fn after_in_tx(&self, unit: UnitId, tx: &HashMap<UnitId, TxJob>) -> Vec<UnitId> {
        let mut out = Vec::new();
        for (e, other) in &self.u(unit).edges {
            let after = matches!(
                e,
                DepEdge::Forward(DepKind::After) | DepEdge::Reverse(DepKind::Before)
            );
            if after
                && tx.get(other).is_some_and(|j| j.job_type != JobType::Nop)
                && !out.contains(other)
            {
                out.push(*other);
            }
        }
        out
    }

    /// Install one job, merging with (or replacing) the unit's installed job.
    fn install_job(&mut self, unit: UnitId, t: JobType, mode: JobMode, anchor: bool) -> JobId {
        if let Some(existing) = self.u(unit).job {
            let ej = self.jobs.get_mut(&existing).expect("installed job");
            if let Some(m) = merge_types(ej.job_type, t) {
                ej.job_type = m;
                ej.anchor |= anchor;
                if mode == JobMode::ReplaceIrreversibly {
                    ej.irreversible = true;
                }
                self.run_queue.push_back(existing);
                return existing;
            }
            self.finish_job(existing, JobResult::Canceled);
        }
        let id = self.next_job_id;
        self.next_job_id += 1;
        self.jobs.insert(
            id,
            Job {
                id,
                unit,
                job_type: t,
                state: JobState::Waiting,
                mode,
                anchor,
                irreversible: mode == JobMode::ReplaceIrreversibly,
                ignore_order: mode == JobMode::IgnoreDependencies,
                timeout_at: None,
            },
        );
        let timeout = self.u(unit).loaded.spec.job_timeout_usec;
        if timeout != crate::spec::USEC_INFINITY && timeout > 0 {
            let at = self.now.monotonic.saturating_add(timeout);
            self.timers
                .insert((at, unit, super::service::TimerKind::JobTimeout));
            if let Some(j) = self.jobs.get_mut(&id) {
                j.timeout_at = Some(at);
            }
        }
        self.um(unit).job = Some(id);
        self.changes.push_back(Change::JobNew {
            job: id,
            unit,
            unit_name: self.u(unit).name().to_owned(),
        });
        self.mark_dirty(unit);
        self.run_queue.push_back(id);
        id
    }
}
