/*
 * A phone written in C: provisioned by the keyprov agent example over TLS 1.3 (OpenSSL), then
 * registered with the keyprov registrar example over SIP Digest.
 *
 *   phone_openssl --agent 127.0.0.1:PORT --ca CA.pem --agent-cert AGENT.pem
 *                 --device sn:SERIAL [--login LOGIN --pin-file FILE]
 *                 --registrar 127.0.0.1:PORT --domain DOMAIN [--agent-name NAME]
 *                 [--service SERVICE] [--credentials FILE]
 *
 * The agent's certificate must chain to CA.pem and name NAME (agent.keyprov.test by default);
 * its SHA-256 must equal that of AGENT.pem, the trust anchor keyprov checks. The Digest
 * password is derived for SERVICE, by default DOMAIN (the registrar's realm); naming another
 * service shows the registrar refuses a password that is not for it. With --credentials the
 * phone keeps what the agent issued in FILE (mode 0600, the phone example's format) and, while
 * the key is valid, registers with it without provisioning again.
 *
 * keyprov's C ABI does the provisioning protocol: the request, the agent's answer, the key
 * identifier and the SIP Digest password. OpenSSL does the rest: the TLS session, its exporter
 * (the channel binding the request is tied to) and the Digest hashes, so the SIP side shares
 * no code with keyprov's own Digest layer.
 *
 * Exit status: 0 registered (200 OK), 2 the registrar refused the credentials, 3 the agent
 * refused to provision, 1 anything else. Nothing secret is ever printed.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <keyprov.h>

enum { EXIT_REGISTERED = 0, EXIT_FAILURE_OTHER = 1, EXIT_SIP_REFUSED = 2, EXIT_AGENT_REFUSED = 3 };

enum {
    FRAME_MAX = 16 * 1024,      /* the agent's largest message */
    SIP_MAX = 8 * 1024,         /* largest SIP message handled */
    HEX_MAX = 2 * 32 + 1,       /* a SHA-256 digest in hex, NUL included */
    PARAM_MAX = 256,            /* longest challenge parameter value kept */
    SIP_TRIES = 4,              /* sends of one request before giving up */
    SIP_WAIT_MS = 1000,         /* wait for an answer to one send */
};

/* The command line. */
struct options {
    const char *agent_host;
    unsigned short agent_port;
    const char *ca_file;
    const char *agent_cert;
    const char *agent_name;
    const char *device;
    const char *login;
    const char *pin_file;
    const char *registrar_host;
    unsigned short registrar_port;
    const char *domain;
    const char *service;
    const char *credentials;
};

/* A loopback peer: host and port. */
struct peer {
    const char *host;
    unsigned short port;
};

/* ---------------------------------------------------------------- errors and arguments */

static void fail_openssl(const char *what) {
    unsigned long code = ERR_get_error();
    char text[256] = "no detail";
    if (code != 0) {
        ERR_error_string_n(code, text, sizeof text);
    }
    fprintf(stderr, "phone: %s: %s\n", what, text);
}

static int parse_host_port(char *text, const char **host, unsigned short *port) {
    char *colon = strrchr(text, ':');
    char *end = NULL;
    long value;
    if (colon == NULL) {
        return -1;
    }
    *colon = '\0';
    value = strtol(colon + 1, &end, 10);
    if (*end != '\0' || value <= 0 || value > 65535) {
        return -1;
    }
    *host = text;
    *port = (unsigned short)value;
    return 0;
}

static int parse_option(struct options *o, const char *name, char *value) {
    if (strcmp(name, "--agent") == 0) {
        return parse_host_port(value, &o->agent_host, &o->agent_port);
    }
    if (strcmp(name, "--registrar") == 0) {
        return parse_host_port(value, &o->registrar_host, &o->registrar_port);
    }
    if (strcmp(name, "--ca") == 0) {
        o->ca_file = value;
    } else if (strcmp(name, "--device") == 0) {
        o->device = value;
    } else if (strcmp(name, "--agent-cert") == 0) {
        o->agent_cert = value;
    } else if (strcmp(name, "--agent-name") == 0) {
        o->agent_name = value;
    } else if (strcmp(name, "--login") == 0) {
        o->login = value;
    } else if (strcmp(name, "--pin-file") == 0) {
        o->pin_file = value;
    } else if (strcmp(name, "--domain") == 0) {
        o->domain = value;
    } else if (strcmp(name, "--service") == 0) {
        o->service = value;
    } else if (strcmp(name, "--credentials") == 0) {
        o->credentials = value;
    } else {
        return -1;
    }
    return 0;
}

