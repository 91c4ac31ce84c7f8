//! A few phones provision and register over UDP and TCP against a lab agent and registrar.

use keyprov_services::inventory;
use keyprov_services::lab::{Lab, LabOptions, REALM};
use keyprov_services::phone::{Phone, Transport};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_provision_and_register_over_udp_and_tcp() {
    let dir = tempfile::tempdir().unwrap();
    let phones = inventory::parse(&inventory::synthetic(4)).unwrap();
    let lab = Lab::start(dir.path(), &phones, LabOptions::default())
        .await
        .unwrap();
    for (i, entry) in phones.iter().enumerate() {
        let transport = if i % 2 == 0 {
            Transport::Udp
        } else {
            Transport::Tcp
        };
        let mut phone =
            Phone::with_tls(lab.phone_config(entry, transport), lab.phone_tls()).unwrap();
        phone.provision().await.unwrap();
        let registered = phone.register().await.unwrap();
        assert_eq!(registered.expires, 600);
        // A refresh on the same nonce is accepted too.
        assert_eq!(phone.register().await.unwrap().expires, 600);
    }
    assert_eq!(lab.registrar.as_ref().unwrap().registered(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_ha1_matches_what_the_phone_derives() {
    let dir = tempfile::tempdir().unwrap();
    let phones = inventory::parse(&inventory::synthetic(2)).unwrap();
    let lab = Lab::start(dir.path(), &phones, LabOptions::default())
        .await
        .unwrap();
    let mut phone = Phone::with_tls(
        lab.phone_config(&phones[1], Transport::Udp),
        lab.phone_tls(),
    )
    .unwrap();
    phone.provision().await.unwrap();
    let key_id = phone.key_id().unwrap();

    let seed = keyprov_services::seed::read_seed(&dir.path().join("master.seed")).unwrap();
    let keys = keyprov_services::agent::AgentKeys {
        seed: &seed,
        enterprise: keyprov_services::lab::ENTERPRISE,
        agent_id: keyprov_services::lab::AGENT_ID,
        key_lifetime: 0,
    };
    let core = keyprov_services::agent::AgentCore::open_store(lab.database(), &keys).unwrap();
    let rows = core
        .export_ha1(REALM, keyprov::digest::HashAlgorithm::Sha256)
        .unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0, key_id);

    // H(A1) recomputed with ring's SHA-256 from the password the phone side derives.
    let credentials = keyprov_services::phone::load_credentials(
        &dir.path().join(format!("phone-{}.cred", phones[1].serial)),
    )
    .unwrap()
    .unwrap();
    let password = credentials
        .secret_key
        .authentication_key()
        .service_key(REALM.as_bytes())
        .unwrap()
        .digest_password();
    let a1 = format!("{key_id}:{REALM}:{}", password.expose_secret_password());
    let expected = ring::digest::digest(&ring::digest::SHA256, a1.as_bytes());
    let expected = keyprov_services::seed::hex_encode(expected.as_ref());
    assert_eq!(String::from_utf8_lossy(rows[0].1.expose_secret()), expected);
    let table = keyprov_services::export::subscriber_table(REALM, &rows);
    assert!(table.ends_with(&format!("1:{key_id}:{REALM}:{expected}\n")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_registration_on_its_own_port() {
    let dir = tempfile::tempdir().unwrap();
    let phones = inventory::parse(&inventory::synthetic(3)).unwrap();
    let lab = Lab::start(dir.path(), &phones, LabOptions::default())
        .await
        .unwrap();
    for entry in &phones {
        let mut phone =
            Phone::with_tls(lab.phone_config(entry, Transport::Udp), lab.phone_tls()).unwrap();
        phone.provision().await.unwrap();
        let not_after = phone.register_native(lab.native_addr()).await.unwrap();
        assert!(not_after > keyprov_services::now());
    }
    let registrar = lab.registrar.as_ref().unwrap();
    assert_eq!(registrar.native_registered(), 3);

    // Phone 0's user has a PIN: its registration is PIN-signed, and a wrong PIN is refused.
    let mut wrong_pin = lab.phone_config(&phones[0], Transport::Udp);
    assert!(wrong_pin.pin.is_some());
    wrong_pin.pin = Some(zeroize::Zeroizing::new("9999".into()));
    let mut phone = Phone::with_tls(wrong_pin, lab.phone_tls()).unwrap();
    let err = phone.register_native(lab.native_addr()).await.unwrap_err();
    assert_eq!(
        err.downcast_ref::<keyprov::Error>(),
        Some(&keyprov::Error::WrongProof)
    );
    assert_eq!(registrar.registered(), 0, "no sip binding was made");

    // A phone whose secret key is wrong is refused: the proof does not verify.
    let mut stranger = lab.phone_config(&phones[0], Transport::Udp);
    stranger.credentials = dir.path().join("stranger.cred");
    let mut phone = Phone::with_tls(stranger.clone(), lab.phone_tls()).unwrap();
    phone.provision().await.unwrap();
    let mut text = std::fs::read_to_string(&stranger.credentials).unwrap();
    let secret_at = text.find("secret=").unwrap() + "secret=".len();
    let flipped = if &text[secret_at..secret_at + 2] == "00" {
        "ff"
    } else {
        "00"
    };
    text.replace_range(secret_at..secret_at + 2, flipped);
    std::fs::remove_file(&stranger.credentials).unwrap();
    keyprov_services::tls::write_private(&stranger.credentials, text.as_bytes()).unwrap();
    let mut forged = Phone::with_tls(stranger, lab.phone_tls()).unwrap();
    assert!(forged.register_native(lab.native_addr()).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_phone_refreshes_before_its_binding_lapses() {
    let dir = tempfile::tempdir().unwrap();
    let phones = inventory::parse(&inventory::synthetic(1)).unwrap();
    let options = LabOptions {
        min_expires: 1,
        ..LabOptions::default()
    };
    let lab = Lab::start(dir.path(), &phones, options).await.unwrap();
    let mut config = lab.phone_config(&phones[0], Transport::Tcp);
    config.expires = 2;
    let phone = Phone::with_tls(config, lab.phone_tls()).unwrap();
    let running = tokio::spawn(phone.run());

    // A 2 s binding refreshed at half time: still bound after 3.5 s, after three or more 200s.
    tokio::time::sleep(std::time::Duration::from_millis(3500)).await;
    let registrar = lab.registrar.as_ref().unwrap();
    assert_eq!(registrar.registered(), 1);
    assert!(
        registrar.registrations() >= 3,
        "{}",
        registrar.registrations()
    );
    running.abort();
}
