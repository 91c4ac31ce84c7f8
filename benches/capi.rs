//! What the C ABI costs over the Rust API: the same work called through the exported
//! `keyprov_*` functions (argument checks, panic guard, copies into caller buffers, event
//! structs) and directly. Both sides run in this process, so the figures leave out the cost of
//! a call through the dynamic linker, a few nanoseconds.
//!
//! - `device_key`: one device secret key from a precomputed schedule and a key identifier.
//! - `provisioning`: one full provisioning conversation in memory, device and agent, from the
//!   TLS session's start to the device holding its authentication key.
//!
//! Calling a C ABI needs `unsafe` here too: every block names what makes it sound.

#![deny(clippy::undocumented_unsafe_blocks)]

use core::ffi::c_void;
use core::ptr;

use criterion::{Criterion, criterion_group, criterion_main};
use keyprov::agent::{self, AgentConfig};
use keyprov::device::{self, AgentSession, ProvisioningConfig, Subject};
use keyprov::ffi::agent as c_agent;
use keyprov::ffi::device as c_device;
use keyprov::ffi::keyid::{keyprov_key_id, keyprov_key_id_free, keyprov_key_id_new_structured};
use keyprov::ffi::keys::{
    keyprov_key_schedule, keyprov_key_schedule_device_key, keyprov_key_schedule_free,
    keyprov_key_schedule_new,
};
use keyprov::ffi::result::{KEYPROV_OK, keyprov_result};
use keyprov::keys::{MasterKeySchedule, MasterKeyring};
use keyprov::secret::MasterKey;
use keyprov::{AgentId, DeviceId, KeyId};
use rand_core::{TryCryptoRng, TryRng};

const NOW: u64 = 1_700_000_000;
const MASTER: [u8; 32] = [7; 32];
const ANCHOR: [u8; 32] = [1; 32];
const BINDING: [u8; 32] = [3; 32];
const DEVICE: &str = "mac:00-1a-2b-3c-4d-5e";

/// A fast deterministic generator (xorshift), the same on both sides. Not a secure source.
struct InsecureBenchRng(u64);

impl InsecureBenchRng {
    fn fill(&mut self, out: &mut [u8]) {
        for chunk in out.chunks_mut(8) {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            chunk.copy_from_slice(&self.0.to_le_bytes()[..chunk.len()]);
        }
    }
}

impl TryRng for InsecureBenchRng {
    type Error = core::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.try_next_u64()? as u32)
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut bytes = [0; 8];
        self.fill(&mut bytes);
        Ok(u64::from_le_bytes(bytes))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.fill(dst);
        Ok(())
    }
}

impl TryCryptoRng for InsecureBenchRng {}

/// The same generator as a C callback; `userdata` is an `InsecureBenchRng`.
unsafe extern "C" fn bench_rng(userdata: *mut c_void, out: *mut u8, len: usize) -> keyprov_result {
    // SAFETY: the benchmark passes its own generator as userdata, and the library passes `out`
    // valid for `len` bytes.
    unsafe {
        (*userdata.cast::<InsecureBenchRng>()).fill(core::slice::from_raw_parts_mut(out, len))
    };
    KEYPROV_OK
}

fn ok(result: keyprov_result) {
    assert_eq!(result, KEYPROV_OK, "C ABI call failed");
}

