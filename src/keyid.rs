//! keyid (to be written)
