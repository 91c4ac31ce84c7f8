//! A few phones provision and register over UDP and TCP against a lab agent and registrar.

use keyprov_services::inventory;
use keyprov_services::lab::{Lab, LabOptions};
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
