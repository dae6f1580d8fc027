//! An in-order parallel map over a stream of jobs: for the places that decode
//! many independent items whose results must be taken in order (replaying the
//! log in `reads::replay`, reading the projection snapshot in `projstore`).

use std::sync::mpsc;

/// Runs `produce` on a thread of its own; each job it deals goes to the next
/// of `workers` threads in turn, which runs `work` on it; `consume`, on the
/// calling thread, gets the results in the order the jobs were dealt.
///
/// `consume` returns whether it wants more: `false` stops the workers and then
/// the producer (their next send fails, and the producer's `deal` returns
/// `false`, which it must take as "stop"). It may hand a spent result to its
/// second argument, which drops it on the worker that made it, so that a
/// large result is not freed on the calling thread (the one sequential part).
/// Each worker holds at most `ahead` jobs and `ahead` results, so memory is
/// bounded whatever the speeds.
///
/// Returns what the producer returned. A panic on any of the threads
/// propagates (the scope joins them all), so a result is never silently
/// missing.
pub fn ordered_map<J, R, P>(
    workers: usize,
    ahead: usize,
    name: &str,
    produce: impl FnOnce(&mut dyn FnMut(J) -> bool) -> P + Send,
    work: impl Fn(J) -> R + Sync,
    mut consume: impl FnMut(R, &mut dyn FnMut(R)) -> bool,
) -> std::io::Result<P>
where
    J: Send,
    R: Send,
    P: Send,
{
    let workers = workers.max(1);
    let ahead = ahead.max(1);
    let work = &work;
    std::thread::scope(|s| {
        let mut jobs = Vec::with_capacity(workers);
        let mut results = Vec::with_capacity(workers);
        let mut spent = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (job_tx, job_rx) = mpsc::sync_channel::<J>(ahead);
            let (tx, rx) = mpsc::sync_channel::<R>(ahead);
            let (spent_tx, spent_rx) = mpsc::channel::<R>();
            jobs.push(job_tx);
            results.push(rx);
            spent.push(spent_tx);
            std::thread::Builder::new()
                .name(format!("{name}-work"))
                .spawn_scoped(s, move || {
                    for job in job_rx {
                        while let Ok(done) = spent_rx.try_recv() {
                            drop(done);
                        }
                        if tx.send(work(job)).is_err() {
                            return;
                        }
                    }
                })?;
        }
        let producer = std::thread::Builder::new()
            .name(format!("{name}-read"))
            .spawn_scoped(s, move || {
                let mut turn = 0usize;
                let mut deal = |job: J| -> bool {
                    let ok = jobs[turn].send(job).is_ok();
                    turn = (turn + 1) % jobs.len();
                    ok
                };
                produce(&mut deal)
                // Dropping `jobs` here ends the workers' input.
            })?;
        // Jobs are dealt in turn, so the first worker with no result left
        // marks the end of the input.
        let mut turn = 0usize;
        while let Ok(r) = results[turn].recv() {
            let from = turn;
            turn = (turn + 1) % workers;
            let mut recycle = |done: R| {
                let _ = spent[from].send(done);
            };
            if !consume(r, &mut recycle) {
                break;
            }
        }
        // Dropping the receivers stops the workers, then the producer.
        drop(results);
        drop(spent);
        match producer.join() {
            Ok(p) => Ok(p),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_the_order_dealt_whatever_the_workers_speed() {
        let mut got = Vec::new();
        let produced = ordered_map(
            3,
            2,
            "test",
            |deal| {
                for i in 0..500u64 {
                    if !deal(i) {
                        return i;
                    }
                }
                500
            },
            |i: u64| {
                // Uneven work: later jobs often finish first.
                if i.is_multiple_of(7) {
                    std::thread::sleep(std::time::Duration::from_micros(200));
                }
                i * 2
            },
            |r, recycle| {
                got.push(r);
                recycle(r);
                true
            },
        )
        .unwrap();
        assert_eq!(produced, 500);
        assert_eq!(got, (0..500).map(|i| i * 2).collect::<Vec<_>>());
    }

    #[test]
    fn stopping_early_stops_the_producer() {
        let mut got = 0;
        let produced = ordered_map(
            2,
            1,
            "test",
            |deal| {
                let mut dealt = 0u64;
                for i in 0..1_000_000u64 {
                    if !deal(i) {
                        break;
                    }
                    dealt += 1;
                }
                dealt
            },
            |i: u64| i,
            |_, _| {
                got += 1;
                got < 10
            },
        )
        .unwrap();
        assert_eq!(got, 10);
        // The producer is told to stop a few jobs later (what the bounded
        // channels and the threads hold in hand), not after its million.
        assert!(produced < 100, "the producer dealt {produced} jobs");
    }
}
