//! Compact collections for the model: [`List`] and [`SeqMap`].
//!
//! [`List`]: a short, append-mostly list held at exactly its length.
//! A case, promise or inspection keeps a dozen histories (referrals,
//! resolutions, ratings, its timeline, …), most of them empty or holding one
//! or two entries. A `Vec` spends 24 bytes on each even when empty and grows
//! to four entries on its first push; over a hundred thousand items that
//! slack was a fifth of the model. A `List` is a boxed slice (16 bytes, no
//! spare capacity): a push reallocates to the new length, which costs a copy
//! of a list that is short by nature. It reads as a slice and serializes as
//! a sequence, exactly as the `Vec` it replaces did.

//!
//! [`SeqMap`]: values by record seq, in a sorted vector. Records arrive in
//! seq order, so an insert is a push; a lookup is a binary search. Each
//! entry costs its own size, where a `BTreeMap` node spent about twice that.
//! It serializes as the `BTreeMap<u64, V>` it replaces did (a JSON object
//! keyed by the seq in decimal, in increasing order).

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// See the module documentation.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct List<T>(Box<[T]>);

impl<T> List<T> {
    pub fn new() -> Self {
        List(Box::default())
    }

    /// A list of one entry.
    pub fn one(x: T) -> Self {
        List(Box::new([x]))
    }

    /// Appends `x`, reallocating to exactly the new length.
    pub fn push(&mut self, x: T) {
        let mut v = std::mem::take(&mut self.0).into_vec();
        v.reserve_exact(1);
        v.push(x);
        self.0 = v.into_boxed_slice();
    }
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List::new()
    }
}

impl<T> std::ops::Deref for List<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> std::ops::DerefMut for List<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}

impl<T: PartialEq> PartialEq<Vec<T>> for List<T> {
    fn eq(&self, other: &Vec<T>) -> bool {
        *self.0 == **other
    }
}

impl<T> From<Vec<T>> for List<T> {
    fn from(v: Vec<T>) -> Self {
        List(v.into_boxed_slice())
    }
}

impl<T> FromIterator<T> for List<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        List(iter.into_iter().collect())
    }
}

impl<'a, T> IntoIterator for &'a List<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for List<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter()).finish()
    }
}

impl<T: Serialize> Serialize for List<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for List<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Vec::<T>::deserialize(d).map(List::from)
    }
}

/// See the module documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeqMap<V> {
    entries: Vec<(u64, V)>,
}

impl<V> Default for SeqMap<V> {
    fn default() -> Self {
        SeqMap {
            entries: Vec::new(),
        }
    }
}

impl<V> SeqMap<V> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn find(&self, seq: u64) -> Result<usize, usize> {
        // The common case, a seq after every other, needs no search.
        match self.entries.last() {
            Some(&(last, _)) if last < seq => Err(self.entries.len()),
            None => Err(0),
            _ => self.entries.binary_search_by_key(&seq, |e| e.0),
        }
    }

    /// Inserts or replaces the value at `seq`; returns the value replaced.
    pub fn insert(&mut self, seq: u64, v: V) -> Option<V> {
        match self.find(seq) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, v)),
            Err(i) => {
                self.entries.insert(i, (seq, v));
                None
            }
        }
    }

    pub fn get(&self, seq: &u64) -> Option<&V> {
        self.find(*seq).ok().map(|i| &self.entries[i].1)
    }

    /// Entries in increasing seq order.
    pub fn iter(&self) -> impl Iterator<Item = (&u64, &V)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }
}

impl<'a, V> IntoIterator for &'a SeqMap<V> {
    type Item = (&'a u64, &'a V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (u64, V)>, fn(&(u64, V)) -> (&u64, &V)>;
    fn into_iter(self) -> Self::IntoIter {
        fn split<V>(e: &(u64, V)) -> (&u64, &V) {
            (&e.0, &e.1)
        }
        self.entries
            .iter()
            .map(split as fn(&(u64, V)) -> (&u64, &V))
    }
}

impl<V: Serialize> Serialize for SeqMap<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.entries.len()))?;
        for (k, v) in &self.entries {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for SeqMap<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Entries<V>(std::marker::PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for Entries<V> {
            type Value = SeqMap<V>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a map from record seqs to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<SeqMap<V>, A::Error> {
                let mut m = SeqMap::default();
                while let Some((k, v)) = a.next_entry::<u64, V>()? {
                    if m.insert(k, v).is_some() {
                        return Err(serde::de::Error::custom(format!("seq {k} appears twice")));
                    }
                }
                Ok(m)
            }
        }
        d.deserialize_map(Entries(std::marker::PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_keep_exactly_the_length_and_order() {
        let mut l = List::new();
        assert!(l.is_empty());
        for i in 0..5u32 {
            l.push(i);
            assert_eq!(l.len(), i as usize + 1);
        }
        assert_eq!(&*l, &[0, 1, 2, 3, 4]);
        assert_eq!(l.last(), Some(&4));
        l[1] = 9;
        assert_eq!(l.iter().copied().collect::<Vec<_>>(), vec![0, 9, 2, 3, 4]);
    }

    #[test]
    fn serializes_as_the_vec_it_replaces() {
        let v = vec!["a".to_string(), "b".to_string()];
        let l: List<String> = v.clone().into();
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            serde_json::to_string(&v).unwrap()
        );
        let back: List<String> = serde_json::from_str(r#"["a","b"]"#).unwrap();
        assert_eq!(back, l);
        let empty: List<u8> = serde_json::from_str("[]").unwrap();
        assert_eq!(empty, List::default());
        assert_eq!(std::mem::size_of::<List<u64>>(), 16);
    }

    #[test]
    fn a_seq_map_keeps_seq_order_whatever_the_insert_order() {
        let mut m = SeqMap::default();
        for k in [5u64, 1, 9, 3] {
            assert_eq!(m.insert(k, k * 10), None);
        }
        assert_eq!(m.insert(3, 33), Some(30));
        assert_eq!(m.get(&3), Some(&33));
        assert_eq!(m.get(&4), None);
        assert_eq!(m.get(&10), None);
        let keys: Vec<u64> = m.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec![1, 3, 5, 9]);
        assert_eq!(m.len(), 4);
    }

    #[test]
    fn a_seq_map_serializes_as_the_btree_map_it_replaces() {
        let pairs = [(2u64, "b"), (10, "x"), (1, "a")];
        let mut m = SeqMap::default();
        let mut b = std::collections::BTreeMap::new();
        for (k, v) in pairs {
            m.insert(k, v.to_string());
            b.insert(k, v.to_string());
        }
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, serde_json::to_string(&b).unwrap());
        let back: SeqMap<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, m);
        let twice = serde_json::from_str::<SeqMap<String>>(r#"{"1":"a","1":"b"}"#);
        assert!(twice
            .unwrap_err()
            .to_string()
            .contains("seq 1 appears twice"));
    }
}
