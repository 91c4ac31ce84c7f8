//! The registrar side of key fetching (inside the host's mutual TLS to the agent).

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::FetchedKey;
use crate::secret::{PinSigningKey, ServiceKey};
use crate::wire::{KeyIdBytes, KeyRequest, KeyResponse, Message};
use crate::{Error, KeyId};

/// Most requests one connection may have outstanding.
const MAX_OUTSTANDING: usize = 1024;

/// Key requests to one agent over one connection; answers may come in any order.
///
/// Call order: [`KeyClient::request`] for each key wanted; send everything
/// [`KeyClient::poll_transmit`] returns; pass each message from the agent to
/// [`KeyClient::handle_message`], which names the request it answers. The host checks the
/// agent's certificate in the mutual TLS handshake; this machine trusts the connection.
pub struct KeyClient {
    next_request: u32,
    outstanding: Vec<u32>,
    transmit: VecDeque<Vec<u8>>,
    failed: bool,
}

impl Default for KeyClient {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyClient {
    /// A client with nothing outstanding.
    pub fn new() -> Self {
        Self {
            next_request: 0,
            outstanding: Vec::new(),
            transmit: VecDeque::new(),
            failed: false,
        }
    }

    /// Queues a request for the per-service key of `key_id` (and the PIN-bound key of
    /// `login`); returns the request identifier the answer will carry.
    pub fn request(
        &mut self,
        key_id: &KeyId,
        service: &[u8],
        login: Option<&[u8]>,
    ) -> Result<u32, Error> {
        if self.failed {
            return Err(Error::Failed);
        }
        if self.outstanding.len() >= MAX_OUTSTANDING {
            return Err(Error::TooLong {
                field: "outstanding key requests",
                max: MAX_OUTSTANDING,
                actual: self.outstanding.len() + 1,
            });
        }
        let request_id = self.next_request;
        let key_id = KeyIdBytes::new(key_id);
        let message = Message::KeyRequest(KeyRequest {
            request_id,
            key_id: key_id.as_slice(),
            service,
            login,
        });
        self.transmit.push_back(message.to_vec()?);
        self.next_request = self.next_request.wrapping_add(1);
        self.outstanding.push(request_id);
        Ok(request_id)
    }

    /// A message from the agent: the request it answers and the key, or why it was refused
    /// ([`Error::PeerRefused`] with the agent's outcome). Bytes that do not decode, or an
    /// answer to no outstanding request, fail the client.
    pub fn handle_message(
        &mut self,
        bytes: &[u8],
    ) -> Result<(u32, Result<FetchedKey, Error>), Error> {
        if self.failed {
            return Err(Error::Failed);
        }
        let answer = match Message::decode(bytes) {
            Ok(Message::KeyResponse(response)) => (response.request_id, fetched(&response)),
            Ok(Message::KeyRefusal(refusal)) => (
                refusal.request_id,
                Err(Error::PeerRefused {
                    code: refusal.outcome,
                }),
            ),
            Ok(_) => return Err(self.fail(Error::UnexpectedMessage { state: "fetching" })),
            Err(error) => return Err(self.fail(error)),
        };
        let Some(index) = self.outstanding.iter().position(|&id| id == answer.0) else {
            return Err(self.fail(Error::MismatchedAnswer {
                field: "request id",
            }));
        };
        self.outstanding.swap_remove(index);
        Ok(answer)
    }

    /// The next bytes to send to the agent.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// Whether the client failed for good.
    pub fn is_failed(&self) -> bool {
        self.failed
    }

    fn fail(&mut self, error: Error) -> Error {
        self.failed = true;
        self.transmit.clear();
        error
    }
}

fn fetched(response: &KeyResponse<'_>) -> Result<FetchedKey, Error> {
    Ok(FetchedKey {
        service_key: ServiceKey::from_bytes(response.service_key.0)?,
        not_after: response.not_after,
        pin_key: response
            .pin_key
            .map(|k| PinSigningKey::from_bytes(k.0))
            .transpose()?,
    })
}
