//! keyprov provisions enterprise IP phones with keys and authenticates their registration.
//!
//! Three parties take part: the **device** (an IP phone), the **key generating agent** that
//! holds the enterprise master key, and the **registrar** that authenticates devices. This crate
//! is sans-IO: it holds pure state machines for each role plus the key schedule and the key
//! identifier encoding. The host feeds bytes, time and randomness in and takes bytes and events
//! out; nothing here opens a socket, reads a clock or touches a file.
//!
//! See `docs/protocol.md` for the protocol specification.

#![cfg_attr(not(feature = "std"), no_std)]
#![deny(unsafe_code)]
#![deny(missing_docs, unreachable_pub)]

extern crate alloc;

mod error;
pub mod secret;

pub mod agent;
pub mod device;
pub mod digest;
pub mod drbg;
pub mod keyid;
pub mod keys;
pub mod registrar;
#[cfg(feature = "sim")]
pub mod sim;
pub mod wire;

mod proofs;

#[cfg(feature = "capi")]
pub mod ffi;

pub use error::{Error, ErrorKind};
pub use keyid::{AgentId, DeviceId, KeyId};
pub use proofs::{CHANNEL_BINDING_MAX_LEN, CHANNEL_BINDING_MIN_LEN};

/// Names one outstanding request a state machine made of its host (a directory lookup, a
/// counter reservation, a key fetch); the host passes it back with the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(pub u64);

/// The code samples of README.md, compiled and run as doc tests so the README stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
