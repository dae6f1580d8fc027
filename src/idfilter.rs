//! A Bloom filter over the statement ids the ledger holds, so that the
//! sequencer (the single writer) can tell a new id from a used one without
//! reading the sled index for every append.
//!
//! "Not in the filter" is certain: the id was never appended, and the
//! sequencer skips the index. "Maybe" (every id used before, plus about one
//! new id in a hundred) sends it to the exact lookup it always did. The filter
//! is never written to disk: the sequencer fills it on a thread of its own,
//! from the ids of the records the log held at open, once the ledger takes
//! its first append; until then, or if a record's id cannot be read, it looks
//! every id up.
//!
//! It grows in layers, each twice the capacity of the one before, so that it
//! never needs the ids again to grow (a lookup asks every layer).

use std::hash::{BuildHasher, Hasher};

/// Bits per id at a layer's capacity; with [`PROBES`] probes about 0.8 %
/// false positives when the layer is full (fewer before).
const BITS_PER_ID: u64 = 10;
const PROBES: u64 = 7;
/// The smallest layer, in ids.
const MIN_CAPACITY: u64 = 1 << 16;

/// A growable Bloom filter over ids.
pub struct IdFilter {
    layers: Vec<Layer>,
    hasher: std::hash::BuildHasherDefault<std::collections::hash_map::DefaultHasher>,
}

struct Layer {
    bits: Box<[u64]>,
    /// Number of bits minus one (the number of bits is a power of two).
    mask: u64,
    capacity: u64,
    count: u64,
}

/// The bits an id's hash sets in a layer of `mask + 1` bits: double hashing
/// (Kirsch and Mitzenmacher), h + i * h2 with h2 odd.
fn probes(h: u64, mask: u64) -> impl Iterator<Item = u64> {
    let h2 = h.rotate_left(32) | 1;
    (0..PROBES).map(move |i| h.wrapping_add(i.wrapping_mul(h2)) & mask)
}

impl Layer {
    fn new(capacity: u64) -> Layer {
        let bits = (capacity * BITS_PER_ID).next_power_of_two().max(64);
        Layer {
            bits: vec![0u64; (bits / 64) as usize].into_boxed_slice(),
            mask: bits - 1,
            capacity,
            count: 0,
        }
    }

    fn insert(&mut self, h: u64) {
        for bit in probes(h, self.mask) {
            self.bits[(bit / 64) as usize] |= 1 << (bit % 64);
        }
        self.count += 1;
    }

    fn may_contain(&self, h: u64) -> bool {
        probes(h, self.mask).all(|bit| self.bits[(bit / 64) as usize] & (1 << (bit % 64)) != 0)
    }
}

impl IdFilter {
    /// An empty filter sized for about `expected` ids before it adds a layer.
    pub fn with_capacity(expected: u64) -> IdFilter {
        IdFilter {
            layers: vec![Layer::new(expected.max(MIN_CAPACITY))],
            hasher: Default::default(),
        }
    }

    fn hash(&self, id: &[u8]) -> u64 {
        let mut h = self.hasher.build_hasher();
        h.write(id);
        h.finish()
    }

    /// Adds an id.
    pub fn insert(&mut self, id: &[u8]) {
        let h = self.hash(id);
        let last = self.layers.last().expect("a filter has a layer");
        if last.count >= last.capacity {
            let next = Layer::new(last.capacity * 2);
            self.layers.push(next);
        }
        self.layers
            .last_mut()
            .expect("a filter has a layer")
            .insert(h);
    }

    /// False only when `id` was never inserted.
    pub fn may_contain(&self, id: &[u8]) -> bool {
        let h = self.hash(id);
        self.layers.iter().any(|l| l.may_contain(h))
    }

    /// Ids inserted.
    pub fn len(&self) -> u64 {
        self.layers.iter().map(|l| l.count).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes held by the bit arrays.
    pub fn heap_bytes(&self) -> usize {
        self.layers.iter().map(|l| l.bits.len() * 8).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: u64) -> Vec<u8> {
        format!("stmt-{i:08}").into_bytes()
    }

    #[test]
    fn every_inserted_id_is_found_across_layers() {
        let mut f = IdFilter::with_capacity(1000);
        // Past the first layer (MIN_CAPACITY) and into the third.
        let n = MIN_CAPACITY * 3 + 17;
        for i in 0..n {
            f.insert(&id(i));
        }
        assert_eq!(f.len(), n);
        assert_eq!(f.layers.len(), 3, "layers of 64k, 128k and 256k ids");
        for i in 0..n {
            assert!(f.may_contain(&id(i)), "inserted id {i} not found");
        }
    }

    #[test]
    fn ids_never_inserted_are_mostly_refused() {
        let mut f = IdFilter::with_capacity(100_000);
        for i in 0..100_000 {
            f.insert(&id(i));
        }
        let false_positives = (100_000..200_000)
            .filter(|i| f.may_contain(&id(*i)))
            .count();
        // At capacity the design rate is about 0.8 %; 2 % means it is broken.
        assert!(
            false_positives < 2_000,
            "{false_positives} of 100000 new ids looked used"
        );
    }

    #[test]
    fn an_empty_filter_contains_nothing() {
        let f = IdFilter::with_capacity(0);
        assert!(f.is_empty());
        assert!(!f.may_contain(b"anything"));
        assert!(f.heap_bytes() >= (MIN_CAPACITY * BITS_PER_ID / 8) as usize);
    }
}
