/*
 * keyprov: key provisioning and registration authentication for enterprise IP phones.
 *
 * Generated from src/ffi, do not edit: cbindgen 0.29.4 with
 *   cbindgen --config cbindgen.toml --output include/keyprov.h src/ffi/mod.rs
 * (run on the crate directory instead, cbindgen would add the Rust API's constants). The
 * calling contract (result codes, buffers, NULL, ownership, threads) is the "C API
 * conventions" section of README.md.
 */

#ifndef KEYPROV_H
#define KEYPROV_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

/**
 * The header's version as text, "MAJOR.MINOR.PATCH"; compare with keyprov_version().
 */
#define KEYPROV_VERSION_STRING "0.1.0"

/**
 * `keyprov_agent_event.kind`: no event is pending.
 */
#define KEYPROV_AGENT_EVENT_NONE 0

/**
 * Look the user `login` up in the directory; answer with
 * `keyprov_agent_provisioning_handle_user_result`.
 */
#define KEYPROV_AGENT_EVENT_LOOKUP_USER 1

/**
 * A PIN proof of `login` did not verify at `time`: count it for the lockout.
 */
#define KEYPROV_AGENT_EVENT_PIN_REJECTED 2

/**
 * A PIN proof of `login` verified: the failure count may be reset.
 */
#define KEYPROV_AGENT_EVENT_PIN_ACCEPTED 3

/**
 * Reserve the next counter durably (see `reservation`); answer with
 * `keyprov_agent_provisioning_handle_counter_result`.
 */
#define KEYPROV_AGENT_EVENT_RESERVE_COUNTER 4

/**
 * Key identifier `key_id` was issued with `counter`, valid until `time`.
 */
#define KEYPROV_AGENT_EVENT_ISSUED 5

/**
 * Check that `registrar` may have the key of `key_id` for `service` and that the key
 * identifier is current; answer with `keyprov_agent_key_service_handle_check_result`.
 */
#define KEYPROV_AGENT_EVENT_CHECK_KEY 6

/**
 * The conversation failed for good; `error` says why.
 */
#define KEYPROV_AGENT_EVENT_FAILED 7

/**
 * `keyprov_agent_event.reservation`: the next counter of the device in `device_type` and
 * `device_value`.
 */
#define KEYPROV_RESERVATION_DEVICE 1

/**
 * `keyprov_agent_event.reservation`: the next counter of the unstructured sequence, for the
 * key identifier in `key_id`.
 */
#define KEYPROV_RESERVATION_ANONYMOUS 2

/**
 * `keyprov_agent_event.reservation`: the key identifier in `key_id` that the device proposed;
 * answer `KEYPROV_SUPERSEDED` if it was issued before.
 */
#define KEYPROV_RESERVATION_PROPOSED 3

/**
 * `keyprov_key_check.status`: the key identifier is current.
 */
#define KEYPROV_KEY_STATUS_CURRENT 1

/**
 * `keyprov_key_check.status`: a newer key identifier was issued to the device.
 */
#define KEYPROV_KEY_STATUS_SUPERSEDED 2

/**
 * `keyprov_key_check.status`: the key identifier was revoked.
 */
#define KEYPROV_KEY_STATUS_REVOKED 3

/**
 * `keyprov_key_check.status`: the key identifier was never issued.
 */
#define KEYPROV_KEY_STATUS_UNKNOWN 4

/**
 * `keyprov_device_event.kind`: no event is pending.
 */
#define KEYPROV_DEVICE_EVENT_NONE 0

/**
 * Store the credentials in the event durably, then call
 * `keyprov_device_provisioning_handle_store_result` with its handle.
 */
#define KEYPROV_DEVICE_EVENT_STORE_CREDENTIALS 1

/**
 * The conversation with the agent is over: close the TLS session, then call
 * `keyprov_device_provisioning_handle_closed`.
 */
#define KEYPROV_DEVICE_EVENT_CLOSE_SESSION 2

/**
 * Provisioning finished: `key` holds the authentication key.
 */
#define KEYPROV_DEVICE_EVENT_PROVISIONED 3

/**
 * The registrar accepted the registration; the session keys are in the event.
 */
#define KEYPROV_DEVICE_EVENT_REGISTERED 4

/**
 * The conversation failed for good; `error` says why.
 */
#define KEYPROV_DEVICE_EVENT_FAILED 5

/**
 * `keyprov_device_provisioning_config.subject`: ask a key for the device identifier.
 */
#define KEYPROV_SUBJECT_DEVICE_ID 1

/**
 * `keyprov_device_provisioning_config.subject`: ask an unstructured key identifier.
 */
#define KEYPROV_SUBJECT_ANONYMOUS 2

/**
 * `keyprov_device_provisioning_config.subject`: propose a key identifier.
 */
#define KEYPROV_SUBJECT_PROPOSED_KEY_ID 3

/**
 * Registration mode: the registrar sends a challenge; four messages.
 */
#define KEYPROV_REGISTRATION_CHALLENGE_RESPONSE 1

/**
 * Registration mode: the device's clock shows freshness; two messages.
 */
#define KEYPROV_REGISTRATION_TIME 2

/**
 * Registration mode: a strictly increasing sequence number shows freshness; two messages.
 */
#define KEYPROV_REGISTRATION_SEQUENCE 3

/**
 * Digest algorithm MD5 (only in builds with the `digest-md5` feature, the default).
 */
#define KEYPROV_DIGEST_MD5 1

/**
 * Digest algorithm SHA-256.
 */
#define KEYPROV_DIGEST_SHA256 2

/**
 * Digest algorithm SHA-512-256.
 */
#define KEYPROV_DIGEST_SHA512_256 4

/**
 * Digest algorithm MD5-sess.
 */
#define KEYPROV_DIGEST_MD5_SESS 16

/**
 * Digest algorithm SHA-256-sess.
 */
#define KEYPROV_DIGEST_SHA256_SESS 32

/**
 * Digest algorithm SHA-512-256-sess.
 */
#define KEYPROV_DIGEST_SHA512_256_SESS 64

/**
 * Quality of protection `auth`: method and request URI.
 */
#define KEYPROV_DIGEST_QOP_AUTH 1

/**
 * Quality of protection `auth-int`: also the message body.
 */
#define KEYPROV_DIGEST_QOP_AUTH_INT 2

/**
 * Most bytes of a Digest header value this library reads.
 */
#define KEYPROV_DIGEST_MAX_HEADER_LEN 8192

/**
 * `keyprov_digest_stored_credential.lookup`: `secret` is the Digest password.
 */
#define KEYPROV_DIGEST_LOOKUP_PASSWORD 1

/**
 * `keyprov_digest_stored_credential.lookup`: `secret` is H(A1) in hexadecimal for `hash`.
 */
#define KEYPROV_DIGEST_LOOKUP_HA1 2

/**
 * `keyprov_digest_stored_credential.lookup`: no key is known under this key identifier.
 */
#define KEYPROV_DIGEST_LOOKUP_UNKNOWN_KEY_ID 3

/**
 * `keyprov_digest_stored_credential.lookup`: a newer key identifier was issued to the device.
 */
#define KEYPROV_DIGEST_LOOKUP_SUPERSEDED 4

/**
 * `keyprov_digest_stored_credential.lookup`: the key identifier was revoked.
 */
#define KEYPROV_DIGEST_LOOKUP_REVOKED 5

/**
 * Verdict: the response verified and its nonce count is new.
 */
#define KEYPROV_DIGEST_OUTCOME_ACCEPTED 1

/**
 * Verdict: the store knows no key under this key identifier.
 */
#define KEYPROV_DIGEST_OUTCOME_UNKNOWN_KEY_ID 2

/**
 * Verdict: the key identifier was superseded by a newer one.
 */
#define KEYPROV_DIGEST_OUTCOME_SUPERSEDED 3

/**
 * Verdict: the key identifier was revoked.
 */
#define KEYPROV_DIGEST_OUTCOME_REVOKED 4

/**
 * Verdict: the response does not match the stored credential.
 */
#define KEYPROV_DIGEST_OUTCOME_WRONG_RESPONSE 5

/**
 * Verdict: a correct response with a nonce count accepted before.
 */
#define KEYPROV_DIGEST_OUTCOME_REPLAY 6

/**
 * Verdict: a correct response on an expired or forgotten nonce.
 */
#define KEYPROV_DIGEST_OUTCOME_STALE 7

/**
 * Verdict: the nonce was not issued by a registrar holding the secret, for this realm.
 */
#define KEYPROV_DIGEST_OUTCOME_FORGED_NONCE 8

/**
 * Verdict: the credentials break the grammar or the policy; `reason` says how.
 */
#define KEYPROV_DIGEST_OUTCOME_MALFORMED 9

/**
 * Fewest bytes of entropy input `keyprov_drbg_new` and `keyprov_drbg_reseed` accept.
 */
#define KEYPROV_DRBG_MIN_ENTROPY_LEN 32

/**
 * Most bytes of entropy, nonce, personalization string or additional input accepted.
 */
#define KEYPROV_DRBG_MAX_INPUT_LEN 65536

/**
 * Most bytes one `keyprov_drbg_generate` call may return.
 */
#define KEYPROV_DRBG_MAX_REQUEST_LEN 65536

/**
 * Most bytes in a binary key identifier.
 */
#define KEYPROV_KEY_ID_MAX_LEN 75

/**
 * Most characters in a text key identifier, without the terminating NUL.
 */
#define KEYPROV_KEY_ID_MAX_TEXT_LEN 103

/**
 * Most bytes in an agent identifier.
 */
#define KEYPROV_AGENT_ID_MAX_LEN 32

/**
 * Most bytes in a device identifier value or an unstructured value.
 */
#define KEYPROV_KEY_ID_MAX_VALUE_LEN 32

/**
 * `keyprov_key_id_info.form` of a key identifier naming a device and a counter.
 */
#define KEYPROV_KEY_ID_STRUCTURED 1

/**
 * `keyprov_key_id_info.form` of a key identifier holding an unstructured value.
 */
#define KEYPROV_KEY_ID_UNSTRUCTURED 2

/**
 * Device identifier type: a telephone extension, 1 to 16 digits; typed text `ext:0123`.
 */
#define KEYPROV_DEVICE_ID_EXTENSION 1

/**
 * Device identifier type: a serial number, 1 to 32 of `A`-`Z`, `0`-`9`, `-`; typed text
 * `sn:AB-123`.
 */
#define KEYPROV_DEVICE_ID_SERIAL_NUMBER 2

/**
 * Device identifier type: a user login, 1 to 32 of `a`-`z`, `0`-`9`, `.`, `_`, `-`; typed
 * text `user:alice`.
 */
