//! Every conversation with every option, run through the public API in the simulator.
#![cfg(feature = "sim")]

use keyprov::device::{RegistrationConfig, RegistrationMode, Subject, UserPin};
use keyprov::keyid::KeyId;
use keyprov::secret::Pin;
use keyprov::sim::{Faults, Provision, SERVICE, World};
use keyprov::{DeviceId, Error};

fn world() -> World {
    World::new(7, Faults::NONE)
}

fn provision(world: &mut World, subject: Subject) -> keyprov::device::Credentials {
    let config = world.device_config(subject);
    let run = Provision {
        config,
        report_address: true,
        restart_agent_after_reservation: false,
        impostor: None,
    };
    world.provision(&run).expect("provisioning succeeds")
}

fn registration(mode: RegistrationMode, sequence: u64) -> RegistrationConfig {
    RegistrationConfig {
        service: SERVICE.to_vec(),
        mode,
        sequence,
        user: None,
        response_timeout: 10,
    }
}

fn extension() -> Subject {
    Subject::DeviceId(DeviceId::extension("4711").unwrap())
}

fn assert_registered(outcome: &keyprov::sim::RegistrationOutcome) {
    let device = outcome.device.as_ref().expect("device registered");
    let registrar = outcome
        .registrar
        .as_ref()
        .unwrap()
        .as_ref()
        .expect("registrar registered");
    assert_eq!(device.device_to_registrar, registrar.device_to_registrar);
    assert_eq!(device.registrar_to_device, registrar.registrar_to_device);
}

#[test]
fn structured_key_id_then_challenge_response() {
    let mut world = world();
    let credentials = provision(&mut world, extension());
    assert!(credentials.key_id.is_structured());
    assert_eq!(credentials.key_id.counter(), Some(credentials.counter));
    let outcome = world.register(
        &credentials,
        registration(RegistrationMode::ChallengeResponse, 1),
    );
    assert_registered(&outcome.unwrap());
}

#[test]
fn anonymous_key_id_then_time_based() {
    let mut world = world();
    let credentials = provision(&mut world, Subject::Anonymous);
    assert!(!credentials.key_id.is_structured());
    let outcome = world
        .register(&credentials, registration(RegistrationMode::Time, 0))
        .unwrap();
    assert_registered(&outcome);
    let replay = world.replay(&outcome.first_message.unwrap());
    assert_eq!(replay, Err(Error::Replay));
}

#[test]
fn proposed_key_id_is_issued_exactly() {
    let mut world = world();
    let device = DeviceId::serial_number("ABC-1").unwrap();
    let proposed = KeyId::structured(1, world.agent.agent_id, device, 1);
    let credentials = provision(&mut world, Subject::ProposedKeyId(proposed));
    assert_eq!(credentials.key_id, proposed);
}

#[test]
fn sequence_mode_needs_a_challenge_first_and_refuses_replays() {
    let mut world = world();
    let credentials = provision(&mut world, extension());
    let first = world
        .register(&credentials, registration(RegistrationMode::Sequence, 1))
        .unwrap();
    assert_eq!(first.device.unwrap_err(), Error::PeerRefused { code: 305 });
    let challenged = world.register(
        &credentials,
        registration(RegistrationMode::ChallengeResponse, 2),
    );
    assert_registered(&challenged.unwrap());
    let next = world
        .register(&credentials, registration(RegistrationMode::Sequence, 3))
        .unwrap();
    assert_registered(&next);
    assert_eq!(
        world.replay(&next.first_message.unwrap()),
        Err(Error::Replay)
    );
    let old = world
        .register(&credentials, registration(RegistrationMode::Sequence, 3))
        .unwrap();
    assert_eq!(old.device.unwrap_err(), Error::PeerRefused { code: 306 });
}

#[test]
fn pin_checked_provisioning_and_pin_signed_registration() {
    let mut world = world();
    let pin = Pin::new("2468").unwrap();
    let salt = world.add_user(b"alice", &pin);
    let user = UserPin {
        login: b"alice".to_vec(),
        pin,
        salt,
    };
    let mut config = world.device_config(extension());
    config.user = Some(user.clone());
    let run = Provision {
        config,
        report_address: false,
        restart_agent_after_reservation: false,
        impostor: None,
    };
    let credentials = world.provision(&run).unwrap();
    for mode in [RegistrationMode::ChallengeResponse, RegistrationMode::Time] {
        let mut config = registration(mode, 5);
        config.user = Some(user.clone());
        assert_registered(&world.register(&credentials, config).unwrap());
    }
}

