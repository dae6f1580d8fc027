//! [`List`]: a short, append-mostly list held at exactly its length.
//!
//! A case, promise or inspection keeps a dozen histories (referrals,
//! resolutions, ratings, its timeline, …), most of them empty or holding one
//! or two entries. A `Vec` spends 24 bytes on each even when empty and grows
//! to four entries on its first push; over a hundred thousand items that
//! slack was a fifth of the model. A `List` is a boxed slice (16 bytes, no
//! spare capacity): a push reallocates to the new length, which costs a copy
//! of a list that is short by nature. It reads as a slice and serializes as
//! a sequence, exactly as the `Vec` it replaces did.

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
}