#define KEYPROV_DEVICE_ID_USER_LOGIN 3

/**
 * Device identifier type: an IPv4 address (4 value bytes); typed text `ipv4:192.0.2.7`.
 */
#define KEYPROV_DEVICE_ID_IPV4 4

/**
 * Device identifier type: an IPv6 address without zone (16 value bytes); typed text
 * `ipv6:2001:db8::7`.
 */
#define KEYPROV_DEVICE_ID_IPV6 5

/**
 * Device identifier type: an IEEE 802 MAC address (6 value bytes); typed text
 * `mac:00-1a-2b-3c-4d-5e` (also accepted: `:` separators, upper case, `001A.2B3C.4D5E`).
 */
#define KEYPROV_DEVICE_ID_MAC 6

/**
 * Source of an unstructured value: the agent's random generator.
 */
#define KEYPROV_VALUE_SOURCE_RANDOM 1

/**
 * Source of an unstructured value: a key database.
 */
#define KEYPROV_VALUE_SOURCE_KEY_DATABASE 2

/**
 * Source of an unstructured value: the output of a hash function.
 */
#define KEYPROV_VALUE_SOURCE_HASH 3

/**
 * Bytes in every key: master, device secret, authentication, service, PIN signing, session.
 */
#define KEYPROV_KEY_LEN 32

/**
 * Bytes in a MAC tag or a PIN signature.
 */
#define KEYPROV_TAG_LEN 32

/**
 * Characters in a SIP Digest password derived from a service key (without the NUL).
 */
#define KEYPROV_DIGEST_PASSWORD_LEN 32

/**
 * Most bytes one `keyprov_hkdf_expand` may produce.
 */
#define KEYPROV_HKDF_MAX_OUTPUT_LEN 8160

/**
 * Deadline reported by a `poll_timeout` call when no deadline runs.
 */
#define KEYPROV_NO_TIMEOUT UINT64_MAX

/**
 * Fewest bytes of a TLS channel binding: fewer (above all none, from a host that forgot to pass
 * its exporter value) would let a PIN proof verify in another session.
 */
#define KEYPROV_CHANNEL_BINDING_MIN_LEN 16

/**
 * Most bytes of a TLS channel binding.
 */
#define KEYPROV_CHANNEL_BINDING_MAX_LEN 1024

/**
 * `keyprov_registrar_event.kind`: no event is pending.
 */
#define KEYPROV_REGISTRAR_EVENT_NONE 0

/**
 * Fetch the key of `key_id` (and of `login`) from the agent with a `keyprov_key_client`, then
 * answer with `keyprov_registrar_session_handle_key_result`.
 */
#define KEYPROV_REGISTRAR_EVENT_FETCH_KEY 1

/**
 * The device is registered; the session keys are in the event.
 */
#define KEYPROV_REGISTRAR_EVENT_REGISTERED 2

/**
 * The registration failed for good; `error` says why.
 */
#define KEYPROV_REGISTRAR_EVENT_FAILED 3

/**
 * A PIN-signed registration had a good device proof but a wrong PIN signature: a PIN guess
 * by `login` at `not_after` (the host's clock), which the host may count towards the lockout.
 */
#define KEYPROV_REGISTRAR_EVENT_PIN_REJECTED 4

/**
 * Most entries `keyprov_registrar_config.key_cache_capacity` and `.replay_cache_capacity` may
 * ask for: both caches are allocated in full by `keyprov_registrar_new`.
 */
#define KEYPROV_REGISTRAR_MAX_CACHE_CAPACITY (1 << 24)

/**
 * Major version of the header (the crate version's first number).
 */
#define KEYPROV_VERSION_MAJOR 0

/**
 * Minor version of the header.
 */
#define KEYPROV_VERSION_MINOR 1

/**
 * Patch version of the header.
 */
#define KEYPROV_VERSION_PATCH 0

/**
 * What every agent machine shares: agent identifier, master keys (zeroized on free), policy.
 */
typedef struct keyprov_agent_config keyprov_agent_config;

/**
 * One registrar connection asking the agent for per-service keys.
 */
typedef struct keyprov_agent_key_service keyprov_agent_key_service;

/**
 * One device's provisioning conversation with the agent.
 */
typedef struct keyprov_agent_provisioning keyprov_agent_provisioning;

/**
 * The device side of provisioning; the secret key it holds is zeroized on free.
 */
typedef struct keyprov_device_provisioning keyprov_device_provisioning;

/**
 * The device side of one registration; its keys are zeroized on free.
 */
typedef struct keyprov_device_registration keyprov_device_registration;

/**
 * One phone's Digest state for one server; its credential is zeroized on free.
 */
typedef struct keyprov_digest_client keyprov_digest_client;

/**
 * Parsed Authorization (Proxy-Authorization) credentials.
 */
typedef struct keyprov_digest_credentials keyprov_digest_credentials;

/**
 * A registrar's Digest verifier: policy, nonce secret (zeroized on free), replay tracker.
 * `keyprov_digest_registrar_verify` changes the tracker, so threads sharing one verifier hold a
 * lock around it; issuing nonces and challenges only reads it.
 */
typedef struct keyprov_digest_registrar keyprov_digest_registrar;

/**
 * An HMAC_DRBG instance; its state is zeroized by `keyprov_drbg_free`.
 */
typedef struct keyprov_drbg keyprov_drbg;

/**
 * Key requests to one agent over one mutual TLS connection.
 */
typedef struct keyprov_key_client keyprov_key_client;

/**
 * A key identifier: the public name under which a device's secret key is issued and found.
 */
typedef struct keyprov_key_id keyprov_key_id;

/**
 * The key generating agent's precomputed schedule of one master key; zeroized on free.
 */
typedef struct keyprov_key_schedule keyprov_key_schedule;

/**
 * What every registration session shares; its cached keys are zeroized on free. The session
 * calls that take it change its caches: a host running sessions on several threads holds one
 * lock around each of them.
 */
typedef struct keyprov_registrar keyprov_registrar;

/**
 * One registration attempt.
 */
typedef struct keyprov_registrar_session keyprov_registrar_session;

/**
 * The return type of every fallible `keyprov_*` function: `KEYPROV_OK` (0) or a failure code.
 *
 * Codes are grouped by hundreds: 100-199 input out of its limits, 200-299 bytes that do not
 * decode, 300-399 the protocol refused, 400-499 API misuse, 500-599 SIP Digest, 900-999 the C
 * ABI itself. Numbers never change between releases.
 */
typedef uint32_t keyprov_result;

/**
 * Fills `out` with `len` bytes from a cryptographically secure source and returns `KEYPROV_OK`,
 * or any other value if it cannot; the call that asked for randomness then fails with
 * `KEYPROV_CALLBACK_FAILED` and changes nothing.
 *
 * `userdata` is what the host passed next to the callback. `keyprov_drbg_rng_callback` with a
 * `keyprov_drbg` as `userdata` is a ready-made implementation.
 */
typedef keyprov_result (*keyprov_rng_callback)(void *userdata, uint8_t *out, size_t len);

/**
 * The directory's answer about a login, known or not, for
 * `keyprov_agent_provisioning_handle_user_result`. The host counts PIN failures for unknown
 * logins too (a bounded table is enough), so the lockout does not tell which logins exist.
 */
typedef struct keyprov_agent_user {
    /**
     * The user's PIN verifier (`keyprov_pin_verifier`), `KEYPROV_KEY_LEN` bytes; ignored
     * unless `has_verifier` is 1.
     */
    uint8_t verifier[32];
    /**
     * Failed PIN attempts the host counted for this login within its lockout window.
     */
    uint32_t recent_failures;
    /**
     * 1 if the directory knows the login and `verifier` holds its verifier; 0 for an unknown
     * login (or a user without a PIN), which is answered like a wrong PIN.
     */
    uint8_t has_verifier;
} keyprov_agent_user;

/**
 * What an agent machine tells its host. Fields not named by the kind are zero.
 */
typedef struct keyprov_agent_event {
    /**
     * A `KEYPROV_AGENT_EVENT_*` value.
     */
    uint32_t kind;
    /**
     * `FAILED`: why, as a result code.
     */
    keyprov_result error;
    /**
     * `LOOKUP_USER`, `RESERVE_COUNTER`, `CHECK_KEY`: pass it back with the answer.
     */
    uint64_t handle;
    /**
     * `PIN_REJECTED`: when. `ISSUED`: last second the key is valid.
     */
    uint64_t time;
    /**
     * `ISSUED`: the counter.
     */
    uint32_t counter;
    /**
     * `RESERVE_COUNTER`: a `KEYPROV_RESERVATION_*` value.
     */
    uint8_t reservation;
    /**
     * `RESERVE_COUNTER` of a device: its `KEYPROV_DEVICE_ID_*` type.
     */
    uint8_t device_type;
    /**
     * Bytes used in `device_value`.
     */
    uint8_t device_value_len;
    /**
     * Bytes used in `key_id`.
     */
    uint8_t key_id_len;
    /**
     * `RESERVE_COUNTER` of a device: the canonical device identifier value.
     */
    uint8_t device_value[32];
    /**
     * `RESERVE_COUNTER` (anonymous, proposed), `ISSUED`, `CHECK_KEY`: the binary key id.
     */
    uint8_t key_id[75];
    /**
     * 1 if `login` holds a user (`CHECK_KEY` for a PIN-signed registration); else 0.
     */
    uint8_t has_login;
    /**
     * `LOOKUP_USER`, `PIN_*`, `CHECK_KEY`: the user's login.
     */
    uint8_t login[128];
    /**
     * Bytes used in `login`.
     */
    size_t login_len;
    /**
     * `CHECK_KEY`: the registrar's authenticated identity.
     */
    uint8_t registrar[32];
    /**
     * `CHECK_KEY`: the service the key is asked for.
     */
    uint8_t service[1024];
    /**
     * Bytes used in `service`.
     */
    size_t service_len;
} keyprov_agent_event;

/**
 * The host's answer to `KEYPROV_AGENT_EVENT_CHECK_KEY`.
 */
typedef struct keyprov_key_check {
    /**
     * 1 if the registrar may have keys of this service; else 0.
     */
    uint8_t authorized;
    /**
     * 1 if `pin_verifier` holds the user's verifier (asked with a login); else 0.
     */
    uint8_t has_pin_verifier;
    /**
     * A `KEYPROV_KEY_STATUS_*` value.
     */
    uint32_t status;
    /**
     * With `KEYPROV_KEY_STATUS_CURRENT`: last second the key is valid.
     */
    uint64_t not_after;
    /**
     * The user's PIN verifier.
     */
    uint8_t pin_verifier[32];
} keyprov_key_check;

