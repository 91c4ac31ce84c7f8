//! device (to be written)
