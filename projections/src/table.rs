//! [`Table`]: the model's items (cases, promises, inspections, projects) by
//! id, each also at a dense slot number.
//!
//! Reads by id go through a `BTreeMap<Id, u32>`, as a `BTreeMap<Id, T>` would;
//! the read indexes (cases of a city by filing date, …) hold slots instead, so
//! a city record reaches each of its cases without a search among a million
//! string keys. A slot never changes once given. Iteration, equality and the
//! serialized form go by id, so two tables with the same items are equal and
//! serialize to the same bytes whatever order the items arrived in.

use events::vocab::Id;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;

/// Items by id, each at a slot (see the module documentation).
#[derive(Clone, Debug)]
pub struct Table<T> {
    /// Each item boxed, so that growing the table moves pointers, not items.
    items: Vec<Box<T>>,
    by_id: BTreeMap<Id, u32>,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            items: Vec::new(),
            by_id: BTreeMap::new(),
        }
    }
}

impl<T: PartialEq> PartialEq for Table<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: Eq> Eq for Table<T> {}

impl<T> Table<T> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn contains_key(&self, id: &Id) -> bool {
        self.by_id.contains_key(id)
    }

    /// The slot of the item `id`, if present.
    pub fn slot_of(&self, id: &Id) -> Option<u32> {
        self.by_id.get(id).copied()
    }

    /// The item at `slot`: slots come from [`Table::slot_of`] or an index
    /// built from it, and are never taken back.
    pub fn at(&self, slot: u32) -> Option<&T> {
        self.items.get(slot as usize).map(|b| &**b)
    }

    pub fn get(&self, id: &Id) -> Option<&T> {
        self.slot_of(id).and_then(|s| self.at(s))
    }

    pub fn get_mut(&mut self, id: &Id) -> Option<&mut T> {
        let s = self.slot_of(id)?;
        self.items.get_mut(s as usize).map(|b| &mut **b)
    }

    /// Inserts or replaces the item `id`; returns the item it replaced.
    pub fn insert(&mut self, id: Id, value: T) -> Option<T> {
        match self.slot_of(&id) {
            Some(s) => Some(std::mem::replace(&mut *self.items[s as usize], value)),
            None => {
                self.push(id, value);
                None
            }
        }
    }

    fn push(&mut self, id: Id, value: T) -> u32 {
        // A table holds at most one item per record of a ledger, far below
        // 2^32; the conversion saturates rather than wrap.
        let slot = u32::try_from(self.items.len()).unwrap_or(u32::MAX);
        self.items.push(Box::new(value));
        self.by_id.insert(id, slot);
        slot
    }

    /// The item `id`, inserted first with `make` when absent.
    pub fn entry(&mut self, id: Id) -> Entry<'_, T> {
        Entry { table: self, id }
    }

    /// Items with their ids, in id order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Id, &T)> + '_ {
        self.by_id
            .iter()
            .map(move |(id, &s)| (id, &*self.items[s as usize]))
    }

    /// Items in id order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &T> + '_ {
        self.iter().map(|(_, v)| v)
    }

    /// Ids in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Id> + '_ {
        self.by_id.keys()
    }
}

/// `table[&id]`, as with a `BTreeMap`: panics when `id` is absent, so it is
/// for callers that know the item exists (tests, mostly).
impl<T> std::ops::Index<&Id> for Table<T> {
    type Output = T;
    fn index(&self, id: &Id) -> &T {
        match self.get(id) {
            Some(v) => v,
            None => panic!("no item {id} in the table"),
        }
    }
}

/// See [`Table::entry`].
pub struct Entry<'a, T> {
    table: &'a mut Table<T>,
    id: Id,
}

impl<'a, T> Entry<'a, T> {
    pub fn or_insert_with(self, make: impl FnOnce() -> T) -> &'a mut T {
        let slot = match self.table.slot_of(&self.id) {
            Some(s) => s,
            None => self.table.push(self.id, make()),
        };
        &mut self.table.items[slot as usize]
    }
}

impl<T> FromIterator<(Id, T)> for Table<T> {
    fn from_iter<I: IntoIterator<Item = (Id, T)>>(iter: I) -> Self {
        let mut t = Table::default();
        for (id, v) in iter {
            t.insert(id, v);
        }
        t
    }
}

impl<T: Serialize> Serialize for Table<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Table<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(BTreeMap::<Id, T>::deserialize(d)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> Id {
        Id::new(s).expect("id")
    }

    #[test]
    fn order_of_arrival_changes_neither_equality_nor_bytes() {
        let mut a = Table::default();
        a.insert(id("b"), 2);
        a.insert(id("a"), 1);
        let b: Table<i32> = [(id("a"), 1), (id("b"), 2)].into_iter().collect();
        assert_eq!(a, b);
        assert_eq!(a.slot_of(&id("b")), Some(0));
        assert_eq!(b.slot_of(&id("b")), Some(1));
        let json = serde_json::to_string(&a).expect("serialize");
        assert_eq!(json, r#"{"a":1,"b":2}"#);
        assert_eq!(json, serde_json::to_string(&b).expect("serialize"));
        let back: Table<i32> = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, a);
    }

    #[test]
    fn slots_are_stable_and_replacing_keeps_the_slot() {
        let mut t = Table::default();
        assert!(t.insert(id("x"), 1).is_none());
        assert_eq!(*t.entry(id("y")).or_insert_with(|| 5), 5);
        assert_eq!(*t.entry(id("y")).or_insert_with(|| 9), 5);
        assert_eq!(t.insert(id("x"), 3), Some(1));
        assert_eq!(t.slot_of(&id("x")), Some(0));
        assert_eq!(t.at(1), Some(&5));
        assert_eq!(t.at(2), None);
        *t.get_mut(&id("x")).expect("x") += 1;
        assert_eq!(t.get(&id("x")), Some(&4));
        assert_eq!(t.keys().map(Id::as_str).collect::<Vec<_>>(), ["x", "y"]);
        assert_eq!(t.len(), 2);
        assert!(!t.is_empty() && t.contains_key(&id("y")) && !t.contains_key(&id("z")));
    }
}