/**
 * What the device is configured with before provisioning. Pointers are read during
 * `keyprov_device_provisioning_new` only.
 */
typedef struct keyprov_device_provisioning_config {
    /**
     * The agent's authenticated identity the device trusts (for example the SHA-256 of its
     * public key), compared in constant time with what `_handle_connected` reports.
     */
    uint8_t trust_anchor[32];
    /**
     * A `KEYPROV_SUBJECT_*` value.
     */
    uint32_t subject;
    /**
     * `KEYPROV_SUBJECT_DEVICE_ID`: the device identifier's typed text (`mac:...`).
     */
    const char *device_id;
    /**
     * Bytes at `device_id`.
     */
    size_t device_id_len;
    /**
     * `KEYPROV_SUBJECT_PROPOSED_KEY_ID`: the proposed key identifier.
     */
    const struct keyprov_key_id *proposed_key_id;
    /**
     * The user's login for a PIN-checked provisioning; length 0 for none, and then `pin` and
     * `salt` must be empty too.
     */
    const uint8_t *login;
    /**
     * Bytes at `login`, 0 to 128.
     */
    size_t login_len;
    /**
     * The PIN the user typed, ASCII digits.
     */
    const char *pin;
    /**
     * Bytes at `pin`, 4 to 16.
     */
    size_t pin_len;
    /**
     * The user's salt as the directory holds it.
     */
    const uint8_t *salt;
    /**
     * Bytes at `salt`.
     */
    size_t salt_len;
    /**
     * The agent identifier the answer must carry; length 0 to accept any.
     */
    const char *expected_agent;
    /**
     * Bytes at `expected_agent`.
     */
    size_t expected_agent_len;
    /**
     * 1 if `last_counter` holds the highest counter accepted before; else 0.
     */
    uint8_t has_last_counter;
    /**
     * 1 to send nothing before `keyprov_device_provisioning_handle_address`; else 0.
     */
    uint8_t require_address;
    /**
     * The highest counter this device accepted before; an answer must exceed it.
     */
    uint32_t last_counter;
    /**
     * Seconds to wait for the agent's answer.
     */
    uint64_t response_timeout;
} keyprov_device_provisioning_config;

/**
 * What a device machine tells its host. Fields not named by the kind are zero. `key`,
 * `send_key` and `receive_key` are secrets: wipe the event (`keyprov_secure_zero`) once used.
 */
typedef struct keyprov_device_event {
    /**
     * A `KEYPROV_DEVICE_EVENT_*` value.
     */
    uint32_t kind;
    /**
     * `FAILED`: why, as a result code.
     */
    keyprov_result error;
    /**
     * `STORE_CREDENTIALS`: pass it back with the answer.
     */
    uint64_t handle;
    /**
     * `STORE_CREDENTIALS`, `REGISTERED`: last second the key or registration is valid.
     */
    uint64_t not_after;
    /**
     * `STORE_CREDENTIALS`: the counter the agent reserved.
     */
    uint32_t counter;
    /**
     * Bytes used in `key_id`.
     */
    uint8_t key_id_len;
    /**
     * Bytes used in `agent_id`.
     */
    uint8_t agent_id_len;
    /**
     * `STORE_CREDENTIALS`, `PROVISIONED`, `REGISTERED`: the binary key identifier.
     */
    uint8_t key_id[75];
    /**
     * `STORE_CREDENTIALS`: the agent identifier, ASCII.
     */
    uint8_t agent_id[32];
    /**
     * `STORE_CREDENTIALS`: the device secret key. `PROVISIONED`: the authentication key.
     */
    uint8_t key[32];
    /**
     * `REGISTERED`: the session key for what the device sends.
     */
    uint8_t send_key[32];
    /**
     * `REGISTERED`: the session key for what the device receives.
     */
    uint8_t receive_key[32];
} keyprov_device_event;

/**
 * What the device is configured with for one registration. Pointers are read during
 * `keyprov_device_registration_new` only.
 */
typedef struct keyprov_device_registration_config {
    /**
     * The service (registrar realm).
     */
    const uint8_t *service;
    /**
     * Bytes at `service`, 1 to 1024.
     */
    size_t service_len;
    /**
     * A `KEYPROV_REGISTRATION_*` mode.
     */
    uint32_t mode;
    /**
     * This registration's sequence number; persist a higher one before the next.
     */
    uint64_t sequence;
    /**
     * The user's login for a PIN-signed registration; length 0 for none, and then `pin` and
     * `salt` must be empty too.
     */
    const uint8_t *login;
    /**
     * Bytes at `login`, 0 to 128.
     */
    size_t login_len;
    /**
     * The PIN the user typed, ASCII digits.
     */
    const char *pin;
    /**
     * Bytes at `pin`, 4 to 16.
     */
    size_t pin_len;
    /**
     * The user's salt.
     */
    const uint8_t *salt;
    /**
     * Bytes at `salt`.
     */
    size_t salt_len;
    /**
     * Seconds to wait for each answer.
     */
    uint64_t response_timeout;
} keyprov_device_registration_config;

/**
 * What the phone accepts from a server; every field is 0 (no) or 1 (yes).
 */
typedef struct keyprov_digest_client_policy {
    /**
     * Whether MD5 challenges may be answered (only if nothing stronger is offered).
     */
    uint8_t allow_md5;
    /**
     * Whether a challenge without qop (RFC 2069) may be answered.
     */
    uint8_t allow_rfc2069;
    /**
     * Choose `auth-int` over `auth` when both are offered.
     */
    uint8_t prefer_auth_int;
    /**
     * Send a hashed username when the server announces `userhash=true`.
     */
    uint8_t use_userhash;
} keyprov_digest_client_policy;

/**
 * A piece of text: `len` bytes at `ptr`, no NUL needed.
 */
typedef struct keyprov_str {
    /**
     * The first byte; may be NULL when `len` is 0.
     */
    const char *ptr;
    /**
     * Bytes at `ptr`.
     */
    size_t len;
} keyprov_str;

/**
 * The parts of a request that enter a Digest response.
 */
typedef struct keyprov_digest_request {
    /**
     * The method, for example `REGISTER`.
     */
    const char *method;
    /**
     * Bytes at `method`.
     */
    size_t method_len;
    /**
     * The digest URI as written in the `uri` parameter (for SIP the Request-URI).
     */
    const char *uri;
    /**
     * Bytes at `uri`.
     */
    size_t uri_len;
    /**
     * The message body; it enters the digest only with qop `auth-int`. May be NULL if empty.
     */
    const uint8_t *body;
    /**
     * Bytes at `body`.
     */
    size_t body_len;
} keyprov_digest_request;

/**
 * How a registrar challenges and what it accepts.
 */
typedef struct keyprov_digest_registrar_policy {
    /**
     * `KEYPROV_DIGEST_*` algorithms offered, one challenge each, strongest first.
     */
    uint32_t algorithms;
    /**
     * `KEYPROV_DIGEST_QOP_*` values offered; 0 offers the RFC 2069 form only.
     */
    uint32_t qop;
    /**
     * 1 to accept credentials without qop (RFC 2069), each nonce then serving once; else 0.
     */
    uint8_t allow_rfc2069;
    /**
     * 1 to announce `userhash=true`; else 0.
     */
    uint8_t userhash;
    /**
     * Seconds a nonce is accepted after its issue time.
     */
    uint64_t nonce_lifetime;
    /**
     * Seconds of clock difference allowed between registrars sharing the nonce secret.
     */
    uint64_t max_clock_drift;
    /**
     * How many nonces the replay tracker remembers at once.
     */
    size_t tracker_capacity;
} keyprov_digest_registrar_policy;

/**
 * What the host's credential store holds for the username of some credentials.
 */
typedef struct keyprov_digest_stored_credential {
    /**
     * A `KEYPROV_DIGEST_LOOKUP_*` value.
     */
    uint32_t lookup;
    /**
     * With `KEYPROV_DIGEST_LOOKUP_HA1`: the hash (`KEYPROV_DIGEST_MD5`, `_SHA256`,
     * `_SHA512_256`) the H(A1) was made with; otherwise ignored.
     */
    uint32_t hash;
    /**
     * The password or the H(A1) text; NULL for the other lookups.
     */
    const uint8_t *secret;
    /**
     * Bytes at `secret`.
     */
    size_t secret_len;
} keyprov_digest_stored_credential;

/**
 * The result of one verification.
 */
typedef struct keyprov_digest_verdict {
    /**
     * A `KEYPROV_DIGEST_OUTCOME_*` value, for the registrar's logs.
     */
    uint32_t outcome;
    /**
     * With `KEYPROV_DIGEST_OUTCOME_MALFORMED`: why, as a result code; otherwise 0.
     */
    keyprov_result reason;
    /**
     * With `KEYPROV_DIGEST_OUTCOME_ACCEPTED`: the `KEYPROV_DIGEST_*` algorithm used; else 0.
     */
    uint32_t algorithm;
    /**
     * The one status the phone gets: 200, 401 (challenge again) or 403. Unknown, superseded,
     * revoked and wrong all give 403, so the phone cannot tell them apart.
     */
    uint16_t status_code;
    /**
     * With status 401: 1 if the new challenge must carry `stale=true`; else 0.
     */
    uint8_t stale;
} keyprov_digest_verdict;

/**
 * Everything a key identifier says, copied out by `keyprov_key_id_inspect`.
 *
 * Byte fields are not NUL-terminated; their `_len` field says how many bytes count.
 */
typedef struct keyprov_key_id_info {
    /**
     * Format version, 1.
     */
    uint8_t version;
    /**
     * `KEYPROV_KEY_ID_STRUCTURED` or `KEYPROV_KEY_ID_UNSTRUCTURED`.
     */
    uint8_t form;
    /**
     * Epoch of the master key the secret key is derived from.
     */
    uint16_t epoch;
    /**
     * Structured: the counter. Unstructured: 0.
     */
    uint32_t counter;
    /**
     * Structured: a `KEYPROV_DEVICE_ID_*` type. Unstructured: 0.
     */
    uint8_t device_type;
    /**
     * Unstructured: a `KEYPROV_VALUE_SOURCE_*`. Structured: 0.
     */
    uint8_t value_source;
    /**
     * Bytes used in `agent`.
     */
    uint8_t agent_len;
    /**
     * Bytes used in `value`.
     */
    uint8_t value_len;
    /**
     * The agent identifier, ASCII.
     */
    uint8_t agent[KEYPROV_AGENT_ID_MAX_LEN];
    /**
     * Structured: the canonical device value bytes (digits or letters as ASCII, addresses as
     * their network-order bytes). Unstructured: the value.
     */
    uint8_t value[KEYPROV_KEY_ID_MAX_VALUE_LEN];
} keyprov_key_id_info;

