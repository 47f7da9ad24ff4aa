package sluice_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	sluice "github.com/sluice-broker/sluice/clients/go"
	"github.com/sluice-broker/sluice/clients/go/internal/brokertest"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const rootToken = "root-token-0123456789"

// startSecured starts a broker with mutual TLS and a tokens file: "root"
// (rootToken) may do anything; "analytics" (the client certificate's CN)
// may publish to metrics.*.
func startSecured(t *testing.T) (*brokertest.Broker, *brokertest.Certs) {
	t.Helper()
	dir := t.TempDir()
	certs, err := brokertest.GenerateCerts(filepath.Join(dir, "certs"))
	if err != nil {
		t.Fatal(err)
	}
	digest := sha256.Sum256([]byte(rootToken))
	tokens := filepath.Join(dir, "tokens.yaml")
	content := fmt.Sprintf("identities:\n"+
		"  - name: root\n    token_sha256: %s\n    publish: [\"*\"]\n    subscribe: [\"*\"]\n    admin: [\"*\"]\n"+
		"  - name: analytics\n    cert_subject: { CN: analytics }\n    publish: [\"metrics.*\"]\n", hex.EncodeToString(digest[:]))
	if err := os.WriteFile(tokens, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := brokertest.StartWith("--tls-cert", certs.Server.CertFile, "--tls-key", certs.Server.KeyFile,
		"--tls-client-ca", certs.CA.CertFile, "--tokens-file", tokens)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Stop)
	return b, certs
}

// dialTLS connects trusting the test CA and presenting client (nil: no certificate).
func dialTLS(t *testing.T, b *brokertest.Broker, certs *brokertest.Certs, client *brokertest.CertPair, token string) *sluice.Client {
	t.Helper()
	var certPEM, keyPEM []byte
	if client != nil {
		certPEM, keyPEM = []byte(client.Cert), []byte(client.Key)
	}
	config, err := sluice.TLSConfig([]byte(certs.CA.Cert), certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	opts := []grpc.DialOption{sluice.WithTLS(config)}
	if token != "" {
		opts = append(opts, sluice.WithToken(token))
	}
	c, err := sluice.Dial(b.Addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func wantCode(t *testing.T, err error, code codes.Code, message string) {
	t.Helper()
	if status.Code(err) != code || (message != "" && status.Convert(err).Message() != message) {
		t.Fatalf("error = %v, want %v %q", err, code, message)
	}
}

func TestATokenOverMutualTLSPublishesAndConsumes(t *testing.T) {
	b, certs := startSecured(t)
	c := dialTLS(t, b, certs, &certs.Client, rootToken)
	ctx := testContext(t)
	if _, err := c.CreateTopic(ctx, "go-secure", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Publish(ctx, "go-secure", sluice.Message{Payload: []byte("first")}); err != nil {
		t.Fatal(err)
	}
	sub, err := c.Subscribe(ctx, "go-secure", "billing")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if d := next(t, ctx, sub); string(d.Payload) != "first" {
		t.Fatalf("delivery = %+v", d)
	}
}

func TestWithoutATokenTheCertificateSubjectIsTheIdentity(t *testing.T) {
	b, certs := startSecured(t)
	ctx := testContext(t)
	if _, err := dialTLS(t, b, certs, &certs.Client, rootToken).CreateTopic(ctx, "metrics.go", 1); err != nil {
		t.Fatal(err)
	}
	analytics := dialTLS(t, b, certs, &certs.Client, "")
	if _, err := analytics.Publish(ctx, "metrics.go", sluice.Message{Payload: []byte("0.5")}); err != nil {
		t.Fatal(err)
	}
	_, err := analytics.CreateTopic(ctx, "metrics.go-mem", 1)
	wantCode(t, err, codes.PermissionDenied, `identity "analytics" lacks admin on topic "metrics.go-mem"`)

	_, err = dialTLS(t, b, certs, &certs.Client, "wrong-token").GetTopic(ctx, "metrics.go")
	wantCode(t, err, codes.Unauthenticated, "invalid bearer token")
}

func TestMutualTLSRefusesClientsWithoutATrustedCertificateAndPlaintextClients(t *testing.T) {
	b, certs := startSecured(t)
	ctx := testContext(t)
	_, err := dialTLS(t, b, certs, nil, rootToken).GetTopic(ctx, "any")
	wantCode(t, err, codes.Unavailable, "")
	_, err = dialTLS(t, b, certs, &certs.OtherClient, rootToken).GetTopic(ctx, "any")
	wantCode(t, err, codes.Unavailable, "")
	plaintext, err := sluice.Dial(b.Addr, sluice.WithToken(rootToken))
	if err != nil {
		t.Fatal(err)
	}
	defer plaintext.Close()
	_, err = plaintext.GetTopic(ctx, "any")
	wantCode(t, err, codes.Unavailable, "")
}

func TestTLSConfigRefusesACertificateWithoutAKey(t *testing.T) {
	if _, err := sluice.TLSConfig(nil, []byte("pem"), nil); err == nil {
		t.Fatal("TLSConfig accepted a certificate without a key")
	}
}
