//! registrar (to be written)