/**
 * What the two session keys of a registration are bound to; both sides fill it alike.
 */
typedef struct keyprov_session_context {
    /**
     * The key identifier's binary encoding (`keyprov_key_id_encode`).
     */
    const uint8_t *key_id;
    /**
     * Bytes at `key_id`, 1 to 1024.
     */
    size_t key_id_len;
    /**
     * The service identifier, in practice the SIP domain or realm.
     */
    const uint8_t *service_id;
    /**
     * Bytes at `service_id`, 1 to 1024.
     */
    size_t service_id_len;
    /**
     * The device's fresh nonce.
     */
    const uint8_t *device_nonce;
    /**
     * Bytes at `device_nonce`, 16 to 1024.
     */
    size_t device_nonce_len;
    /**
     * The registrar's fresh nonce.
     */
    const uint8_t *registrar_nonce;
    /**
     * Bytes at `registrar_nonce`, 16 to 1024.
     */
    size_t registrar_nonce_len;
} keyprov_session_context;

/**
 * Size, alignment and offset of a struct or of one of its fields, in bytes.
 */
typedef struct keyprov_layout {
    /**
     * `sizeof` of the struct or field.
     */
    size_t size;
    /**
     * `alignof` of the struct or field.
     */
    size_t align;
    /**
     * `offsetof` of the field inside its struct; 0 for a whole struct.
     */
    size_t offset;
} keyprov_layout;

/**
 * How a registrar behaves. `service` is read during `keyprov_registrar_new` only.
 */
typedef struct keyprov_registrar_config {
    /**
     * The service (realm) this registrar serves.
     */
    const uint8_t *service;
    /**
     * Bytes at `service`, 1 to 1024.
     */
    size_t service_len;
    /**
     * Seconds a challenge may be answered after it was sent.
     */
    uint64_t challenge_lifetime;
    /**
     * How far, in seconds, a time-based registration's clock may be from the registrar's.
     */
    uint64_t clock_window;
    /**
     * Seconds a registration lasts at most.
     */
    uint64_t registration_lifetime;
    /**
     * Devices whose keys stay cached, at most `KEYPROV_REGISTRAR_MAX_CACHE_CAPACITY`.
     */
    size_t key_cache_capacity;
    /**
     * Time-based registrations remembered for replay detection, at most
     * `KEYPROV_REGISTRAR_MAX_CACHE_CAPACITY`.
     */
    size_t replay_cache_capacity;
} keyprov_registrar_config;

/**
 * A per-service key fetched from the agent (or derived by the host): the answer to
 * `KEYPROV_REGISTRAR_EVENT_FETCH_KEY`. Its keys are secrets: wipe it once used.
 */
typedef struct keyprov_fetched_key {
    /**
     * The per-service key.
     */
    uint8_t service_key[32];
    /**
     * Last second it is valid.
     */
    uint64_t not_after;
    /**
     * 1 if `pin_key` holds the PIN-bound signing key (the fetch named a user); else 0.
     */
    uint8_t has_pin_key;
    /**
     * The PIN-bound signing key.
     */
    uint8_t pin_key[32];
} keyprov_fetched_key;

/**
 * What a registrar session tells its host. Fields not named by the kind are zero; the session
 * keys are secrets: wipe the event (`keyprov_secure_zero`) once used.
 */
typedef struct keyprov_registrar_event {
    /**
     * A `KEYPROV_REGISTRAR_EVENT_*` value.
     */
    uint32_t kind;
    /**
     * `FAILED`: why, as a result code.
     */
    keyprov_result error;
    /**
     * `FETCH_KEY`: pass it back with the answer.
     */
    uint64_t handle;
    /**
     * `REGISTERED`: last second of the registration. `PIN_REJECTED`: when the guess was made.
     */
    uint64_t not_after;
    /**
     * Bytes used in `key_id`.
     */
    uint8_t key_id_len;
    /**
     * 1 if `login` holds a user (PIN-signed registration); else 0.
     */
    uint8_t has_login;
    /**
     * `FETCH_KEY`, `REGISTERED`: the binary key identifier.
     */
    uint8_t key_id[75];
    /**
     * `FETCH_KEY`, `REGISTERED`, `PIN_REJECTED`: the user's login.
     */
    uint8_t login[128];
    /**
     * Bytes used in `login`.
     */
    size_t login_len;
    /**
     * `REGISTERED`: the session key for what the registrar sends.
     */
    uint8_t send_key[32];
    /**
     * `REGISTERED`: the session key for what the registrar receives.
     */
    uint8_t receive_key[32];
} keyprov_registrar_event;

/**
 * The call succeeded.
 */
#define KEYPROV_OK 0

/**
 * Input: a field holds fewer bytes or characters than its minimum.
 */
#define KEYPROV_TOO_SHORT 100

/**
 * Input: a field holds more bytes or characters than its maximum.
 */
#define KEYPROV_TOO_LONG 101

/**
 * Input: a fixed-size field has the wrong length.
 */
#define KEYPROV_WRONG_LENGTH 102

/**
 * Input: a number is outside its accepted range (this includes unknown enum values).
 */
#define KEYPROV_OUT_OF_RANGE 103

/**
 * Input: a field holds a value that is not allowed (wrong characters, not UTF-8, wrong shape).
 */
#define KEYPROV_INVALID_VALUE 104

/**
 * Input: a value is acceptable but not written in its one canonical form.
 */
#define KEYPROV_NOT_CANONICAL 105

/**
 * Input: an IPv6 address carries a zone identifier, which names no device.
 */
#define KEYPROV_IPV6_ZONE_IDENTIFIER 106

/**
 * Input: the 32-bit key identifier counter is at 4294967295 and cannot advance.
 */
#define KEYPROV_COUNTER_EXHAUSTED 107

/**
 * Input: the random generator must be reseeded before it produces more output.
 */
#define KEYPROV_RESEED_REQUIRED 108

/**
 * Decode: input ended before a complete value.
 */
#define KEYPROV_TRUNCATED 200

/**
 * Decode: a complete value was followed by bytes that belong to nothing.
 */
#define KEYPROV_TRAILING_BYTES 201

/**
 * Decode: the format version is not one this build understands.
 */
#define KEYPROV_UNSUPPORTED_VERSION 202

/**
 * Decode: a type or tag byte has no meaning.
 */
#define KEYPROV_UNKNOWN_TYPE 203

/**
 * Outcome: no key is known under this key identifier.
 */
#define KEYPROV_UNKNOWN_KEY_ID 300

/**
 * Outcome: a newer key identifier has been issued to the same device.
 */
#define KEYPROV_SUPERSEDED 301

/**
 * Outcome: the key identifier was revoked.
 */
#define KEYPROV_REVOKED 302

/**
 * Outcome: the key's lifetime is over.
 */
#define KEYPROV_EXPIRED 303

/**
 * Outcome: a proof, MAC, signature or Digest response did not verify.
 */
#define KEYPROV_WRONG_PROOF 304

/**
 * Outcome: a challenge or nonce is genuine but too old; ask for a new one.
 */
#define KEYPROV_STALE_CHALLENGE 305

/**
 * Outcome: this exact message was accepted before.
 */
#define KEYPROV_REPLAY 306

/**
 * Outcome: the agent's authenticated identity does not match the configured trust anchor.
 */
#define KEYPROV_UNTRUSTED_AGENT 307

/**
 * Outcome: too many failed PIN attempts; the user is locked out for now.
 */
#define KEYPROV_LOCKED_OUT 308

/**
 * Outcome: the peer may not have what it asked for.
 */
#define KEYPROV_NOT_AUTHORIZED 309

/**
 * Outcome: the answer does not belong to this device or request.
 */
#define KEYPROV_MISMATCHED_ANSWER 310

/**
 * Outcome: a key identifier counter lower than one accepted before (a rollback).
 */
#define KEYPROV_COUNTER_ROLLBACK 311

/**
 * Outcome: the peer reported a failure.
 */
#define KEYPROV_PEER_REFUSED 312

/**
 * Outcome: the peer did not answer before the deadline.
 */
#define KEYPROV_TIMED_OUT 313

/**
 * Outcome: the session closed before the conversation finished.
 */
#define KEYPROV_SESSION_CLOSED 314

/**
 * Usage: a message arrived that is not expected in the current state.
 */
#define KEYPROV_UNEXPECTED_MESSAGE 400

/**
 * Usage: the call is not allowed in the current state.
 */
#define KEYPROV_INVALID_STATE 401

/**
 * Usage: the state machine failed earlier and accepts nothing more.
 */
#define KEYPROV_FAILED 402

/**
 * Usage: a request handle that is not outstanding.
 */
#define KEYPROV_UNKNOWN_HANDLE 403

/**
 * Usage: an output buffer is too small; `*len_out` holds the number of bytes needed.
 */
#define KEYPROV_BUFFER_TOO_SMALL 404

/**
 * Usage: the host must report an assigned address before provisioning starts.
 */
#define KEYPROV_NO_ADDRESS 405

/**
 * Digest: a Digest parameter appears twice.
 */
#define KEYPROV_DIGEST_DUPLICATE_PARAMETER 500

/**
 * Digest: a required Digest parameter is absent.
 */
#define KEYPROV_DIGEST_MISSING_PARAMETER 501

/**
 * Digest: a Digest header could not be parsed.
 */
#define KEYPROV_DIGEST_SYNTAX 502

/**
 * Digest: no offered challenge uses an algorithm and qop this side supports.
 */
#define KEYPROV_DIGEST_NO_SUPPORTED_CHALLENGE 503

/**
 * Digest: the server rejected a fresh answer to a stale challenge again.
 */
#define KEYPROV_DIGEST_STALE_LOOP 504

/**
 * C ABI: a pointer argument is NULL where an object or a non-empty buffer is required.
 */
#define KEYPROV_NULL_POINTER 900

/**
 * C ABI: the library hit an internal error (a Rust panic) and stopped it at the boundary.
 */
#define KEYPROV_PANIC 901

/**
 * C ABI: the object is unusable because an earlier call on it hit an internal error.
 */
#define KEYPROV_POISONED 902

/**
 * C ABI: a host callback (random generator) reported a failure.
 */
