package sluice

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// WithToken is a Dial option that sends "authorization: Bearer <token>" on
// every call (the broker's --tokens-file). It also works on plaintext
// connections, for a broker behind a TLS proxy on the same host; anywhere
// else combine it with WithTLS, or anyone on the path can read the token.
// A token the broker does not know fails calls with codes.Unauthenticated;
// a malformed one (empty, spaces, non-ASCII) with codes.InvalidArgument.
func WithToken(token string) grpc.DialOption {
	return grpc.WithPerRPCCredentials(bearerToken(token))
}

type bearerToken string

func (t bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	for i := 0; i < len(t); i++ {
		if t[i] < 0x21 || t[i] > 0x7e {
			return nil, status.Error(codes.InvalidArgument, "sluice: the token must be non-empty printable ASCII without spaces")
		}
	}
	if len(t) == 0 {
		return nil, status.Error(codes.InvalidArgument, "sluice: the token must be non-empty printable ASCII without spaces")
	}
	return map[string]string{"authorization": "Bearer " + string(t)}, nil
}

// RequireTransportSecurity is false so that the token also works behind a
// local TLS-terminating proxy; see WithToken.
func (bearerToken) RequireTransportSecurity() bool { return false }

// WithTLS is a Dial option that connects with TLS (see TLSConfig); it
// replaces Dial's plaintext default.
func WithTLS(config *tls.Config) grpc.DialOption {
	return grpc.WithTransportCredentials(credentials.NewTLS(config))
}

// TLSConfig builds a TLS configuration from PEM: caPEM holds the CAs to
// trust (nil for the system's), and certPEM with keyPEM the client
// certificate for mutual TLS (both nil for none; the broker may take the
// certificate's subject as the identity).
func TLSConfig(caPEM, certPEM, keyPEM []byte) (*tls.Config, error) {
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if caPEM != nil {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("sluice: no PEM certificate in the CA")
		}
		config.RootCAs = pool
	}
	if (certPEM == nil) != (keyPEM == nil) {
		return nil, errors.New("sluice: the client certificate and key go together: give both for mutual TLS, or neither")
	}
	if certPEM != nil {
		pair, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return config, nil
}
