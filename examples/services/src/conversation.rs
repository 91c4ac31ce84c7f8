//! What the services add around keyprov's conversations: the meaning of a peer's outcome code.

use keyprov::Error;

/// The keyprov error a peer's outcome code stands for, among those a provisioning or a key
/// fetch can end with; any other code stays [`Error::PeerRefused`].
pub fn outcome_error(code: u16) -> Error {
    [
        Error::UnknownKeyId,
        Error::Superseded,
        Error::Revoked,
        Error::Expired,
        Error::WrongProof,
        Error::LockedOut,
        Error::NotAuthorized,
    ]
    .into_iter()
    .find(|e| e.code() == code)
    .unwrap_or(Error::PeerRefused { code })
}

/// The error itself, or the one its outcome code stands for when a peer reported it.
pub fn peer_error(error: Error) -> Error {
    match error {
        Error::PeerRefused { code } => outcome_error(code),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_codes_map_back_to_errors() {
        assert_eq!(outcome_error(301), Error::Superseded);
        assert_eq!(outcome_error(308), Error::LockedOut);
        assert_eq!(outcome_error(399), Error::PeerRefused { code: 399 });
        assert_eq!(
            peer_error(Error::PeerRefused { code: 304 }),
            Error::WrongProof
        );
        assert_eq!(peer_error(Error::Expired), Error::Expired);
    }
}