#define KEYPROV_CALLBACK_FAILED 903

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * Makes an agent configuration without master keys: `agent_id` is this agent's identifier
 * (1 to 32 of lowercase letters, digits and `-`), `key_lifetime` the seconds a new key is
 * valid, `require_pin` 1 to refuse requests without a user and PIN proof, and
 * `max_pin_failures` the failures within the host's window that lock a user out.
 */
keyprov_result keyprov_agent_config_new(const char *agent_id,
                                        size_t agent_id_len,
                                        uint64_t key_lifetime,
                                        uint8_t require_pin,
                                        uint32_t max_pin_failures,
                                        struct keyprov_agent_config **config_out);

/**
 * Adds the master key (`KEYPROV_KEY_LEN` bytes) of a new `epoch`; new key identifiers are
 * issued under the newest live epoch. An epoch live or retired before is refused.
 */
keyprov_result keyprov_agent_config_add_master_key(struct keyprov_agent_config *config,
                                                   const uint8_t *master_key,
                                                   size_t master_key_len,
                                                   uint16_t epoch);

/**
 * Retires `epoch`: device keys of that epoch stop verifying.
 */
keyprov_result keyprov_agent_config_retire_epoch(struct keyprov_agent_config *config,
                                                 uint16_t epoch);

/**
 * Zeroizes the master keys and releases the configuration; NULL is ignored. No machine may
 * use it afterwards.
 */
void keyprov_agent_config_free(struct keyprov_agent_config *config);

/**
 * Writes the PIN verifier a directory stores for a user: `HMAC(salt, lp(label) || lp(pin))`,
 * `KEYPROV_KEY_LEN` bytes. A stolen verifier lets anyone find the PIN by trying them all;
 * the verifier guards against online guessing only.
 */
keyprov_result keyprov_pin_verifier(const uint8_t *salt,
                                    size_t salt_len,
                                    const char *pin,
                                    size_t pin_len,
                                    uint8_t *verifier_out,
                                    size_t verifier_out_len);

/**
 * Makes the agent side of one device's provisioning, waiting for its session.
 */
keyprov_result keyprov_agent_provisioning_new(struct keyprov_agent_provisioning **provisioning_out);

/**
 * Reports the established TLS session and its channel binding (the same exporter value the
 * device reports, `KEYPROV_CHANNEL_BINDING_MIN_LEN` to `_MAX_LEN` bytes).
 */
keyprov_result keyprov_agent_provisioning_handle_connected(struct keyprov_agent_provisioning *provisioning,
                                                           const uint8_t *channel_binding,
                                                           size_t channel_binding_len);

/**
 * Passes the device's request; `rng` supplies the value of an unstructured key identifier.
 * Bytes that do not decode or come out of turn (for example before `_handle_connected`) fail
 * the machine for good, as the conversation inside TLS cannot recover.
 */
keyprov_result keyprov_agent_provisioning_handle_message(struct keyprov_agent_provisioning *provisioning,
                                                         const struct keyprov_agent_config *config,
                                                         keyprov_rng_callback rng,
                                                         void *rng_userdata,
                                                         const uint8_t *bytes,
                                                         size_t bytes_len);

/**
 * Answers `KEYPROV_AGENT_EVENT_LOOKUP_USER` at time `now` with the directory's answer about the
 * login, never NULL: an unknown login has `has_verifier` 0 and its own failure count.
 */
keyprov_result keyprov_agent_provisioning_handle_user_result(struct keyprov_agent_provisioning *provisioning,
                                                             const struct keyprov_agent_config *config,
                                                             uint64_t now,
                                                             uint64_t handle,
                                                             const struct keyprov_agent_user *user);

/**
 * Answers `KEYPROV_AGENT_EVENT_RESERVE_COUNTER` at time `now`: with `result` `KEYPROV_OK`,
 * `counter` is the reserved value, already durable; any other `result` refuses the request
 * with that code (for example `KEYPROV_SUPERSEDED` for a proposed key identifier issued
 * before).
 */
keyprov_result keyprov_agent_provisioning_handle_counter_result(struct keyprov_agent_provisioning *provisioning,
                                                                const struct keyprov_agent_config *config,
                                                                uint64_t now,
                                                                uint64_t handle,
                                                                keyprov_result result,
                                                                uint32_t counter);

/**
 * Writes the next bytes to send to the device; `*len_out` is 0 when there are none. The
 * answer carries the device secret key: send it only inside the TLS session.
 */
keyprov_result keyprov_agent_provisioning_poll_transmit(struct keyprov_agent_provisioning *provisioning,
                                                        uint8_t *buf,
                                                        size_t buf_len,
                                                        size_t *len_out);

/**
 * Writes the next event into `*event_out` (kind `KEYPROV_AGENT_EVENT_NONE` when none).
 */
keyprov_result keyprov_agent_provisioning_poll_event(struct keyprov_agent_provisioning *provisioning,
                                                     struct keyprov_agent_event *event_out);

/**
 * Releases the machine; NULL is ignored.
 */
void keyprov_agent_provisioning_free(struct keyprov_agent_provisioning *provisioning);

/**
 * Makes the key service of one registrar connection; `registrar_identity` (32 bytes) is the
 * registrar's authenticated identity from the mutual TLS handshake.
 */
keyprov_result keyprov_agent_key_service_new(const uint8_t *registrar_identity,
                                             size_t registrar_identity_len,
                                             struct keyprov_agent_key_service **key_service_out);

/**
 * Passes a key request from the registrar. Bytes that do not decode fail the service for
 * good: close the connection and start a new service on the next one.
 */
keyprov_result keyprov_agent_key_service_handle_message(struct keyprov_agent_key_service *key_service,
                                                        const struct keyprov_agent_config *config,
                                                        const uint8_t *bytes,
                                                        size_t bytes_len);

/**
 * Answers `KEYPROV_AGENT_EVENT_CHECK_KEY` at time `now`.
 */
keyprov_result keyprov_agent_key_service_handle_check_result(struct keyprov_agent_key_service *key_service,
                                                             const struct keyprov_agent_config *config,
                                                             uint64_t now,
                                                             uint64_t handle,
                                                             const struct keyprov_key_check *check);

/**
 * Writes the next bytes to send to the registrar; `*len_out` is 0 when there are none. The
 * answers carry per-service keys: send them only inside the mutual TLS connection.
 */
keyprov_result keyprov_agent_key_service_poll_transmit(struct keyprov_agent_key_service *key_service,
                                                       uint8_t *buf,
                                                       size_t buf_len,
                                                       size_t *len_out);

/**
 * Writes the next event into `*event_out` (kind `KEYPROV_AGENT_EVENT_NONE` when none).
 */
keyprov_result keyprov_agent_key_service_poll_event(struct keyprov_agent_key_service *key_service,
                                                    struct keyprov_agent_event *event_out);

/**
 * Releases the machine; NULL is ignored.
 */
void keyprov_agent_key_service_free(struct keyprov_agent_key_service *key_service);

/**
 * Makes the device side of provisioning from `config`.
 */
keyprov_result keyprov_device_provisioning_new(const struct keyprov_device_provisioning_config *config,
                                               struct keyprov_device_provisioning **provisioning_out);

/**
 * Reports that the device has an IP address.
 */
keyprov_result keyprov_device_provisioning_handle_address(struct keyprov_device_provisioning *provisioning);

/**
 * Reports the established TLS session at time `now`: the agent's authenticated identity
 * (32 bytes) and the session's channel binding (an exporter value,
 * `KEYPROV_CHANNEL_BINDING_MIN_LEN` to `_MAX_LEN` bytes). An agent that does not
 * match the trust anchor fails the machine with `KEYPROV_UNTRUSTED_AGENT`; otherwise the
 * request is queued for `_poll_transmit`.
 */
keyprov_result keyprov_device_provisioning_handle_connected(struct keyprov_device_provisioning *provisioning,
                                                            uint64_t now,
                                                            const uint8_t *agent_identity,
                                                            size_t agent_identity_len,
                                                            const uint8_t *channel_binding,
                                                            size_t channel_binding_len);

/**
 * Passes bytes received from the agent at time `now`. Bytes that do not decode or come out of
 * turn (before `_handle_connected`, or after the answer) fail the machine for good, unlike a
 * registration, which drops stray datagrams.
 */
keyprov_result keyprov_device_provisioning_handle_message(struct keyprov_device_provisioning *provisioning,
                                                          uint64_t now,
                                                          const uint8_t *bytes,
                                                          size_t bytes_len);

/**
 * Answers `KEYPROV_DEVICE_EVENT_STORE_CREDENTIALS`: `result` is `KEYPROV_OK` once the
 * credentials are durable, or the code of the failure, which fails the machine.
 */
keyprov_result keyprov_device_provisioning_handle_store_result(struct keyprov_device_provisioning *provisioning,
                                                               uint64_t handle,
                                                               keyprov_result result);

/**
 * Reports that the TLS session closed.
 */
keyprov_result keyprov_device_provisioning_handle_closed(struct keyprov_device_provisioning *provisioning);

/**
 * Reports the clock at or after the deadline of `_poll_timeout`.
 */
keyprov_result keyprov_device_provisioning_handle_timeout(struct keyprov_device_provisioning *provisioning,
                                                          uint64_t now);

/**
 * Writes the deadline for `_handle_timeout`, or `KEYPROV_NO_TIMEOUT`.
 */
keyprov_result keyprov_device_provisioning_poll_timeout(const struct keyprov_device_provisioning *provisioning,
                                                        uint64_t *deadline_out);

/**
 * Writes the next bytes to send to the agent into `buf`; `*len_out` is 0 when there are none.
 * With a too-small buffer the bytes stay queued.
 */
keyprov_result keyprov_device_provisioning_poll_transmit(struct keyprov_device_provisioning *provisioning,
                                                         uint8_t *buf,
                                                         size_t buf_len,
                                                         size_t *len_out);

/**
 * Writes the next event into `*event_out` (kind `KEYPROV_DEVICE_EVENT_NONE` when none).
 */
keyprov_result keyprov_device_provisioning_poll_event(struct keyprov_device_provisioning *provisioning,
                                                      struct keyprov_device_event *event_out);

/**
 * Zeroizes and releases the machine; NULL is ignored.
 */
void keyprov_device_provisioning_free(struct keyprov_device_provisioning *provisioning);

/**
 * Makes the device side of one registration with the stored key identifier and device
 * secret key (`KEYPROV_KEY_LEN` bytes); derives the per-service keys.
 */
keyprov_result keyprov_device_registration_new(const struct keyprov_device_registration_config *config,
                                               const struct keyprov_key_id *key_id,
                                               const uint8_t *secret_key,
                                               size_t secret_key_len,
                                               struct keyprov_device_registration **registration_out);