#[test]
fn wrong_pin_is_refused_and_locks_out() {
    let mut world = world();
    let salt = world.add_user(b"bob", &Pin::new("1357").unwrap());
    let wrong = UserPin {
        login: b"bob".to_vec(),
        pin: Pin::new("0000").unwrap(),
        salt,
    };
    let mut config = world.device_config(extension());
    config.user = Some(wrong);
    let run = Provision {
        config,
        report_address: false,
        restart_agent_after_reservation: false,
        impostor: None,
    };
    for _ in 0..3 {
        assert_eq!(
            world.provision(&run).unwrap_err(),
            Error::PeerRefused { code: 304 }
        );
    }
    assert_eq!(
        world.provision(&run).unwrap_err(),
        Error::PeerRefused { code: 308 }
    );
    assert!(
        world.reservations().is_empty(),
        "no counter reserved before the pin checked out"
    );
}

#[test]
fn untrusted_agent_gets_nothing() {
    let mut world = world();
    let config = world.device_config(extension());
    let run = Provision {
        config,
        report_address: false,
        restart_agent_after_reservation: false,
        impostor: Some([9; 32]),
    };
    assert_eq!(world.provision(&run).unwrap_err(), Error::UntrustedAgent);
}

#[test]
fn address_required_before_connecting() {
    let mut world = world();
    let mut config = world.device_config(extension());
    config.require_address = true;
    let run = Provision {
        config,
        report_address: false,
        restart_agent_after_reservation: false,
        impostor: None,
    };
    assert_eq!(world.provision(&run).unwrap_err(), Error::NoAddress);
}

#[test]
fn agent_restart_after_reservation_never_reuses_the_counter() {
    let mut world = world();
    let config = world.device_config(extension());
    let mut run = Provision {
        config,
        report_address: false,
        restart_agent_after_reservation: true,
        impostor: None,
    };
    assert_eq!(world.provision(&run).unwrap_err(), Error::SessionClosed);
    run.restart_agent_after_reservation = false;
    let credentials = world.provision(&run).unwrap();
    assert_eq!(credentials.counter, 2);
    assert!(!world.counter_reused());
}

#[test]
fn superseded_revoked_and_expired_keys_are_refused() {
    let mut world = world();
    let old = provision(&mut world, extension());
    let new = provision(&mut world, extension());
    assert!(new.counter > old.counter);
    let outcome = world
        .register(&old, registration(RegistrationMode::ChallengeResponse, 1))
        .unwrap();
    assert_eq!(
        outcome.device.unwrap_err(),
        Error::PeerRefused { code: 301 }
    );
    world.revoke(&new.key_id);
    let outcome = world
        .register(&new, registration(RegistrationMode::ChallengeResponse, 1))
        .unwrap();
    assert_eq!(
        outcome.device.unwrap_err(),
        Error::PeerRefused { code: 302 }
    );
    let fresh = provision(&mut world, Subject::Anonymous);
    world.now += 86_401;
    let outcome = world
        .register(&fresh, registration(RegistrationMode::ChallengeResponse, 1))
        .unwrap();
    assert_eq!(
        outcome.device.unwrap_err(),
        Error::PeerRefused { code: 303 }
    );
}

#[test]
fn a_cached_key_is_refused_once_the_registrar_forgets_it() {
    let mut world = world();
    let credentials = provision(&mut world, extension());
    let mode = RegistrationMode::ChallengeResponse;
    assert_registered(&world.register(&credentials, registration(mode, 1)).unwrap());
    world.revoke(&credentials.key_id);
    // Still cached: the registrar does not ask the agent again within the key's lifetime.
    assert_registered(&world.register(&credentials, registration(mode, 2)).unwrap());
    world.registrar.forget(&credentials.key_id);
    let outcome = world.register(&credentials, registration(mode, 3)).unwrap();
    assert_eq!(
        outcome.device.unwrap_err(),
        Error::PeerRefused { code: 302 }
    );
}

#[test]
fn wrong_pin_signatures_at_the_registrar_count_towards_the_lockout() {
    let mut world = world();
    let pin = Pin::new("9753").unwrap();
    let salt = world.add_user(b"erin", &pin);
    let credentials = provision(&mut world, extension());
    let guess = UserPin {
        login: b"erin".to_vec(),
        pin: Pin::new("1111").unwrap(),
        salt: salt.clone(),
    };
    for _ in 0..3 {
        let mut config = registration(RegistrationMode::ChallengeResponse, 1);
        config.user = Some(guess.clone());
        let outcome = world.register(&credentials, config).unwrap();
        assert_eq!(
            outcome.device.unwrap_err(),
            Error::PeerRefused { code: 304 }
        );
    }
    let mut config = world.device_config(extension());
    config.user = Some(UserPin {
        login: b"erin".to_vec(),
        pin,
        salt,
    });
    let run = Provision {
        config,
        report_address: false,
        restart_agent_after_reservation: false,
        impostor: None,
    };
    assert_eq!(
        world.provision(&run).unwrap_err(),
        Error::PeerRefused { code: 308 }
    );
}