static int parse_options(int argc, char **argv, struct options *o) {
    int i;
    memset(o, 0, sizeof *o);
    o->agent_name = "agent.keyprov.test";
    for (i = 1; i + 1 < argc; i += 2) {
        if (parse_option(o, argv[i], argv[i + 1]) != 0) {
            fprintf(stderr, "phone: bad option %s\n", argv[i]);
            return -1;
        }
    }
    if (i != argc || o->agent_host == NULL || o->ca_file == NULL || o->agent_cert == NULL ||
        o->device == NULL || o->registrar_host == NULL || o->domain == NULL ||
        (o->login == NULL) != (o->pin_file == NULL)) {
        fprintf(stderr, "usage: phone_openssl --agent HOST:PORT --ca CA.pem --agent-cert AGENT.pem"
                        " --device sn:SERIAL [--login LOGIN --pin-file FILE]"
                        " --registrar HOST:PORT --domain DOMAIN [--agent-name NAME]"
                        " [--service SERVICE] [--credentials FILE]\n");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- sockets */

static int connect_socket(const struct peer *peer, int type) {
    struct sockaddr_in address;
    int fd;
    memset(&address, 0, sizeof address);
    address.sin_family = AF_INET;
    address.sin_port = htons(peer->port);
    if (inet_pton(AF_INET, peer->host, &address.sin_addr) != 1) {
        fprintf(stderr, "phone: %s is not an IPv4 address\n", peer->host);
        return -1;
    }
    fd = socket(AF_INET, type, 0);
    if (fd < 0) {
        perror("phone: socket");
        return -1;
    }
    if (connect(fd, (const struct sockaddr *)&address, sizeof address) != 0) {
        fprintf(stderr, "phone: connect %s:%u: %s\n", peer->host, peer->port, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* ---------------------------------------------------------------- TLS with OpenSSL */

/* A TLS 1.3 client session that verified the agent's certificate against `ca_file`. */
struct tls_session {
    SSL_CTX *context;
    SSL *ssl;
    int fd;
};

static SSL_CTX *tls_context(const char *ca_file) {
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (context == NULL) {
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION) != 1 ||
        SSL_CTX_load_verify_locations(context, ca_file, NULL) != 1) {
        SSL_CTX_free(context);
        return NULL;
    }
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
    return context;
}

static void tls_close(struct tls_session *tls) {
    if (tls->ssl != NULL) {
        SSL_shutdown(tls->ssl);
        SSL_free(tls->ssl);
    }
    SSL_CTX_free(tls->context);
    if (tls->fd >= 0) {
        close(tls->fd);
    }
    memset(tls, 0, sizeof *tls);
    tls->fd = -1;
}

/* Connects and verifies the agent as `server_name`. */
static int tls_open(struct tls_session *tls, const struct peer *agent, const char *ca_file,
                    const char *server_name) {
    memset(tls, 0, sizeof *tls);
    tls->fd = -1;
    tls->context = tls_context(ca_file);
    if (tls->context == NULL) {
        fail_openssl("TLS context (trust anchor file)");
        return -1;
    }
    tls->fd = connect_socket(agent, SOCK_STREAM);
    tls->ssl = tls->fd < 0 ? NULL : SSL_new(tls->context);
    if (tls->ssl == NULL || SSL_set_fd(tls->ssl, tls->fd) != 1 ||
        SSL_set_tlsext_host_name(tls->ssl, server_name) != 1 ||
        SSL_set1_host(tls->ssl, server_name) != 1 || SSL_connect(tls->ssl) != 1 ||
        SSL_get_verify_result(tls->ssl) != X509_V_OK) {
        fail_openssl("TLS handshake with the agent");
        tls_close(tls);
        return -1;
    }
    return 0;
}

static int tls_write_all(SSL *ssl, const uint8_t *bytes, size_t len) {
    size_t written = 0;
    while (written < len) {
        size_t step = 0;
        if (SSL_write_ex(ssl, bytes + written, len - written, &step) != 1) {
            fail_openssl("TLS write");
            return -1;
        }
        written += step;
    }
    return 0;
}

static int tls_read_all(SSL *ssl, uint8_t *bytes, size_t len) {
    size_t done = 0;
    while (done < len) {
        size_t step = 0;
        if (SSL_read_ex(ssl, bytes + done, len - done, &step) != 1) {
            fail_openssl("TLS read (the agent closed the session?)");
            return -1;
        }
        done += step;
    }
    return 0;
}

/* One frame: a u32 big-endian length, then the message. */
static int frame_write(SSL *ssl, const uint8_t *message, size_t len) {
    uint8_t prefix[4];
    prefix[0] = (uint8_t)(len >> 24);
    prefix[1] = (uint8_t)(len >> 16);
    prefix[2] = (uint8_t)(len >> 8);
    prefix[3] = (uint8_t)len;
    if (tls_write_all(ssl, prefix, sizeof prefix) != 0) {
        return -1;
    }
    return tls_write_all(ssl, message, len);
}

static int frame_read(SSL *ssl, uint8_t *message, size_t capacity, size_t *len) {
    uint8_t prefix[4];
    size_t declared;
    if (tls_read_all(ssl, prefix, sizeof prefix) != 0) {
        return -1;
    }
    declared = (size_t)prefix[0] << 24 | (size_t)prefix[1] << 16 | (size_t)prefix[2] << 8 |
               (size_t)prefix[3];
    if (declared > capacity) {
        fprintf(stderr, "phone: agent frame of %zu bytes > maximum %zu\n", declared, capacity);
        return -1;
    }
    *len = declared;
    return tls_read_all(ssl, message, declared);
}

/* ---------------------------------------------------------------- Digest hashes (OpenSSL) */

/* Hex of H(text) with the Digest algorithm named `algorithm` ("MD5" or "SHA-256"). */
static int digest_hex(const char *algorithm, const char *text, char out[HEX_MAX]) {
    static const char hex[] = "0123456789abcdef";
    const EVP_MD *md = strcmp(algorithm, "SHA-256") == 0 ? EVP_sha256() : EVP_md5();
    unsigned char hash[EVP_MAX_MD_SIZE];
    unsigned int len = 0, i;
    if (EVP_Digest(text, strlen(text), hash, &len, md, NULL) != 1 || 2 * len + 1 > HEX_MAX) {
        fail_openssl("digest hash");
        return -1;
    }
    for (i = 0; i < len; i++) {
        out[2 * i] = hex[hash[i] >> 4];
        out[2 * i + 1] = hex[hash[i] & 15];
    }
    out[2 * len] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- SIP messages */

/* What a 401 challenge says, for one algorithm. */
struct challenge {
    char algorithm[16];
    char realm[PARAM_MAX];
    char nonce[PARAM_MAX];
    char opaque[PARAM_MAX];
    int qop_auth;
};

/* The identifiers of one registration: they stay the same across its two requests. */
struct dialog {
    char call_id[40];
    char from_tag[24];
    char local[64]; /* host:port of the phone's own socket */
};

static void random_hex(char *out, size_t bytes) {
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[32];
    size_t i;
    if (bytes > sizeof raw || RAND_bytes(raw, (int)bytes) != 1) {
        memset(raw, 0x5a, sizeof raw);
    }
    for (i = 0; i < bytes; i++) {
        out[2 * i] = hex[raw[i] >> 4];
        out[2 * i + 1] = hex[raw[i] & 15];
    }
    out[2 * bytes] = '\0';
}

static int format_register(char *out, size_t capacity, const struct dialog *d,
                           const char *domain, const char *user, unsigned cseq,
                           const char *authorization) {
    char branch[25];
    int n;
    random_hex(branch, 12);
    n = snprintf(out, capacity,
                 "REGISTER sip:%s SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP %s;branch=z9hG4bK%s;rport\r\n"
                 "Max-Forwards: 70\r\n"
                 "From: <sip:%s@%s>;tag=%s\r\n"
                 "To: <sip:%s@%s>\r\n"
                 "Call-ID: %s\r\n"
                 "CSeq: %u REGISTER\r\n"
                 "Contact: <sip:%s@%s;transport=udp>\r\n"
                 "Expires: 300\r\n"
                 "User-Agent: keyprov phone_openssl\r\n"
                 "%s%s%s"
                 "Content-Length: 0\r\n\r\n",
                 domain, d->local, branch, user, domain, d->from_tag, user, domain, d->call_id,
                 cseq, user, d->local, authorization ? "Authorization: " : "",
                 authorization ? authorization : "", authorization ? "\r\n" : "");
    return n > 0 && (size_t)n < capacity ? n : -1;
}

/* Whether `response` answers the REGISTER with CSeq `cseq`. */
static int answers(const char *response, unsigned cseq) {
    char wanted[40];
    snprintf(wanted, sizeof wanted, "\r\nCSeq: %u REGISTER\r\n", cseq);
    return strstr(response, wanted) != NULL;
}

/* Sends `request` and waits for its final response (1xx and strays are skipped), resending
   it up to SIP_TRIES times. */
static int sip_exchange(int fd, const char *request, size_t len, unsigned cseq, char *response,
                        size_t capacity) {
    int attempt;
    for (attempt = 0; attempt < SIP_TRIES; attempt++) {
        struct pollfd waiting = {fd, POLLIN, 0};
        if (send(fd, request, len, 0) != (ssize_t)len) {
            perror("phone: send REGISTER");
            return -1;
        }
        while (poll(&waiting, 1, SIP_WAIT_MS) == 1) {
            ssize_t got = recv(fd, response, capacity - 1, 0);
            if (got <= 0) {
                perror("phone: receive SIP response");
                return -1;
            }
            response[got] = '\0';
            if (strncmp(response, "SIP/2.0 1", 9) != 0 && answers(response, cseq)) {
                return 0;
            }
        }
    }
    fprintf(stderr, "phone: no answer from the registrar after %d sends\n", SIP_TRIES);
    return -1;
}

static int status_code(const char *response) {
    int code = 0;
    if (sscanf(response, "SIP/2.0 %3d", &code) != 1) {
        return 0;
    }
    return code;
}

/* Copies the value of `name` (quoted or token) from a Digest parameter list into `out`. */
static void challenge_param(const char *params, const char *name, char *out, size_t capacity) {
    size_t name_len = strlen(name);
    const char *p = params;
    out[0] = '\0';
    while ((p = strstr(p, name)) != NULL) {
        const char *before = p == params ? " " : p - 1;
        const char *value = p + name_len;
        size_t len;
        p = value;
        if ((*before != ' ' && *before != ',') || *value != '=') {
            continue;
        }
        value++;
        if (*value == '"') {
            value++;
            len = strcspn(value, "\"");
        } else {
            len = strcspn(value, ", \r\n");
        }
        if (len < capacity) {
            memcpy(out, value, len);
            out[len] = '\0';
        }
        return;
    }
}

/* Whether the comma-separated token list `list` holds `token`. */
static int has_token(const char *list, const char *token) {
    size_t len = strlen(token);
    const char *p = list;
    while (*p != '\0') {
        p += strspn(p, ", ");
        if (strncmp(p, token, len) == 0 && (p[len] == '\0' || p[len] == ',' || p[len] == ' ')) {
            return 1;
        }
        p += strcspn(p, ",");
    }
    return 0;
}

static void parse_challenge(const char *params, struct challenge *c) {
    char qop[PARAM_MAX];
    challenge_param(params, "algorithm", c->algorithm, sizeof c->algorithm);
    if (c->algorithm[0] == '\0') {
        strcpy(c->algorithm, "MD5");
    }
    challenge_param(params, "realm", c->realm, sizeof c->realm);
    challenge_param(params, "nonce", c->nonce, sizeof c->nonce);
    challenge_param(params, "opaque", c->opaque, sizeof c->opaque);
    challenge_param(params, "qop", qop, sizeof qop);
    c->qop_auth = has_token(qop, "auth");
}

/* The best Digest challenge of a 401: SHA-256 before MD5. Returns -1 when none is usable. */
static int best_challenge(const char *response, struct challenge *best) {
    const char *line = response;
    int found = 0;
    memset(best, 0, sizeof *best);
    while ((line = strstr(line, "\r\n")) != NULL) {
        struct challenge c;
        line += 2;
        if (strncasecmp(line, "WWW-Authenticate:", 17) != 0) {
            continue;
        }
        memset(&c, 0, sizeof c);
        parse_challenge(line + 17, &c);
        if ((strcmp(c.algorithm, "SHA-256") == 0 || strcmp(c.algorithm, "MD5") == 0) &&
            c.nonce[0] != '\0' && (!found || strcmp(c.algorithm, "SHA-256") == 0)) {
            *best = c;
            found = 1;
        }
    }
    return found ? 0 : -1;
}

/* The response of RFC 7616 section 3.4.1 for `c`, with qop=auth when offered. */
static int digest_response(const struct challenge *c, const char *user, const char *password,
                           const char *uri, const char *cnonce, char response[HEX_MAX]) {
    char text[1024], ha1[HEX_MAX], ha2[HEX_MAX];
    int status;
    snprintf(text, sizeof text, "%s:%s:%s", user, c->realm, password);
    status = digest_hex(c->algorithm, text, ha1);
    OPENSSL_cleanse(text, sizeof text);
    snprintf(text, sizeof text, "REGISTER:%s", uri);
    if (status != 0 || digest_hex(c->algorithm, text, ha2) != 0) {
        OPENSSL_cleanse(ha1, sizeof ha1);
        return -1;
    }
    if (c->qop_auth) {
        snprintf(text, sizeof text, "%s:%s:00000001:%s:auth:%s", ha1, c->nonce, cnonce, ha2);
    } else {
        snprintf(text, sizeof text, "%s:%s:%s", ha1, c->nonce, ha2);
    }
    OPENSSL_cleanse(ha1, sizeof ha1);
    status = digest_hex(c->algorithm, text, response);
    OPENSSL_cleanse(text, sizeof text);
    return status;
}

/* The Authorization header value answering `c`. */
static int format_authorization(char *out, size_t capacity, const struct challenge *c,
                                const char *user, const char *password, const char *uri) {
    char response[HEX_MAX], cnonce[17], qop[64] = "", opaque[PARAM_MAX + 16] = "";
    int n;
    random_hex(cnonce, 8);
    if (digest_response(c, user, password, uri, cnonce, response) != 0) {
        return -1;
    }
    if (c->qop_auth) {
        snprintf(qop, sizeof qop, ", qop=auth, nc=00000001, cnonce=\"%s\"", cnonce);
    }
    if (c->opaque[0] != '\0') {
        snprintf(opaque, sizeof opaque, ", opaque=\"%s\"", c->opaque);
    }
    n = snprintf(out, capacity,
                 "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", "
                 "response=\"%s\", algorithm=%s%s%s",
                 user, c->realm, c->nonce, uri, response, c->algorithm, qop, opaque);
    return n > 0 && (size_t)n < capacity ? 0 : -1;
}

static int local_address(int fd, char *out, size_t capacity) {
    struct sockaddr_in address;
    socklen_t len = sizeof address;
    char host[INET_ADDRSTRLEN];
    if (getsockname(fd, (struct sockaddr *)&address, &len) != 0 ||
        inet_ntop(AF_INET, &address.sin_addr, host, sizeof host) == NULL) {
        perror("phone: local address");
        return -1;
    }
    snprintf(out, capacity, "%s:%u", host, ntohs(address.sin_port));
    return 0;
}

/* One REGISTER transaction of `d`: request `cseq`, with `authorization` unless NULL. */
static int sip_transaction(int fd, const struct dialog *d, const char *domain, const char *user,
                           unsigned cseq, const char *authorization, char *response,
                           size_t capacity) {
    char request[SIP_MAX];
    int n = format_register(request, sizeof request, d, domain, user, cseq, authorization);
    if (n < 0) {
        fprintf(stderr, "phone: REGISTER longer than %d bytes\n", SIP_MAX);
        return -1;
    }
    return sip_exchange(fd, request, (size_t)n, cseq, response, capacity);
}

static int dialog_init(int fd, struct dialog *d) {
    random_hex(d->call_id, 16);
    random_hex(d->from_tag, 8);
    return local_address(fd, d->local, sizeof d->local);
}

/*
 * Registers once: REGISTER, a 401 challenge (anything else is a failure, a 200 included: a
 * registrar that does not authenticate proves nothing), the answer with the strongest algorithm
 * offered, the final response. Returns its status code, or -1.
 */
static int sip_register(const struct peer *registrar, const char *domain, const char *user,
                        const char *password) {
    char response[SIP_MAX], authorization[2048], uri[300];
    struct challenge challenge;
    struct dialog dialog;
    int fd = connect_socket(registrar, SOCK_DGRAM), status = -1;
    snprintf(uri, sizeof uri, "sip:%s", domain);
    if (fd < 0 || dialog_init(fd, &dialog) != 0 ||
        sip_transaction(fd, &dialog, domain, user, 1, NULL, response, sizeof response) != 0) {
        goto done;
    }
    if (status_code(response) != 401 || best_challenge(response, &challenge) != 0) {
        fprintf(stderr, "phone: REGISTER without credentials got %d, not an MD5 or SHA-256 "
                        "Digest challenge\n", status_code(response));
        goto done;
    }
    if (format_authorization(authorization, sizeof authorization, &challenge, user, password,
                             uri) != 0 ||
        sip_transaction(fd, &dialog, domain, user, 2, authorization, response,
                        sizeof response) != 0) {
        goto done;
    }
    status = status_code(response);
    printf("phone: REGISTER answered with Digest %s: %d\n", challenge.algorithm, status);
done:
    if (fd >= 0) {
        close(fd);
    }
    return status;
}

/* ---------------------------------------------------------------- provisioning (keyprov C ABI) */

/* The TLS exporter label the agent example uses for the provisioning channel binding. */
static const char CHANNEL_BINDING_LABEL[] = "EXPORTER-keyprov-services provisioning";
/* The salt the agent example keeps for a user's PIN: this prefix and the login. */
static const char PIN_SALT_PREFIX[] = "keyprov-services pin salt:";

enum { BINDING_LEN = 32, KEY_LEN = 32 };

/* What provisioning leaves the phone with. */
struct provisioned {
    const char *credentials_path; /* where to keep the credentials, or NULL */
    uint8_t key_id[KEYPROV_KEY_ID_MAX_LEN];
    size_t key_id_len;
    uint8_t authentication_key[KEY_LEN];
    int stored;  /* credentials handed over by the agent and kept */
    int done;    /* the session closed and the authentication key came out */
    keyprov_result failure;
};

static void report_keyprov(const char *what, keyprov_result result) {
    char message[256];
    size_t len = 0;
    if (keyprov_last_error_message(message, sizeof message, &len) != KEYPROV_OK || len == 0) {
        if (keyprov_result_message(result, message, sizeof message, &len) != KEYPROV_OK) {
            strcpy(message, "(no message)");
        }
    }
    fprintf(stderr, "phone: %s: keyprov result %u: %s\n", what, (unsigned)result, message);
}

/* SHA-256 of the DER encoding of a certificate: the identity keyprov compares. */
static int certificate_identity(X509 *cert, uint8_t out[KEY_LEN]) {
    unsigned char *der = NULL;
    unsigned int len = 0;
    int der_len = i2d_X509(cert, &der);
    int ok = der_len > 0 &&
             EVP_Digest(der, (size_t)der_len, out, &len, EVP_sha256(), NULL) == 1 &&
             len == KEY_LEN;
    OPENSSL_free(der);
    return ok ? 0 : -1;
}

/* The trust anchor: the identity of the agent certificate in the PEM file `path`. */
static int trust_anchor(const char *path, uint8_t out[KEY_LEN]) {
    FILE *file = fopen(path, "r");
    X509 *cert = file == NULL ? NULL : PEM_read_X509(file, NULL, NULL, NULL);
    int status = cert == NULL ? -1 : certificate_identity(cert, out);
    if (file != NULL) {
        fclose(file);
    }
    X509_free(cert);
    if (status != 0) {
        fprintf(stderr, "phone: no certificate in %s\n", path);
    }
    return status;
}

/* The PIN from a file, first line, digits only; the file must not be readable by others. */
static int read_pin(const char *path, char *pin, size_t capacity) {
    FILE *file = fopen(path, "r");
    size_t len;
    if (file == NULL || fgets(pin, (int)capacity, file) == NULL) {
        fprintf(stderr, "phone: cannot read the PIN file %s\n", path);
        if (file != NULL) {
            fclose(file);
        }
        return -1;
    }
    fclose(file);
    len = strcspn(pin, "\r\n");
    pin[len] = '\0';
    return 0;
}

/* ---------------------------------------------------------------- the credentials file */

static void hex_encode(const uint8_t *bytes, size_t len, char *out) {
    static const char hex[] = "0123456789abcdef";
    size_t i;
    for (i = 0; i < len; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[2 * len] = '\0';
}

static int hex_decode(const char *text, uint8_t *out, size_t len) {
    size_t i;
    unsigned value;
    if (strlen(text) != 2 * len || strspn(text, "0123456789abcdefABCDEF") != 2 * len) {
        return -1;
    }
    for (i = 0; i < len; i++) {
        if (sscanf(text + 2 * i, "%2x", &value) != 1) {
            return -1;
        }
        out[i] = (uint8_t)value;
    }
    return 0;
}

static int key_id_text(const uint8_t *bytes, size_t len, char *out, size_t capacity) {
    keyprov_key_id *key_id = NULL;
    size_t written = 0;
    keyprov_result result = keyprov_key_id_decode(bytes, len, &key_id);
    if (result == KEYPROV_OK) {
        result = keyprov_key_id_text(key_id, out, capacity, &written);
    }
    keyprov_key_id_free(key_id);
    if (result != KEYPROV_OK) {
        report_keyprov("key identifier", result);
        return -1;
    }
    return 0;
}

/* Writes the credentials as the phone example does, to a new private file then renamed. */
static int write_credentials(const char *path, const keyprov_device_event *event) {
    char key_id[KEYPROV_KEY_ID_MAX_TEXT_LEN + 1], secret[2 * KEY_LEN + 1], partial[4096];
    FILE *file;
    int fd, status = -1;
    if (key_id_text(event->key_id, event->key_id_len, key_id, sizeof key_id) != 0) {
        return -1;
    }
    snprintf(partial, sizeof partial, "%s.partial", path);
    unlink(partial);
    fd = open(partial, O_WRONLY | O_CREAT | O_EXCL, 0600);
    file = fd < 0 ? NULL : fdopen(fd, "w");
    if (file != NULL) {
        hex_encode(event->key, KEY_LEN, secret);
        fprintf(file, "# keyprov phone credentials: keep private\nkey_id=%s\ncounter=%lu\n"
                      "not_after=%llu\nsecret=%s\n",
                key_id, (unsigned long)event->counter, (unsigned long long)event->not_after,
                secret);
        OPENSSL_cleanse(secret, sizeof secret);
        status = fclose(file) == 0 && rename(partial, path) == 0 ? 0 : -1;
    }
    if (status != 0) {
        fprintf(stderr, "phone: cannot write the credentials file %s: %s\n", path,
                strerror(errno));
    }
    return status;
}

/* Takes one `name=value` line into `key_id` or `secret`; other lines are ignored. */
static void credentials_line(char *line, char *key_id, size_t key_id_capacity, char *secret,
                             size_t secret_capacity, unsigned long long *not_after) {
    line[strcspn(line, "\r\n")] = '\0';
    if (strncmp(line, "key_id=", 7) == 0 && strlen(line + 7) < key_id_capacity) {
        strcpy(key_id, line + 7);
    } else if (strncmp(line, "secret=", 7) == 0 && strlen(line + 7) < secret_capacity) {
        strcpy(secret, line + 7);
    } else if (strncmp(line, "not_after=", 10) == 0) {
        *not_after = strtoull(line + 10, NULL, 10);
    }
}

/* The key of a credentials file: the key identifier and the authentication key. */
static int load_key(const char *key_id_text, const char *secret_hex, struct provisioned *out) {
    keyprov_key_id *key_id = NULL;
    uint8_t secret[KEY_LEN];
    keyprov_result result = KEYPROV_INVALID_VALUE;
    if (hex_decode(secret_hex, secret, KEY_LEN) == 0) {
        result = keyprov_key_id_parse(key_id_text, strlen(key_id_text), &key_id);
    }
    if (result == KEYPROV_OK) {
        result = keyprov_key_id_encode(key_id, out->key_id, sizeof out->key_id, &out->key_id_len);
    }
    if (result == KEYPROV_OK) {
        result = keyprov_authentication_key(secret, KEY_LEN, out->authentication_key, KEY_LEN);
    }
    keyprov_key_id_free(key_id);
    keyprov_secure_zero(secret, sizeof secret);
    if (result != KEYPROV_OK) {
        report_keyprov("credentials file", result);
        return -1;
    }
    out->done = 1;
    return 0;
}

/* Reads the credentials file: 0 loaded, 1 none or expired (provision), -1 unusable. */
static int read_credentials(const char *path, struct provisioned *out) {
    char line[256], key_id[KEYPROV_KEY_ID_MAX_TEXT_LEN + 1] = "", secret[2 * KEY_LEN + 1] = "";
    unsigned long long not_after = 0;
    FILE *file = fopen(path, "r");
    int status;
    if (file == NULL) {
        return errno == ENOENT ? 1 : -1;
    }
    while (fgets(line, sizeof line, file) != NULL) {
        credentials_line(line, key_id, sizeof key_id, secret, sizeof secret, &not_after);
    }
    fclose(file);
    OPENSSL_cleanse(line, sizeof line);
    if (not_after <= (unsigned long long)time(NULL)) {
        status = 1;
    } else {
        status = load_key(key_id, secret, out);
    }
    OPENSSL_cleanse(secret, sizeof secret);
    return status;
}

static int send_pending(keyprov_device_provisioning *machine, SSL *ssl) {
    uint8_t bytes[FRAME_MAX];
    size_t len = 0;
    for (;;) {
        keyprov_result result =
            keyprov_device_provisioning_poll_transmit(machine, bytes, sizeof bytes, &len);
        if (result != KEYPROV_OK) {
            report_keyprov("poll transmit", result);
            return -1;
        }
        if (len == 0) {
            return 0;
        }
        if (frame_write(ssl, bytes, len) != 0) {
            return -1;
        }
    }
}

static void on_store(keyprov_device_provisioning *machine, const keyprov_device_event *event,
                     struct provisioned *out) {
    keyprov_result stored = KEYPROV_OK;
    /* Durable before the agent is told: a phone that loses its key must not think it has one. */
    if (out->credentials_path != NULL && write_credentials(out->credentials_path, event) != 0) {
        stored = KEYPROV_FAILED;
    }
    memcpy(out->key_id, event->key_id, event->key_id_len);
    out->key_id_len = event->key_id_len;
    out->stored = stored == KEYPROV_OK;
    keyprov_device_provisioning_handle_store_result(machine, event->handle, stored);
}

/* Handles every pending event; returns -1 once the machine failed. */
static int drain_events(keyprov_device_provisioning *machine, struct tls_session *tls,
                        struct provisioned *out) {
    keyprov_device_event event;
    for (;;) {
        keyprov_result result = keyprov_device_provisioning_poll_event(machine, &event);
        if (result != KEYPROV_OK || event.kind == KEYPROV_DEVICE_EVENT_NONE) {
            keyprov_secure_zero(&event, sizeof event);
            return result == KEYPROV_OK ? 0 : -1;
        }
        if (event.kind == KEYPROV_DEVICE_EVENT_STORE_CREDENTIALS) {
            on_store(machine, &event, out);
        } else if (event.kind == KEYPROV_DEVICE_EVENT_CLOSE_SESSION) {
            tls_close(tls);
            keyprov_device_provisioning_handle_closed(machine);
        } else if (event.kind == KEYPROV_DEVICE_EVENT_PROVISIONED) {
            memcpy(out->authentication_key, event.key, KEY_LEN);
            out->done = 1;
        } else if (event.kind == KEYPROV_DEVICE_EVENT_FAILED) {
            out->failure = event.error;
        }
        keyprov_secure_zero(&event, sizeof event);
        if (out->failure != KEYPROV_OK) {
            return -1;
        }
    }
}

/* The session facts keyprov needs: the agent's identity and the channel binding. */
static int session_facts(SSL *ssl, uint8_t identity[KEY_LEN], uint8_t binding[BINDING_LEN]) {
    X509 *peer = SSL_get1_peer_certificate(ssl);
    int status = peer == NULL ? -1 : certificate_identity(peer, identity);
    X509_free(peer);
    if (status != 0 ||
        SSL_export_keying_material(ssl, binding, BINDING_LEN, CHANNEL_BINDING_LABEL,
                                   strlen(CHANNEL_BINDING_LABEL), NULL, 0, 0) != 1) {
        fail_openssl("agent identity or TLS exporter");
        return -1;
    }
    return 0;
}

/* Runs the conversation on an open session until the machine is done or failed. */
static int converse(keyprov_device_provisioning *machine, struct tls_session *tls,
                    struct provisioned *out) {
    uint8_t identity[KEY_LEN], binding[BINDING_LEN], message[FRAME_MAX];
    size_t len = 0;
    keyprov_result result;
    if (session_facts(tls->ssl, identity, binding) != 0) {
        return -1;
    }
    result = keyprov_device_provisioning_handle_connected(machine, (uint64_t)time(NULL),
                                                          identity, KEY_LEN, binding,
                                                          BINDING_LEN);
    keyprov_secure_zero(binding, sizeof binding);
    if (drain_events(machine, tls, out) != 0 || result != KEYPROV_OK) {
        return -1;
    }
    while (!out->done) {
        if (send_pending(machine, tls->ssl) != 0 ||
            frame_read(tls->ssl, message, sizeof message, &len) != 0) {
            return -1;
        }
        keyprov_device_provisioning_handle_message(machine, (uint64_t)time(NULL), message, len);
        keyprov_secure_zero(message, len);
        if (drain_events(machine, tls, out) != 0) {
            return -1;
        }
    }
    return 0;
}

static void fill_user(keyprov_device_provisioning_config *config, const struct options *o,
                      const char *pin, uint8_t *salt, size_t salt_capacity) {
    size_t prefix = strlen(PIN_SALT_PREFIX), login = strlen(o->login);
    if (prefix + login > salt_capacity) {
        return;
    }
    memcpy(salt, PIN_SALT_PREFIX, prefix);
    memcpy(salt + prefix, o->login, login);
    config->login = (const uint8_t *)o->login;
    config->login_len = login;
    config->pin = pin;
    config->pin_len = strlen(pin);
    config->salt = salt;
    config->salt_len = prefix + login;
}

/* Provisions the phone: TLS to the agent, then keyprov's device machine over it. */
static int provision(const struct options *o, struct provisioned *out) {
    keyprov_device_provisioning_config config;
    keyprov_device_provisioning *machine = NULL;
    struct peer agent = {o->agent_host, o->agent_port};
    struct tls_session tls;
    char pin[32] = "";
    uint8_t salt[256];
    keyprov_result result;
    int status = -1;

    memset(&config, 0, sizeof config);
    memset(out, 0, sizeof *out);
    out->credentials_path = o->credentials;
    if (trust_anchor(o->agent_cert, config.trust_anchor) != 0 ||
        (o->pin_file != NULL && read_pin(o->pin_file, pin, sizeof pin) != 0)) {
        return -1;
    }
    config.subject = KEYPROV_SUBJECT_DEVICE_ID;
    config.device_id = o->device;
    config.device_id_len = strlen(o->device);
    config.response_timeout = 10;
    if (o->login != NULL && pin[0] != '\0') {
        fill_user(&config, o, pin, salt, sizeof salt);
    }
    result = keyprov_device_provisioning_new(&config, &machine);
    keyprov_secure_zero(pin, sizeof pin);
    if (result != KEYPROV_OK) {
        report_keyprov("provisioning configuration", result);
        return -1;
    }
    if (tls_open(&tls, &agent, o->ca_file, o->agent_name) == 0) {
        status = converse(machine, &tls, out);
        tls_close(&tls);
    }
    if (out->failure != KEYPROV_OK) {
        report_keyprov("provisioning refused", out->failure);
        status = -2;
    }
    keyprov_device_provisioning_free(machine);
    return status;
}

/* The SIP Digest username (key identifier text) and password for `service`. */
static int sip_credentials(const struct provisioned *p, const char *service, char *user,
                           size_t user_capacity, char *password, size_t password_capacity) {
    uint8_t service_key[KEY_LEN];
    size_t len = 0;
    keyprov_result result;
    if (key_id_text(p->key_id, p->key_id_len, user, user_capacity) != 0) {
        return -1;
    }
    result = keyprov_service_key(p->authentication_key, KEY_LEN, (const uint8_t *)service,
                                 strlen(service), service_key, sizeof service_key);
    if (result == KEYPROV_OK) {
        result = keyprov_digest_password(service_key, sizeof service_key, password,
                                         password_capacity, &len);
    }
    keyprov_secure_zero(service_key, sizeof service_key);
    if (result != KEYPROV_OK) {
        report_keyprov("SIP credentials", result);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    struct options options;
    struct provisioned provisioned;
    struct peer registrar;
    char user[KEYPROV_KEY_ID_MAX_TEXT_LEN + 1], password[KEYPROV_DIGEST_PASSWORD_LEN + 1];
    int status;

    if (parse_options(argc, argv, &options) != 0) {
        return EXIT_FAILURE_OTHER;
    }
    memset(&provisioned, 0, sizeof provisioned);
    status = options.credentials ? read_credentials(options.credentials, &provisioned) : 1;
    if (status == 0) {
        printf("phone: registering with the stored key\n");
    } else if (status == 1) {
        status = provision(&options, &provisioned);
    }
    if (status != 0) {
        keyprov_secure_zero(&provisioned, sizeof provisioned);
        return status == -2 ? EXIT_AGENT_REFUSED : EXIT_FAILURE_OTHER;
    }
    status = sip_credentials(&provisioned, options.service ? options.service : options.domain,
                             user, sizeof user, password, sizeof password);
    keyprov_secure_zero(&provisioned, sizeof provisioned);
    if (status != 0) {
        return EXIT_FAILURE_OTHER;
    }
    printf("phone: provisioned as %s\n", user);
    registrar.host = options.registrar_host;
    registrar.port = options.registrar_port;
    status = sip_register(&registrar, options.domain, user, password);
    keyprov_secure_zero(password, sizeof password);
    if (status == 200) {
        return EXIT_REGISTERED;
    }
    return status == 401 || status == 403 ? EXIT_SIP_REFUSED : EXIT_FAILURE_OTHER;
}