/**
 * Queues the first message at time `now`; the device nonce comes from `rng`, which is asked
 * before anything changes.
 */
keyprov_result keyprov_device_registration_start(struct keyprov_device_registration *registration,
                                                 uint64_t now,
                                                 keyprov_rng_callback rng,
                                                 void *rng_userdata);

/**
 * Passes a datagram received from the registrar. Bytes that do not decode or are not expected
 * now are refused without changing anything.
 */
keyprov_result keyprov_device_registration_handle_message(struct keyprov_device_registration *registration,
                                                          const uint8_t *bytes,
                                                          size_t bytes_len);

/**
 * Reports the clock at or after the deadline of `_poll_timeout`.
 */
keyprov_result keyprov_device_registration_handle_timeout(struct keyprov_device_registration *registration,
                                                          uint64_t now);

/**
 * Writes the deadline for `_handle_timeout`, or `KEYPROV_NO_TIMEOUT`.
 */
keyprov_result keyprov_device_registration_poll_timeout(const struct keyprov_device_registration *registration,
                                                        uint64_t *deadline_out);

/**
 * Writes the next datagram to send to the registrar; `*len_out` is 0 when there is none.
 */
keyprov_result keyprov_device_registration_poll_transmit(struct keyprov_device_registration *registration,
                                                         uint8_t *buf,
                                                         size_t buf_len,
                                                         size_t *len_out);

/**
 * Writes the next event into `*event_out` (kind `KEYPROV_DEVICE_EVENT_NONE` when none).
 */
keyprov_result keyprov_device_registration_poll_event(struct keyprov_device_registration *registration,
                                                      struct keyprov_device_event *event_out);

/**
 * Zeroizes and releases the machine; NULL is ignored.
 */
void keyprov_device_registration_free(struct keyprov_device_registration *registration);

/**
 * Writes H(A1) = H(username ":" realm ":" password) as lowercase hexadecimal text and a NUL,
 * for `hash` one of `KEYPROV_DIGEST_MD5`, `_SHA256`, `_SHA512_256`: what a registrar may
 * store instead of the password.
 */
keyprov_result keyprov_digest_ha1(uint32_t hash,
                                  const char *username,
                                  size_t username_len,
                                  const char *realm,
                                  size_t realm_len,
                                  const uint8_t *password,
                                  size_t password_len,
                                  char *buf,
                                  size_t buf_len,
                                  size_t *len_out);

/**
 * Writes the default client policy: MD5 allowed, RFC 2069 refused, `auth`, no userhash.
 */
keyprov_result keyprov_digest_client_policy_init(struct keyprov_digest_client_policy *policy_out);

/**
 * Makes a client for `username` (for keyprov the key identifier's text form) holding the
 * Digest `password` (1 to 256 bytes; for keyprov `keyprov_digest_password`). `policy` may be
 * NULL for the defaults.
 */
keyprov_result keyprov_digest_client_new(const char *username,
                                         size_t username_len,
                                         const uint8_t *password,
                                         size_t password_len,
                                         const struct keyprov_digest_client_policy *policy,
                                         struct keyprov_digest_client **client_out);

/**
 * Makes a client that holds only H(A1) (`ha1_hex`, 32 or 64 hexadecimal digits) for the hash
 * `hash` (`KEYPROV_DIGEST_MD5`, `_SHA256` or `_SHA512_256`); it answers only challenges of
 * that hash.
 */
keyprov_result keyprov_digest_client_new_ha1(const char *username,
                                             size_t username_len,
                                             uint32_t hash,
                                             const char *ha1_hex,
                                             size_t ha1_hex_len,
                                             const struct keyprov_digest_client_policy *policy,
                                             struct keyprov_digest_client **client_out);

/**
 * Takes the challenges of a 401 or 407 reply: `count` header values at `values`, in any order;
 * the strongest acceptable one is answered from now on. After an answer, a challenge without
 * `stale=true` fails with `KEYPROV_WRONG_PROOF` (the credential was refused) and a second stale
 * one with `KEYPROV_DIGEST_STALE_LOOP`; on failure the client is unchanged.
 */
keyprov_result keyprov_digest_client_handle_challenges(struct keyprov_digest_client *client,
                                                       const struct keyprov_str *values,
                                                       size_t count);

/**
 * Writes the Authorization (Proxy-Authorization) value for `request` as NUL-terminated text.
 * The client nonce of a new server nonce comes from `rng`. With a too-small buffer nothing
 * changes: the nonce count advances only when the value is written.
 */
keyprov_result keyprov_digest_client_authorize(struct keyprov_digest_client *client,
                                               const struct keyprov_digest_request *request,
                                               keyprov_rng_callback rng,
                                               void *rng_userdata,
                                               char *buf,
                                               size_t buf_len,
                                               size_t *len_out);

/**
 * As `keyprov_digest_client_authorize`, with the client nonce given by the host (`cnonce`,
 * used only by the first request on a server nonce; later ones keep it and count up). For
 * hosts with their own nonce source, and for known-answer tests.
 */
keyprov_result keyprov_digest_client_authorize_with_cnonce(struct keyprov_digest_client *client,
                                                           const struct keyprov_digest_request *request,
                                                           const char *cnonce,
                                                           size_t cnonce_len,
                                                           char *buf,
                                                           size_t buf_len,
                                                           size_t *len_out);

/**
 * Checks the Authentication-Info value of a 2xx reply; `body` (the response body) matters only
 * with `auth-int`. `*verified_out` receives 1 if `rspauth` proved the server knows the
 * credential, 0 if the reply carried none; a wrong `rspauth` fails with `KEYPROV_WRONG_PROOF`.
 */
keyprov_result keyprov_digest_client_handle_authentication_info(struct keyprov_digest_client *client,
                                                                const char *value,
                                                                size_t value_len,
                                                                const uint8_t *body,
                                                                size_t body_len,
                                                                uint8_t *verified_out);

/**
 * Records that the server accepted the last answer (a 2xx without Authentication-Info).
 */
keyprov_result keyprov_digest_client_handle_accepted(struct keyprov_digest_client *client);

/**
 * Forgets the challenge: the next request goes without credentials.
 */
keyprov_result keyprov_digest_client_reset(struct keyprov_digest_client *client);

/**
 * Writes the nonce count of the last Authorization on the current nonce (0 before the first).
 */
keyprov_result keyprov_digest_client_nonce_count(const struct keyprov_digest_client *client,
                                                 uint32_t *count_out);

/**
 * Zeroizes the credential and releases the client; NULL is ignored.
 */
void keyprov_digest_client_free(struct keyprov_digest_client *client);

/**
 * Writes the default registrar policy: SHA-512-256 and SHA-256 with qop `auth`, nonces living
 * 300 seconds, 30 seconds of drift, 4096 nonces tracked.
 */
keyprov_result keyprov_digest_registrar_policy_init(struct keyprov_digest_registrar_policy *policy_out);

/**
 * Makes a registrar for `realm` (for keyprov the service identifier) whose nonces are
 * authenticated by `nonce_secret` (32 bytes, shared by every registrar of a cluster). `policy`
 * may be NULL for the defaults.
 */
keyprov_result keyprov_digest_registrar_new(const char *realm,
                                            size_t realm_len,
                                            const struct keyprov_digest_registrar_policy *policy,
                                            const uint8_t *nonce_secret,
                                            size_t nonce_secret_len,
                                            struct keyprov_digest_registrar **registrar_out);

/**
 * Writes a fresh nonce issued at `now` (seconds, any fixed epoch the cluster agrees on) as
 * NUL-terminated text; its salt comes from `rng`. The registrar keeps no state per nonce.
 */
keyprov_result keyprov_digest_registrar_issue_nonce(const struct keyprov_digest_registrar *registrar,
                                                    uint64_t now,
                                                    keyprov_rng_callback rng,
                                                    void *rng_userdata,
                                                    char *buf,
                                                    size_t buf_len,
                                                    size_t *len_out);

/**
 * Writes how many challenge values the registrar offers (one per algorithm).
 */
keyprov_result keyprov_digest_registrar_challenge_count(const struct keyprov_digest_registrar *registrar,
                                                        size_t *count_out);

/**
 * Writes challenge value `index` (below the challenge count, strongest first) for `nonce`
 * as NUL-terminated text; `stale` 1 adds `stale=true`.
 */
keyprov_result keyprov_digest_registrar_challenge(const struct keyprov_digest_registrar *registrar,
                                                  const char *nonce,
                                                  size_t nonce_len,
                                                  uint8_t stale,
                                                  size_t index,
                                                  char *buf,
                                                  size_t buf_len,
                                                  size_t *len_out);

/**
 * Parses an Authorization (Proxy-Authorization) value.
 */
keyprov_result keyprov_digest_credentials_parse(const char *value,
                                                size_t value_len,
                                                struct keyprov_digest_credentials **credentials_out);

/**
 * Writes the username of the credentials as NUL-terminated text, and into `*hashed_out` 1 if
 * it is a `userhash` (hexadecimal H(username ":" realm)) the store must resolve, else 0.
 */
keyprov_result keyprov_digest_credentials_username(const struct keyprov_digest_credentials *credentials,
                                                   char *buf,
                                                   size_t buf_len,
                                                   size_t *len_out,
                                                   uint8_t *hashed_out);

/**
 * Releases parsed credentials; NULL is ignored.
 */
void keyprov_digest_credentials_free(struct keyprov_digest_credentials *credentials);

/**
 * Verifies `credentials` for `request` at time `now` against what the host's store holds for
 * their username, and writes the verdict. Returns `KEYPROV_OK` whenever a verdict was reached,
 * including refusals: the verdict says whether the phone is registered. Only an accepted
 * verification changes the registrar (it records the nonce count).
 */
keyprov_result keyprov_digest_registrar_verify(struct keyprov_digest_registrar *registrar,
                                               const struct keyprov_digest_credentials *credentials,
                                               const struct keyprov_digest_request *request,
                                               uint64_t now,
                                               const struct keyprov_digest_stored_credential *stored,
                                               struct keyprov_digest_verdict *verdict_out);

/**
 * Writes the Authentication-Info value (with `rspauth`) of the last accepted verification as
 * NUL-terminated text, adding `nextnonce` when `nextnonce_len` is not 0 (a nonce from
 * `keyprov_digest_registrar_issue_nonce`). Before any acceptance this fails with
 * `KEYPROV_INVALID_STATE`.
 */
keyprov_result keyprov_digest_registrar_authentication_info(const struct keyprov_digest_registrar *registrar,
                                                            const char *nextnonce,
                                                            size_t nextnonce_len,
                                                            char *buf,
                                                            size_t buf_len,
                                                            size_t *len_out);

