//! A short byte string held inline, so that key identifiers need no heap.

use core::cmp::Ordering;
use core::hash::{Hash, Hasher};

/// Up to `N` bytes stored inline. Bytes past the length are always zero, but equality,
/// ordering and hashing look only at the bytes in use.
#[derive(Clone, Copy)]
pub(crate) struct ShortBytes<const N: usize> {
    bytes: [u8; N],
    len: u8,
}

impl<const N: usize> ShortBytes<N> {
    /// Copies `value`, or returns `None` when it is longer than `N`.
    pub(crate) fn new(value: &[u8]) -> Option<Self> {
        let len = u8::try_from(value.len())
            .ok()
            .filter(|_| value.len() <= N)?;
        let mut bytes = [0u8; N];
        bytes[..value.len()].copy_from_slice(value);
        Some(Self { bytes, len })
    }

    /// Copies an array that fits by construction; checked when compiling.
    pub(crate) fn from_array<const M: usize>(value: &[u8; M]) -> Self {
        const { assert!(M <= N && N <= 255) };
        let mut bytes = [0u8; N];
        bytes[..M].copy_from_slice(value);
        Self {
            bytes,
            len: M as u8,
        }
    }

    /// The bytes in use.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// The bytes in use as text; every caller stores ASCII only.
    pub(crate) fn as_ascii(&self) -> &str {
        core::str::from_utf8(self.as_slice()).unwrap_or_default()
    }
}

impl<const N: usize> PartialEq for ShortBytes<N> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<const N: usize> Eq for ShortBytes<N> {}

impl<const N: usize> PartialOrd for ShortBytes<N> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<const N: usize> Ord for ShortBytes<N> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl<const N: usize> Hash for ShortBytes<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_more_than_capacity() {
        assert!(ShortBytes::<4>::new(&[1, 2, 3, 4]).is_some());
        assert!(ShortBytes::<4>::new(&[1, 2, 3, 4, 5]).is_none());
        assert_eq!(ShortBytes::<4>::new(&[7, 8]).unwrap().as_slice(), &[7, 8]);
    }
}
