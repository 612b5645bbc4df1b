package ai.autoglm.server;

import ai.autoglm.core.testing.ExternalReference;
import ai.autoglm.server.config.SecurityConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** TLS with a certificate made by the openssl CLI and a real HTTPS client; CORS off by default and on by config. */
class TransportSecurityTest {
    @TempDir
    Path dir;

    @Test
    void httpsWithAPemCertificateAndKey() throws Exception {
        Path cert = dir.resolve("cert.pem");
        Path key = dir.resolve("key.pem");
        Process p;
        try {
            p = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key.toString(), "-out", cert.toString(), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost").redirectErrorStream(true).start();
        } catch (java.io.IOException e) {
            ExternalReference.require(false, "the openssl command is not installed (apt-get install openssl; .ci/run installs it): "
                    + "HTTPS is tested with a certificate openssl makes");
            return;
        }
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0).as(out).isTrue();

        try (SecuredServer s = new SecuredServer(dir, sec -> sec.withTls(new SecurityConfig.Tls(cert, key)))) {
            assertThat(s.base()).startsWith("https://");
            // a client that trusts exactly this certificate
            X509Certificate x509;
            try (InputStream in = Files.newInputStream(cert)) {
                x509 = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
            }
            KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
            trust.load(null, null);
            trust.setCertificateEntry("server", x509);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            HttpClient client = HttpClient.newBuilder().sslContext(ssl).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(s.base() + "/v1/chat/completions"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"zh\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(TestServer.json(r).get("object").asText()).isEqualTo("chat.completion");
            // a client that does not trust it is refused at the handshake
            assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(s.base() + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString())).isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
        }
    }

    @Test
    void badPemFilesAreOneClearError() throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.pem"), "not a certificate");
        assertThatThrownBy(() -> new SecuredServer(dir, sec -> sec.withTls(new SecurityConfig.Tls(junk, junk))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("security.tls").hasMessageContaining("junk.pem");
    }

    static HttpResponse<String> withOrigin(SecuredServer s, String method, String path, String origin, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(s.base() + path)).method(method, HttpRequest.BodyPublishers.noBody())
                .header("Origin", origin);
        if (method.equals("OPTIONS")) b.header("Access-Control-Request-Method", "POST").header("Access-Control-Request-Headers", "authorization,content-type");
        if (key != null) b.header("Authorization", "Bearer " + key);
        return s.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void corsIsOffUnlessOriginsAreConfigured() throws Exception {
        try (SecuredServer off = new SecuredServer(dir.resolve("off"), sec -> sec)) {
            HttpResponse<String> r = withOrigin(off, "GET", "/v1/models", "https://app.example", null);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("access-control-allow-origin")).isEmpty();
        }
        try (SecuredServer on = new SecuredServer(dir.resolve("on"), sec -> sec.withCors(List.of("https://app.example")))) {
            String key = on.keys.create("web", "user", List.of(), null).secret();
            // the preflight carries no key and is answered anyway
            HttpResponse<String> pre = withOrigin(on, "OPTIONS", "/v1/chat/completions", "https://app.example", null);
            assertThat(pre.statusCode()).isEqualTo(204);
            assertThat(pre.headers().firstValue("access-control-allow-origin")).contains("https://app.example");
            assertThat(pre.headers().firstValue("access-control-allow-headers").orElse("")).containsIgnoringCase("authorization");
            HttpResponse<String> get = withOrigin(on, "GET", "/v1/models", "https://app.example", key);
            assertThat(get.statusCode()).isEqualTo(200);
            assertThat(get.headers().firstValue("access-control-allow-origin")).contains("https://app.example");
            HttpResponse<String> evil = withOrigin(on, "GET", "/v1/models", "https://evil.example", key);
            assertThat(evil.headers().firstValue("access-control-allow-origin")).isEmpty();
            assertThat(withOrigin(on, "OPTIONS", "/v1/chat/completions", "https://evil.example", null).statusCode()).isEqualTo(401);
        }
    }
}