/**
 * Zeroizes the nonce secret and releases the registrar; NULL is ignored.
 */
void keyprov_digest_registrar_free(struct keyprov_digest_registrar *registrar);

/**
 * Instantiates a generator from `entropy` (at least `KEYPROV_DRBG_MIN_ENTROPY_LEN` bytes), a
 * `nonce` and a `personalization` string (each may be empty).
 */
keyprov_result keyprov_drbg_new(const uint8_t *entropy,
                                size_t entropy_len,
                                const uint8_t *nonce,
                                size_t nonce_len,
                                const uint8_t *personalization,
                                size_t personalization_len,
                                struct keyprov_drbg **drbg_out);

/**
 * Mixes fresh `entropy` (at least `KEYPROV_DRBG_MIN_ENTROPY_LEN` bytes) and optional
 * `additional` input into the state and restarts the reseed counter.
 */
keyprov_result keyprov_drbg_reseed(struct keyprov_drbg *drbg,
                                   const uint8_t *entropy,
                                   size_t entropy_len,
                                   const uint8_t *additional,
                                   size_t additional_len);

/**
 * Fills all `buf_len` bytes of `buf` (at most `KEYPROV_DRBG_MAX_REQUEST_LEN`) in one request,
 * with optional `additional` input. Fails with `KEYPROV_RESEED_REQUIRED` once the reseed
 * interval is used up; a failure leaves the state and `buf` unchanged.
 */
keyprov_result keyprov_drbg_generate(struct keyprov_drbg *drbg,
                                     const uint8_t *additional,
                                     size_t additional_len,
                                     uint8_t *buf,
                                     size_t buf_len);

/**
 * Sets how many generate requests are allowed between reseeds, 1 to 2^48 (the default is
 * 2^24).
 */
keyprov_result keyprov_drbg_set_reseed_interval(struct keyprov_drbg *drbg, uint64_t requests);

/**
 * Writes how many generate requests are still allowed before a reseed is required.
 */
keyprov_result keyprov_drbg_requests_before_reseed(const struct keyprov_drbg *drbg,
                                                   uint64_t *requests_out);

/**
 * A `keyprov_rng_callback` drawing from the `keyprov_drbg` passed as `userdata`, in requests
 * of at most `KEYPROV_DRBG_MAX_REQUEST_LEN` bytes. It returns the generator's failure code
 * (for example `KEYPROV_RESEED_REQUIRED`) when it cannot serve.
 */
keyprov_result keyprov_drbg_rng_callback(void *userdata, uint8_t *out, size_t len);

/**
 * Zeroizes and releases a generator; NULL is ignored.
 */
void keyprov_drbg_free(struct keyprov_drbg *drbg);

/**
 * Makes a structured key identifier: the `counter`-th key agent `agent` issued to `device`
 * under master key `epoch`.
 *
 * `agent` is `agent_len` bytes of lowercase letters, digits and `-`; `device` is the typed
 * text form of the device identifier, `device_len` bytes, in any spelling its type accepts.
 * On success `*key_id_out` receives a new object to release with `keyprov_key_id_free`.
 */
keyprov_result keyprov_key_id_new_structured(uint16_t epoch,
                                             const char *agent,
                                             size_t agent_len,
                                             const char *device,
                                             size_t device_len,
                                             uint32_t counter,
                                             struct keyprov_key_id **key_id_out);

/**
 * Makes an unstructured key identifier holding `value` (1 to 32 bytes) from `source`, one of
 * the `KEYPROV_VALUE_SOURCE_*` values.
 */
keyprov_result keyprov_key_id_new_unstructured(uint16_t epoch,
                                               const char *agent,
                                               size_t agent_len,
                                               uint8_t source,
                                               const uint8_t *value,
                                               size_t value_len,
                                               struct keyprov_key_id **key_id_out);

/**
 * Decodes the binary form of a key identifier; only the canonical encoding is accepted.
 */
keyprov_result keyprov_key_id_decode(const uint8_t *bytes,
                                     size_t bytes_len,
                                     struct keyprov_key_id **key_id_out);

/**
 * Parses the text form of a key identifier (`kp1` and unpadded base64url), `text_len` bytes
 * without a NUL; only the canonical text is accepted.
 */
keyprov_result keyprov_key_id_parse(const char *text,
                                    size_t text_len,
                                    struct keyprov_key_id **key_id_out);

/**
 * Writes the binary form (at most `KEYPROV_KEY_ID_MAX_LEN` bytes) into `buf`.
 */
keyprov_result keyprov_key_id_encode(const struct keyprov_key_id *key_id,
                                     uint8_t *buf,
                                     size_t buf_len,
                                     size_t *len_out);

/**
 * Writes the text form as NUL-terminated text (at most `KEYPROV_KEY_ID_MAX_TEXT_LEN`
 * characters and the NUL) into `buf`; usable unchanged as a SIP Digest username.
 */
keyprov_result keyprov_key_id_text(const struct keyprov_key_id *key_id,
                                   char *buf,
                                   size_t buf_len,
                                   size_t *len_out);

/**
 * Writes the canonical typed text form of the device (`mac:00-1a-2b-3c-4d-5e`) of a
 * structured key identifier into `buf`, NUL-terminated. An unstructured key identifier has
 * no device and fails with `KEYPROV_INVALID_VALUE`.
 */
keyprov_result keyprov_key_id_device_text(const struct keyprov_key_id *key_id,
                                          char *buf,
                                          size_t buf_len,
                                          size_t *len_out);

/**
 * Copies every field of the key identifier into `*info_out`.
 */
keyprov_result keyprov_key_id_inspect(const struct keyprov_key_id *key_id,
                                      struct keyprov_key_id_info *info_out);

/**
 * Makes the next key identifier for the same device, epoch and agent: the counter plus one.
 * At counter 4294967295 this fails with `KEYPROV_COUNTER_EXHAUSTED`; an unstructured key
 * identifier fails with `KEYPROV_INVALID_VALUE`.
 */
keyprov_result keyprov_key_id_successor(const struct keyprov_key_id *key_id,
                                        struct keyprov_key_id **key_id_out);

/**
 * Whether two key identifiers are the same: 1 if equal, 0 if not or if either is NULL.
 */
uint8_t keyprov_key_id_equal(const struct keyprov_key_id *a, const struct keyprov_key_id *b);

/**
 * Releases a key identifier made by this library; NULL is ignored.
 */
void keyprov_key_id_free(struct keyprov_key_id *key_id);

/**
 * Writes the canonical typed text form of a device identifier given in any accepted spelling
 * (`mac:001A.2B3C.4D5E` gives `mac:00-1a-2b-3c-4d-5e`) into `buf`, NUL-terminated.
 */
keyprov_result keyprov_device_id_canonical(const char *device,
                                           size_t device_len,
                                           char *buf,
                                           size_t buf_len,
                                           size_t *len_out);

/**
 * Derives the master key of `enterprise_id` (1 to 1024 bytes) and `epoch` from `seed`
 * (32 to 65536 bytes) with HMAC_DRBG, and writes its `KEYPROV_KEY_LEN` bytes to `key_out`.
 */
keyprov_result keyprov_master_key_from_seed(const uint8_t *seed,
                                            size_t seed_len,
                                            const uint8_t *enterprise_id,
                                            size_t enterprise_id_len,
                                            uint16_t epoch,
                                            uint8_t *key_out,
                                            size_t key_out_len);

/**
 * Precomputes the device key schedule of a master key (`KEYPROV_KEY_LEN` bytes) of `epoch`.
 */
keyprov_result keyprov_key_schedule_new(const uint8_t *master_key,
                                        size_t master_key_len,
                                        uint16_t epoch,
                                        struct keyprov_key_schedule **schedule_out);

/**
 * Writes the epoch of the schedule's master key.
 */
keyprov_result keyprov_key_schedule_epoch(const struct keyprov_key_schedule *schedule,
                                          uint16_t *epoch_out);

/**
 * Derives the device secret key of `key_id`, which must carry the schedule's epoch, into
 * `key_out` (`KEYPROV_KEY_LEN` bytes).
 */
keyprov_result keyprov_key_schedule_device_key(const struct keyprov_key_schedule *schedule,
                                               const struct keyprov_key_id *key_id,
                                               uint8_t *key_out,
                                               size_t key_out_len);

/**
 * Derives the device secret key of a key identifier given as its binary encoding
 * (`key_id_len` bytes, 1 to 1024), without checking the encoding or the epoch; prefer
 * `keyprov_key_schedule_device_key` unless the bytes come from a store that checked them.
 */
keyprov_result keyprov_key_schedule_device_key_bytes(const struct keyprov_key_schedule *schedule,
                                                     const uint8_t *key_id,
                                                     size_t key_id_len,
                                                     uint8_t *key_out,
                                                     size_t key_out_len);

/**
 * Derives the authentication key from a device secret key; the device computes it once the
 * provisioning session closed.
 */
keyprov_result keyprov_authentication_key(const uint8_t *device_key,
                                          size_t device_key_len,
                                          uint8_t *key_out,
                                          size_t key_out_len);

/**
 * Derives the key of one service (`service_id`, 1 to 1024 bytes) from an authentication key.
 */
keyprov_result keyprov_service_key(const uint8_t *authentication_key,
                                   size_t authentication_key_len,
                                   const uint8_t *service_id,
                                   size_t service_id_len,
                                   uint8_t *key_out,
                                   size_t key_out_len);

/**
 * Computes the registration MAC of `transcript` under a service key (`KEYPROV_TAG_LEN` bytes
 * into `tag_out`).
 */
keyprov_result keyprov_service_mac(const uint8_t *service_key,
                                   size_t service_key_len,
                                   const uint8_t *transcript,
                                   size_t transcript_len,
                                   uint8_t *tag_out,
                                   size_t tag_out_len);

/**
 * Checks a registration MAC in constant time: `KEYPROV_OK`, or `KEYPROV_WRONG_PROOF` if it
 * does not match (`KEYPROV_WRONG_LENGTH` if `tag` is not `KEYPROV_TAG_LEN` bytes).
 */
keyprov_result keyprov_service_mac_verify(const uint8_t *service_key,
                                          size_t service_key_len,
                                          const uint8_t *transcript,
                                          size_t transcript_len,
                                          const uint8_t *tag,
                                          size_t tag_len);

/**
 * Derives the two session keys of a registration from the service key and `context`:
 * `device_to_registrar_out` protects what the device sends, `registrar_to_device_out` what
 * it receives; each takes `KEYPROV_KEY_LEN` bytes.
 */
