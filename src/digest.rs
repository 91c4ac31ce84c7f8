//! digest (to be written)
