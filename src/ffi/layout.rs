//! The memory layout of every public struct, as this build of the library sees it.
//!
//! A C test (and the Python binding at import) compares these figures with what its compiler
//! computes from the header, so a header that drifted from the library is caught before it
//! corrupts memory.

use core::ffi::c_char;
use core::mem::{align_of, offset_of, size_of};

use super::agent::{keyprov_agent_event, keyprov_agent_user, keyprov_key_check};
use super::boundary::{self, Failure};
use super::device::{
    keyprov_device_event, keyprov_device_provisioning_config, keyprov_device_registration_config,
};
use super::digest::client::keyprov_digest_client_policy;
use super::digest::registrar::{
    keyprov_digest_registrar_policy, keyprov_digest_stored_credential, keyprov_digest_verdict,
};
use super::digest::{keyprov_digest_request, keyprov_str};
use super::keyid::keyprov_key_id_info;
use super::keys::keyprov_session_context;
use super::registrar::{keyprov_fetched_key, keyprov_registrar_config, keyprov_registrar_event};
use super::result::keyprov_result;
use crate::Error;

/// Size, alignment and offset of a struct or of one of its fields, in bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct keyprov_layout {
    /// `sizeof` of the struct or field.
    pub size: usize,
    /// `alignof` of the struct or field.
    pub align: usize,
    /// `offsetof` of the field inside its struct; 0 for a whole struct.
    pub offset: usize,
}

/// Size and alignment of the type a field accessor returns.
fn field<S, F>(_accessor: fn(&S) -> &F, offset: usize) -> keyprov_layout {
    keyprov_layout {
        size: size_of::<F>(),
        align: align_of::<F>(),
        offset,
    }
}

fn whole<S>() -> keyprov_layout {
    keyprov_layout {
        size: size_of::<S>(),
        align: align_of::<S>(),
        offset: 0,
    }
}

/// Lists each public struct and its fields; the C side asks for every one it knows.
macro_rules! layouts {
    ($name:ident; $($ty:ident { $($field:ident),* })*) => {
        match $name {
            $(
                stringify!($ty) => Some(whole::<$ty>()),
                $(
                    concat!(stringify!($ty), ".", stringify!($field)) => {
                        Some(field(|s: &$ty| &s.$field, offset_of!($ty, $field)))
                    }
                )*
            )*
            _ => None,
        }
    };
}

fn lookup(name: &str) -> Option<keyprov_layout> {
    layouts! { name;
        keyprov_layout { size, align, offset }
        keyprov_key_id_info {
            version, form, epoch, counter, device_type, value_source, agent_len, value_len,
            agent, value
        }
        keyprov_session_context {
            key_id, key_id_len, service_id, service_id_len, device_nonce, device_nonce_len,
            registrar_nonce, registrar_nonce_len
        }
        keyprov_str { ptr, len }
        keyprov_digest_request { method, method_len, uri, uri_len, body, body_len }
        keyprov_digest_client_policy { allow_md5, allow_rfc2069, prefer_auth_int, use_userhash }
        keyprov_digest_registrar_policy {
            algorithms, qop, allow_rfc2069, userhash, nonce_lifetime, max_clock_drift,
            tracker_capacity
        }
        keyprov_digest_stored_credential { lookup, hash, secret, secret_len }
        keyprov_digest_verdict { outcome, reason, algorithm, status_code, stale }
        keyprov_device_provisioning_config {
            trust_anchor, subject, device_id, device_id_len, proposed_key_id, login, login_len,
            pin, pin_len, salt, salt_len, expected_agent, expected_agent_len, has_last_counter,
            require_address, last_counter, response_timeout
        }
        keyprov_device_registration_config {
            service, service_len, mode, sequence, login, login_len, pin, pin_len, salt,
            salt_len, response_timeout
        }
        keyprov_device_event {
            kind, error, handle, not_after, counter, key_id_len, agent_id_len, key_id,
            agent_id, key, send_key, receive_key
        }
        keyprov_agent_event {
            kind, error, handle, time, counter, reservation, device_type, device_value_len,
            key_id_len, device_value, key_id, has_login, login, login_len, registrar, service,
            service_len
        }
        keyprov_agent_user { verifier, recent_failures, has_verifier }
        keyprov_key_check { authorized, has_pin_verifier, status, not_after, pin_verifier }
        keyprov_registrar_config {
            service, service_len, challenge_lifetime, clock_window, registration_lifetime,
            key_cache_capacity, replay_cache_capacity
        }
        keyprov_registrar_event {
            kind, error, handle, not_after, key_id_len, has_login, key_id, login, login_len,
            send_key, receive_key
        }
        keyprov_fetched_key { service_key, not_after, has_pin_key, pin_key }
    }
}

/// Reports the layout of the public struct `name` or of its field `"struct.field"`.
///
/// `name` is `name_len` bytes of text, for example `"keyprov_layout"` or
/// `"keyprov_layout.offset"`. Unknown names fail with `KEYPROV_INVALID_VALUE`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn keyprov_layout_of(
    name: *const c_char,
    name_len: usize,
    layout_out: *mut keyprov_layout,
) -> keyprov_result {
    boundary::call(|| {
        // SAFETY: the caller passes `name` valid for `name_len` bytes.
        let name = unsafe { boundary::text_in(name, name_len, "name") }?;
        let layout = lookup(name).ok_or(Failure::Core(Error::InvalidValue {
            field: "name",
            reason: "no public struct or field of that name",
        }))?;
        // SAFETY: the caller passes `layout_out` NULL or writable.
        unsafe { boundary::value_out(layout, layout_out, "layout_out") }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_struct_and_field() {
        let word = size_of::<usize>();
        assert_eq!(lookup("keyprov_layout").unwrap().size, 3 * word);
        let offset = lookup("keyprov_layout.offset").unwrap();
        assert_eq!(
            (offset.size, offset.align, offset.offset),
            (word, word, 2 * word)
        );
        assert!(lookup("keyprov_layout.nothing").is_none());
    }
}