keyprov_result keyprov_session_keys(const uint8_t *service_key,
                                    size_t service_key_len,
                                    const struct keyprov_session_context *context,
                                    uint8_t *device_to_registrar_out,
                                    size_t device_to_registrar_out_len,
                                    uint8_t *registrar_to_device_out,
                                    size_t registrar_to_device_out_len);

/**
 * Writes the SIP Digest password of a service key: `KEYPROV_DIGEST_PASSWORD_LEN` characters
 * and a NUL. The registrar and the phone use it as the Digest password of the key
 * identifier's text form.
 */
keyprov_result keyprov_digest_password(const uint8_t *service_key,
                                       size_t service_key_len,
                                       char *buf,
                                       size_t buf_len,
                                       size_t *len_out);

/**
 * Derives the signing key bound to a device secret key, the user's PIN (`pin_len` ASCII
 * digits, 4 to 16) and the user's salt: the PIN verifier (`keyprov_pin_verifier`), then
 * `keyprov_pin_signing_key_from_verifier`.
 */
keyprov_result keyprov_pin_signing_key(const uint8_t *device_key,
                                       size_t device_key_len,
                                       const char *pin,
                                       size_t pin_len,
                                       const uint8_t *salt,
                                       size_t salt_len,
                                       uint8_t *key_out,
                                       size_t key_out_len);

/**
 * Derives the same signing key from the user's PIN verifier (`KEYPROV_KEY_LEN` bytes), as an
 * agent does for a registrar without ever seeing the PIN.
 */
keyprov_result keyprov_pin_signing_key_from_verifier(const uint8_t *device_key,
                                                     size_t device_key_len,
                                                     const uint8_t *verifier,
                                                     size_t verifier_len,
                                                     uint8_t *key_out,
                                                     size_t key_out_len);

/**
 * Signs `message` with a PIN signing key (`KEYPROV_TAG_LEN` bytes into `signature_out`).
 */
keyprov_result keyprov_pin_sign(const uint8_t *pin_signing_key,
                                size_t pin_signing_key_len,
                                const uint8_t *message,
                                size_t message_len,
                                uint8_t *signature_out,
                                size_t signature_out_len);

/**
 * Checks a PIN signature in constant time: `KEYPROV_OK` or `KEYPROV_WRONG_PROOF`.
 */
keyprov_result keyprov_pin_verify(const uint8_t *pin_signing_key,
                                  size_t pin_signing_key_len,
                                  const uint8_t *message,
                                  size_t message_len,
                                  const uint8_t *signature,
                                  size_t signature_len);

/**
 * HKDF-Extract (RFC 5869) with SHA-256: the pseudorandom key (`KEYPROV_KEY_LEN` bytes) from
 * `salt` (empty means 32 zero bytes) and input keying material `ikm`.
 */
keyprov_result keyprov_hkdf_extract(const uint8_t *salt,
                                    size_t salt_len,
                                    const uint8_t *ikm,
                                    size_t ikm_len,
                                    uint8_t *prk_out,
                                    size_t prk_out_len);

/**
 * HKDF-Expand (RFC 5869) with SHA-256: fills all `okm_len` bytes of `okm` (at most
 * `KEYPROV_HKDF_MAX_OUTPUT_LEN`) from a `KEYPROV_KEY_LEN`-byte `prk` and `info`.
 */
keyprov_result keyprov_hkdf_expand(const uint8_t *prk,
                                   size_t prk_len,
                                   const uint8_t *info,
                                   size_t info_len,
                                   uint8_t *okm,
                                   size_t okm_len);

/**
 * Overwrites `len` bytes at `buf` with zeros in a way the compiler does not remove: for keys
 * copied out of the library (key buffers, events, fetched keys). NULL with length 0 is fine.
 */
keyprov_result keyprov_secure_zero(void *buf, size_t len);

/**
 * Zeroizes and releases a key schedule; NULL is ignored.
 */
void keyprov_key_schedule_free(struct keyprov_key_schedule *schedule);

/**
 * Reports the layout of the public struct `name` or of its field `"struct.field"`.
 *
 * `name` is `name_len` bytes of text, for example `"keyprov_layout"` or
 * `"keyprov_layout.offset"`. Unknown names fail with `KEYPROV_INVALID_VALUE`.
 */
keyprov_result keyprov_layout_of(const char *name,
                                 size_t name_len,
                                 struct keyprov_layout *layout_out);

/**
 * Makes the shared registrar state, allocating both caches at their full capacity.
 */
keyprov_result keyprov_registrar_new(const struct keyprov_registrar_config *config,
                                     struct keyprov_registrar **registrar_out);

/**
 * Zeroizes the cached keys and releases the registrar; NULL is ignored. No session may use it
 * afterwards.
 */
void keyprov_registrar_free(struct keyprov_registrar *registrar);

/**
 * Makes a session waiting for the device's first message.
 */
keyprov_result keyprov_registrar_session_new(struct keyprov_registrar_session **session_out);

/**
 * Passes a datagram from the device received at time `now`; `rng` supplies the registrar's
 * nonce. Bytes that do not decode are refused without changing anything.
 */
keyprov_result keyprov_registrar_session_handle_message(struct keyprov_registrar_session *session,
                                                        struct keyprov_registrar *registrar,
                                                        uint64_t now,
                                                        keyprov_rng_callback rng,
                                                        void *rng_userdata,
                                                        const uint8_t *bytes,
                                                        size_t bytes_len);

/**
 * Answers `KEYPROV_REGISTRAR_EVENT_FETCH_KEY` at time `now`: with `result` `KEYPROV_OK`,
 * `key` holds the fetched key; any other `result` (for example the code the key client
 * reported) refuses the registration.
 */
keyprov_result keyprov_registrar_session_handle_key_result(struct keyprov_registrar_session *session,
                                                           struct keyprov_registrar *registrar,
                                                           uint64_t now,
                                                           keyprov_rng_callback rng,
                                                           void *rng_userdata,
                                                           uint64_t handle,
                                                           keyprov_result result,
                                                           const struct keyprov_fetched_key *key);

/**
 * Reports the clock at or after the deadline of `_poll_timeout`.
 */
keyprov_result keyprov_registrar_session_handle_timeout(struct keyprov_registrar_session *session,
                                                        uint64_t now);

/**
 * Writes the deadline for `_handle_timeout`, or `KEYPROV_NO_TIMEOUT`.
 */
keyprov_result keyprov_registrar_session_poll_timeout(const struct keyprov_registrar_session *session,
                                                      uint64_t *deadline_out);

/**
 * Writes the next datagram to send to the device; `*len_out` is 0 when there is none.
 */
keyprov_result keyprov_registrar_session_poll_transmit(struct keyprov_registrar_session *session,
                                                       uint8_t *buf,
                                                       size_t buf_len,
                                                       size_t *len_out);

/**
 * Writes the next event into `*event_out` (kind `KEYPROV_REGISTRAR_EVENT_NONE` when none).
 */
keyprov_result keyprov_registrar_session_poll_event(struct keyprov_registrar_session *session,
                                                    struct keyprov_registrar_event *event_out);

/**
 * Releases the session; NULL is ignored.
 */
void keyprov_registrar_session_free(struct keyprov_registrar_session *session);

/**
 * Makes a key client with nothing outstanding.
 */
keyprov_result keyprov_key_client_new(struct keyprov_key_client **client_out);

/**
 * Queues a request for the per-service key of `key_id` at `service` (and the PIN-bound key of
 * `login`, length 0 for none); `*request_id_out` receives the identifier its answer carries.
 */
keyprov_result keyprov_key_client_request(struct keyprov_key_client *client,
                                          const struct keyprov_key_id *key_id,
                                          const uint8_t *service,
                                          size_t service_len,
                                          const uint8_t *login,
                                          size_t login_len,
                                          uint32_t *request_id_out);

/**
 * Passes a message from the agent: `*request_id_out` names the request it answers, and
 * `*key_result_out` is `KEYPROV_OK` with the key in `*key_out`, or the agent's refusal
 * (`KEYPROV_PEER_REFUSED`). Bytes that do not decode fail the client.
 */
keyprov_result keyprov_key_client_handle_message(struct keyprov_key_client *client,
                                                 const uint8_t *bytes,
                                                 size_t bytes_len,
                                                 uint32_t *request_id_out,
                                                 keyprov_result *key_result_out,
                                                 struct keyprov_fetched_key *key_out);

/**
 * Writes the next bytes to send to the agent; `*len_out` is 0 when there are none.
 */
keyprov_result keyprov_key_client_poll_transmit(struct keyprov_key_client *client,
                                                uint8_t *buf,
                                                size_t buf_len,
                                                size_t *len_out);

/**
 * Releases the client; NULL is ignored.
 */
void keyprov_key_client_free(struct keyprov_key_client *client);

/**
 * Writes the fixed message of `result` into `buf` as NUL-terminated text.
 *
 * `*len_out` receives the bytes the message occupies including its NUL. With a `buf` of
 * `buf_len` bytes smaller than that, nothing is written and `KEYPROV_BUFFER_TOO_SMALL` is
 * returned; `buf` may be NULL when `buf_len` is 0, to ask for the size. Unknown codes get the
 * message "unknown result code". The message is the same for every failure with this code; for
 * the details of the last failure (which field, which limit) see `keyprov_last_error_message`.
 */
keyprov_result keyprov_result_message(keyprov_result result,
                                      char *buf,
                                      size_t buf_len,
                                      size_t *len_out);

/**
 * Writes the full message of the most recent failed call on the calling thread into `buf`.
 *
 * The message names the field and the limit ("agent identifier too long: 65 > maximum 64")
 * and never contains secret values. A successful call does not clear it; before any failure
 * the message is empty. Buffer rules as for `keyprov_result_message`; asking for the size or
 * failing with `KEYPROV_BUFFER_TOO_SMALL` keeps the stored message.
 */
keyprov_result keyprov_last_error_message(char *buf, size_t buf_len, size_t *len_out);

/**
 * The group of a result code: its hundreds (1 input, 2 decode, 3 outcome, 4 usage, 5 Digest,
 * 9 C ABI), or 0 for `KEYPROV_OK`.
 */
uint32_t keyprov_result_group(keyprov_result result);

/**
 * The version of the library that is linked, as NUL-terminated text "MAJOR.MINOR.PATCH".
 *
 * Compare it with `KEYPROV_VERSION_STRING` (written into the header by `cbindgen.toml`, since
 * cbindgen does not translate text constants) to detect a header that does not match the
 * library.
 * The text is static: never free it.
 */
const char *keyprov_version(void);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* KEYPROV_H */