fn device_key(c: &mut Criterion) {
    let key_id = KeyId::structured(
        1,
        AgentId::new("pbx-1").unwrap(),
        DEVICE.parse().unwrap(),
        9,
    );
    let schedule = MasterKeySchedule::new(&MasterKey::from_bytes(&MASTER, 1).unwrap());
    let mut c_schedule: *mut keyprov_key_schedule = ptr::null_mut();
    let mut c_key_id: *mut keyprov_key_id = ptr::null_mut();
    // SAFETY: every pointer is a live local or an out-parameter written by the call.
    unsafe {
        ok(keyprov_key_schedule_new(
            MASTER.as_ptr(),
            32,
            1,
            &mut c_schedule,
        ));
        ok(keyprov_key_id_new_structured(
            1,
            c"pbx-1".as_ptr(),
            5,
            DEVICE.as_ptr().cast(),
            DEVICE.len(),
            9,
            &mut c_key_id,
        ));
    }
    let mut group = c.benchmark_group("device_key");
    group.bench_function("rust", |b| {
        b.iter(|| schedule.device_key_for(&key_id).unwrap())
    });
    group.bench_function("c_abi", |b| {
        let mut out = [0u8; 32];
        // SAFETY: schedule and key id are live until freed below; `out` holds 32 bytes.
        b.iter(|| unsafe {
            ok(keyprov_key_schedule_device_key(
                c_schedule,
                c_key_id,
                out.as_mut_ptr(),
                32,
            ))
        })
    });
    group.finish();
    // SAFETY: both were made above and are freed once.
    unsafe {
        keyprov_key_schedule_free(c_schedule);
        keyprov_key_id_free(c_key_id);
    }
}

fn agent_config() -> AgentConfig {
    let mut keyring = MasterKeyring::new();
    keyring
        .insert(&MasterKey::from_bytes(&MASTER, 1).unwrap())
        .unwrap();
    AgentConfig {
        agent_id: AgentId::new("pbx-1").unwrap(),
        keyring,
        key_lifetime: 86_400,
        require_pin: false,
        max_pin_failures: 3,
    }
}

/// One provisioning through the Rust API.
fn provision_rust(config: &AgentConfig, rng: &mut InsecureBenchRng) {
    let subject = Subject::DeviceId(DEVICE.parse::<DeviceId>().unwrap());
    let mut device = device::Provisioning::new(ProvisioningConfig {
        trust_anchor: ANCHOR,
        subject,
        user: None,
        expected_agent: None,
        last_counter: None,
        require_address: false,
        response_timeout: 10,
    });
    let mut agent = agent::Provisioning::new();
    agent.handle_connected(&BINDING).unwrap();
    let session = AgentSession {
        agent_identity: &ANCHOR,
        channel_binding: &BINDING,
    };
    device.handle_connected(NOW, &session).unwrap();
    agent
        .handle_message(config, rng, &device.poll_transmit().unwrap())
        .unwrap();
    while let Some(event) = agent.poll_event() {
        if let agent::Event::ReserveCounter { handle, .. } = event {
            agent
                .handle_counter_result(config, NOW, handle, Ok(1))
                .unwrap();
        }
    }
    device
        .handle_message(NOW, &agent.poll_transmit().unwrap())
        .unwrap();
    while let Some(event) = device.poll_event() {
        match event {
            device::Event::StoreCredentials { handle, .. } => {
                device.handle_store_result(handle, Ok(())).unwrap();
            }
            device::Event::CloseSession => device.handle_closed().unwrap(),
            device::Event::Provisioned { .. } => return,
            _ => {}
        }
    }
    panic!("provisioning did not finish");
}

