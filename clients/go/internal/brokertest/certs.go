package brokertest

import (
	"encoding/json"
	"fmt"
	"os/exec"
)

// CertPair is a certificate and its key, as PEM text and files.
type CertPair struct {
	Cert     string `json:"cert"`
	Key      string `json:"key"`
	CertFile string `json:"certFile"`
	KeyFile  string `json:"keyFile"`
}

// CA is a CA certificate, as PEM text and a file.
type CA struct {
	Cert     string `json:"cert"`
	CertFile string `json:"certFile"`
}

// Certs are the certificates the broker's own TLS tests use: a CA, a server
// certificate for 127.0.0.1, a client certificate (CN=analytics) and an
// untrusted CA with a client certificate of its own.
type Certs struct {
	Dir         string   `json:"dir"`
	CA          CA       `json:"ca"`
	Server      CertPair `json:"server"`
	Client      CertPair `json:"client"`
	OtherCA     CA       `json:"otherCa"`
	OtherClient CertPair `json:"otherClient"`
}

// GenerateCerts makes fresh certificates in dir with the repository's test
// helper (test/helpers/certs.ts, which runs openssl).
func GenerateCerts(dir string) (*Certs, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("node", "--import", "tsx", "test/helpers/certs.ts", dir)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return nil, fmt.Errorf("brokertest: generating certificates: %v: %s", err, exit.Stderr)
		}
		return nil, fmt.Errorf("brokertest: generating certificates: %w", err)
	}
	var certs Certs
	if err := json.Unmarshal(out, &certs); err != nil {
		return nil, fmt.Errorf("brokertest: reading the certificates' description: %w", err)
	}
	return &certs, nil
}
