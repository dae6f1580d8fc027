//! Projections are folds: the sequencer's incrementally updated model, a
//! rebuild from the log on reopening, and a read as of seq N all agree, for
//! random valid histories cut into random batches.

use ledger::generate::{derive_key, history, GenerateOptions};
use ledger::ledger::{init_with_keys, Ledger};
use ledger::reads::{fold, AsOf};
use proptest::prelude::*;

fn cases() -> u32 {
    // Each case generates and appends a 500-record history (about 0.25 s):
    // 6 under a plain `cargo test`, PROPTEST_CASES when set (64 in CI, from
    // scripts/test; raise it locally for a deeper search).
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .map_or(6, |n: u32| n.clamp(1, 100_000))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn rebuild_equals_incremental_and_as_of_seq_n_equals_the_prefix(seed in 1u64..10_000, cuts in proptest::collection::vec(1usize..160, 1..6)) {
        let h = history(&GenerateOptions { records: 500, seed }).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("d");
        init_with_keys(&data, &h.origin, &h.root, derive_key(seed, "checkpoint"), derive_key(seed, "system"), events::vocab::Clock::Simulated, Some(h.genesis_time), "property test").unwrap();
        let l = Ledger::open(&data, Default::default()).unwrap();
        let mut seen = Vec::new();
        let mut i = 0;
        for cut in cuts.iter().cycle() {
            if i >= h.envelopes.len() {
                break;
            }
            let end = (i + cut).min(h.envelopes.len());
            for r in l.submit_batch(&h.envelopes[i..end]) {
                prop_assert!(r.is_ok(), "a generated statement was refused: {:?}", r.err());
            }
            seen.push((l.head().size, l.model_digest().unwrap()));
            i = end;
        }
        let (size, incremental) = *seen.last().unwrap();
        drop(l);
        // Reopening (from the snapshot saved at close) and a rebuild from the
        // log give the model the sequencer built incrementally.
        let l = Ledger::open(&data, Default::default()).unwrap();
        prop_assert_eq!(l.head().size, size);
        prop_assert_eq!(l.model_digest().unwrap(), incremental);
        drop(l);
        let r = ledger::ledger::rebuild_projections(&data).unwrap();
        prop_assert_eq!(r.records, size);
        prop_assert_eq!(r.digest, incremental);
        // The ledger opens from the rebuilt snapshot: no replay, same model.
        let l = Ledger::open(&data, Default::default()).unwrap();
        prop_assert!(
            !l.notices.iter().any(|n| n.contains("replaying") || n.contains("catching up")),
            "opening after a rebuild replayed records: {:?}", l.notices
        );
        prop_assert_eq!(l.model_digest().unwrap(), incremental);
        drop(l);
        // The projection as of seq N is the fold of the first N records.
        for (n, digest) in seen {
            let f = fold(&data, AsOf { seq: Some(n), time: None }).unwrap();
            prop_assert_eq!(f.size, n);
            prop_assert_eq!(f.model.digest(), digest, "as of seq {}", n);
        }
    }
}
