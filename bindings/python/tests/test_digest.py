import hashlib

import pytest

import keyprov


def test_ha1_matches_hashlib():
    expected = hashlib.sha256(b"Mufasa:http-auth@example.org:Circle of Life").hexdigest()
    assert keyprov.digest_ha1(keyprov.SHA256, "Mufasa", "http-auth@example.org",
                              b"Circle of Life") == expected
    expected = hashlib.md5(b"u:r:p").hexdigest()
    assert keyprov.digest_ha1(keyprov.MD5, "u", "r", b"p") == expected


def test_rfc7616_sha256_example():
    client = keyprov.DigestClient("Mufasa", b"Circle of Life")
    client.handle_challenges([
        'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
        'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
        'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"'])
    value = client.authorize_with_cnonce("GET", "/dir/index.html",
                                         "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
    assert 'response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"' in value


def response_by_hand(password, authorization, method, uri):
    """RFC 7616 section 3.4.1 with hashlib, from the fields of the Authorization value."""
    fields = {}
    for part in authorization[len("Digest "):].split(", "):
        name, _, value = part.partition("=")
        fields[name] = value.strip('"')
    h = {"SHA-256": hashlib.sha256, "SHA-512-256": lambda d: hashlib.new("sha512_256", d)}[
        fields["algorithm"]]
    ha1 = h(f"{fields['username']}:{fields['realm']}:{password}".encode()).hexdigest()
    ha2 = h(f"{method}:{uri}".encode()).hexdigest()
    data = f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{ha2}"
    return fields["response"], h(data.encode()).hexdigest()


def test_registration_round_trip():
    rng = keyprov.Drbg(b"r" * 32)
    registrar = keyprov.DigestRegistrar("sip.example.com", b"s" * 32)
    with keyprov.DigestClient("kp1AQEAAQ", b"secret") as phone:
        phone.handle_challenges(registrar.challenges(1000, rng))
        value = phone.authorize("REGISTER", "sip:sip.example.com", rng)
        sent, by_hand = response_by_hand("secret", value, "REGISTER", "sip:sip.example.com")
        assert sent == by_hand
        verdict = registrar.verify(value, "REGISTER", "sip:sip.example.com", 1001, b"secret")
        assert verdict == {"outcome": "accepted", "status": 200, "stale": False, "reason": 0}
        assert phone.handle_authentication_info(registrar.authentication_info()) is True
        replay = registrar.verify(value, "REGISTER", "sip:sip.example.com", 1002, b"secret")
        assert (replay["outcome"], replay["status"], replay["stale"]) == ("replay", 401, True)
        wrong = registrar.verify(value, "REGISTER", "sip:sip.example.com", 1002, b"other")
        assert (wrong["outcome"], wrong["status"]) == ("wrong response", 403)
        unknown = registrar.verify(value, "REGISTER", "sip:sip.example.com", 1002, lookup=3)
        assert (unknown["outcome"], unknown["status"]) == ("unknown key id", 403)
    registrar.close()


def test_malformed_header_raises():
    with pytest.raises(keyprov.KeyprovError) as caught:
        keyprov.DigestRegistrar("r", b"s" * 32).verify("Digest realm=", "GET", "/", 1, b"p")
    assert caught.value.code == 502
