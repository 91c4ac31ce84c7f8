//! keys (to be written)