/// One provisioning through the C ABI, as a C host writes it.
///
/// # Safety
/// `config` is a live agent configuration and `rng` a live generator.
unsafe fn provision_c(config: *const c_agent::keyprov_agent_config, rng: *mut InsecureBenchRng) {
    let c = c_device::keyprov_device_provisioning_config {
        trust_anchor: ANCHOR,
        subject: c_device::KEYPROV_SUBJECT_DEVICE_ID,
        device_id: DEVICE.as_ptr().cast(),
        device_id_len: DEVICE.len(),
        proposed_key_id: ptr::null(),
        login: ptr::null(),
        login_len: 0,
        pin: ptr::null(),
        pin_len: 0,
        salt: ptr::null(),
        salt_len: 0,
        expected_agent: ptr::null(),
        expected_agent_len: 0,
        has_last_counter: 0,
        require_address: 0,
        last_counter: 0,
        response_timeout: 10,
    };
    let (mut device, mut agent) = (ptr::null_mut(), ptr::null_mut());
    let mut bytes = [0u8; 1024];
    let mut len = 0usize;
    // SAFETY: every pointer is a live local, an object made here and freed at the end, or
    // the caller's config and generator.
    unsafe {
        ok(c_device::keyprov_device_provisioning_new(&c, &mut device));
        ok(c_agent::keyprov_agent_provisioning_new(&mut agent));
        ok(c_agent::keyprov_agent_provisioning_handle_connected(
            agent,
            BINDING.as_ptr(),
            32,
        ));
        ok(c_device::keyprov_device_provisioning_handle_connected(
            device,
            NOW,
            ANCHOR.as_ptr(),
            32,
            BINDING.as_ptr(),
            32,
        ));
        ok(c_device::keyprov_device_provisioning_poll_transmit(
            device,
            bytes.as_mut_ptr(),
            1024,
            &mut len,
        ));
        ok(c_agent::keyprov_agent_provisioning_handle_message(
            agent,
            config,
            Some(bench_rng),
            rng.cast(),
            bytes.as_ptr(),
            len,
        ));
        let mut event: c_agent::keyprov_agent_event = core::mem::zeroed();
        loop {
            ok(c_agent::keyprov_agent_provisioning_poll_event(
                agent, &mut event,
            ));
            match event.kind {
                c_agent::KEYPROV_AGENT_EVENT_NONE => break,
                c_agent::KEYPROV_AGENT_EVENT_RESERVE_COUNTER => {
                    ok(c_agent::keyprov_agent_provisioning_handle_counter_result(
                        agent,
                        config,
                        NOW,
                        event.handle,
                        KEYPROV_OK,
                        1,
                    ))
                }
                _ => {}
            }
        }
        ok(c_agent::keyprov_agent_provisioning_poll_transmit(
            agent,
            bytes.as_mut_ptr(),
            1024,
            &mut len,
        ));
        ok(c_device::keyprov_device_provisioning_handle_message(
            device,
            NOW,
            bytes.as_ptr(),
            len,
        ));
        let mut event: c_device::keyprov_device_event = core::mem::zeroed();
        loop {
            ok(c_device::keyprov_device_provisioning_poll_event(
                device, &mut event,
            ));
            match event.kind {
                c_device::KEYPROV_DEVICE_EVENT_STORE_CREDENTIALS => {
                    ok(c_device::keyprov_device_provisioning_handle_store_result(
                        device,
                        event.handle,
                        KEYPROV_OK,
                    ))
                }
                c_device::KEYPROV_DEVICE_EVENT_CLOSE_SESSION => {
                    ok(c_device::keyprov_device_provisioning_handle_closed(device))
                }
                c_device::KEYPROV_DEVICE_EVENT_PROVISIONED => break,
                kind => panic!("unexpected device event {kind}"),
            }
        }
        c_agent::keyprov_agent_provisioning_free(agent);
        c_device::keyprov_device_provisioning_free(device);
    }
}

fn provisioning(c: &mut Criterion) {
    let config = agent_config();
    let mut rng = InsecureBenchRng(0x9e37_79b9_7f4a_7c15);
    let mut c_config = ptr::null_mut();
    // SAFETY: every pointer is a live local or an out-parameter written by the call.
    unsafe {
        ok(c_agent::keyprov_agent_config_new(
            c"pbx-1".as_ptr(),
            5,
            86_400,
            0,
            3,
            &mut c_config,
        ));
        ok(c_agent::keyprov_agent_config_add_master_key(
            c_config,
            MASTER.as_ptr(),
            32,
            1,
        ));
    }
    let mut group = c.benchmark_group("provisioning");
    group.bench_function("rust", |b| b.iter(|| provision_rust(&config, &mut rng)));
    group.bench_function("c_abi", |b| {
        // SAFETY: the configuration and the generator outlive every iteration.
        b.iter(|| unsafe { provision_c(c_config, &mut rng) })
    });
    group.finish();
    // SAFETY: made above, freed once.
    unsafe { c_agent::keyprov_agent_config_free(c_config) };
}

criterion_group!(benches, device_key, provisioning);
criterion_main!(benches);
