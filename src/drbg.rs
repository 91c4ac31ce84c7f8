//! drbg (to be written)
