//! agent (to be written)
