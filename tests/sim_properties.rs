//! Properties of the protocol over generated schedules: seeds, options and network faults.
#![cfg(feature = "sim")]

use keyprov::device::{Credentials, RegistrationConfig, RegistrationMode, Subject, UserPin};
use keyprov::secret::{DeviceSecretKey, Pin};
use keyprov::sim::{Faults, Provision, RegistrationOutcome, SERVICE, STUCK, World};
use keyprov::{DeviceId, Error};
use proptest::prelude::*;

/// One generated schedule.
#[derive(Clone, Debug)]
struct Schedule {
    seed: u64,
    faults: Faults,
    subject: u8,
    with_pin: bool,
    restart: bool,
    mode: u8,
    pin_signed: bool,
}

fn faults() -> impl Strategy<Value = Faults> {
    (0u8..25, 0u8..25, 0u8..25, 0u8..15, 0u8..15).prop_map(
        |(drop, duplicate, reorder, truncate, corrupt)| Faults {
            drop,
            duplicate,
            reorder,
            truncate,
            corrupt,
        },
    )
}

fn schedule() -> impl Strategy<Value = Schedule> {
    (
        any::<u64>(),
        prop_oneof![Just(Faults::NONE), faults()],
        0u8..3,
        any::<bool>(),
        any::<bool>(),
        0u8..3,
        any::<bool>(),
    )
        .prop_map(
            |(seed, faults, subject, with_pin, restart, mode, pin_signed)| Schedule {
                seed,
                faults,
                subject,
                with_pin,
                restart,
                mode,
                pin_signed,
            },
        )
}

const fn mode(code: u8) -> RegistrationMode {
    match code {
        0 => RegistrationMode::ChallengeResponse,
        1 => RegistrationMode::Time,
        _ => RegistrationMode::Sequence,
    }
}

fn subject(code: u8, world: &World) -> Subject {
    let device = DeviceId::serial_number("SN-42").unwrap();
    match code {
        0 => Subject::DeviceId(device),
        1 => Subject::Anonymous,
        _ => Subject::ProposedKeyId(keyprov::KeyId::structured(
            1,
            world.agent.agent_id,
            device,
            1,
        )),
    }
}

/// Provisions with up to three attempts; every attempt ends in success or an explicit error.
fn provision(world: &mut World, s: &Schedule, user: Option<UserPin>) -> Option<Credentials> {
    let mut config = world.device_config(subject(s.subject, world));
    config.user = user;
    let mut run = Provision {
        config,
        report_address: true,
        restart_agent_after_reservation: s.restart,
        impostor: None,
    };
    for _ in 0..3 {
        match world.provision(&run) {
            Ok(credentials) => return Some(credentials),
            Err(error) => assert_ne!(error, STUCK, "provisioning made no progress"),
        }
        run.restart_agent_after_reservation = false;
    }
    None
}

fn register(
    world: &mut World,
    credentials: &Credentials,
    s: &Schedule,
    user: Option<UserPin>,
) -> RegistrationOutcome {
    let config = RegistrationConfig {
        service: SERVICE.to_vec(),
        mode: mode(s.mode),
        sequence: 1,
        user: if s.pin_signed { user } else { None },
        response_timeout: 10,
    };
    world
        .register(credentials, config)
        .expect("registration makes progress")
}

/// Registered on the device means registered on the registrar with the same keys.
fn check_agreement(outcome: &RegistrationOutcome) -> Result<(), TestCaseError> {
    if let Ok(device) = &outcome.device {
        let registrar = outcome.registrar.as_ref().expect("registrar took part");
        let registrar = registrar.as_ref().expect("registrar registered too");
        prop_assert_eq!(&device.device_to_registrar, &registrar.device_to_registrar);
        prop_assert_eq!(&device.registrar_to_device, &registrar.registrar_to_device);
    }
    Ok(())
}

fn run(s: &Schedule) -> Result<(), TestCaseError> {
    let mut world = World::new(s.seed, s.faults);
    let pin = Pin::new("8642").unwrap();
    let salt = world.add_user(b"carol", &pin);
    let user = s.with_pin.then(|| UserPin {
        login: b"carol".to_vec(),
        pin,
        salt,
    });
    let Some(credentials) = provision(&mut world, s, user.clone()) else {
        prop_assert!(!world.counter_reused());
        return Ok(());
    };
    prop_assert!(!world.counter_reused(), "a counter was reserved twice");

    let outcome = register(&mut world, &credentials, s, user.clone());
    check_agreement(&outcome)?;
    if outcome.device.is_ok()
        && let Some(first) = &outcome.first_message
    {
        prop_assert!(
            world.replay(first).is_err(),
            "a replayed registration was accepted"
        );
    }

    // A wrong key is never accepted. It differs from the agent's key for this key identifier,
    // not from the device's: a corrupted provision response may have changed the device's key
    // (or its key identifier, to one the agent never issued).
    let mut wrong = credentials.clone();
    let issued = world
        .agent
        .keyring
        .device_key(&credentials.key_id)
        .unwrap_or_else(|_| credentials.secret_key.clone());
    let mut bytes = *issued.expose_secret();
    bytes[0] ^= 1;
    wrong.secret_key = DeviceSecretKey::from_bytes(&bytes).unwrap();
    let outcome = register(&mut world, &wrong, s, user.clone());
    prop_assert!(outcome.device.is_err());
    prop_assert!(
        !matches!(outcome.registrar, Some(Ok(_))),
        "registrar accepted a wrong key"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn every_schedule_ends_agreed_or_explicitly_failed(s in schedule()) {
        run(&s)?;
    }

    #[test]
    fn a_superseded_key_is_never_accepted(seed in any::<u64>(), mode_code in 0u8..2) {
        let mut world = World::new(seed, Faults::NONE);
        let s = Schedule { seed, faults: Faults::NONE, subject: 0, with_pin: false, restart: false, mode: mode_code, pin_signed: false };
        let old = provision(&mut world, &s, None).unwrap();
        world.faults = Faults { drop: 10, duplicate: 10, reorder: 10, truncate: 5, corrupt: 5 };
        let _newer = provision(&mut world, &s, None);
        prop_assert!(!world.counter_reused());
        let outcome = register(&mut world, &old, &s, None);
        if world.is_superseded(&old.key_id) {
            prop_assert!(outcome.device.is_err());
            prop_assert!(!matches!(outcome.registrar, Some(Ok(_))));
        }
    }
}

#[test]
fn refusals_are_explicit_and_distinct() {
    let mut world = World::new(1, Faults::NONE);
    let s = Schedule {
        seed: 1,
        faults: Faults::NONE,
        subject: 0,
        with_pin: false,
        restart: false,
        mode: 0,
        pin_signed: false,
    };
    let credentials = provision(&mut world, &s, None).unwrap();
    let mut wrong = credentials.clone();
    wrong.secret_key = DeviceSecretKey::from_bytes(&[7; 32]).unwrap();
    let outcome = register(&mut world, &wrong, &s, None);
    assert_eq!(
        outcome.device.unwrap_err(),
        Error::PeerRefused {
            code: Error::WrongProof.code()
        }
    );
    assert_eq!(outcome.registrar.unwrap().unwrap_err(), Error::WrongProof);
}
