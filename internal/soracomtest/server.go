package soracomtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultAddr is where servers listen unless WithAddr says otherwise: loopback, a free
// port. The emulator accepts any auth key a test adds, so it must not be reachable from
// elsewhere by default.
const DefaultAddr = "127.0.0.1:0"

type serverConfig struct {
	addr        string
	connLatency time.Duration
	certHosts   []string
}

// WithAddr sets the address a server listens on (server option; New ignores it).
func WithAddr(addr string) Option { return func(c *config) { c.server.addr = addr } }

// WithConnLatency delays the first read of every new connection by d, as the TCP (and
// TLS) handshake with a distant API would; reused connections do not pay it again.
// Benchmarks use it to show what connection reuse saves (server option; New ignores
// it).
func WithConnLatency(d time.Duration) Option {
	return func(c *config) { c.server.connLatency = d }
}

// WithCertHosts adds host names and IP addresses to the TLS certificate of a TLS
// server, beyond localhost, 127.0.0.1 and ::1 (server option; New ignores it).
func WithCertHosts(hosts ...string) Option {
	return func(c *config) { c.server.certHosts = append(c.server.certHosts, hosts...) }
}

// Server is an Emulator served over HTTP or HTTPS on a real socket. The embedded
// Emulator is the test-side API.
type Server struct {
	*Emulator

	srv      *http.Server
	listener net.Listener
	url      string
	caPEM    []byte
	pool     *x509.CertPool

	conns      atomic.Int64
	handshakes atomic.Int64
}

// StartServer serves a new Emulator over plain HTTP.
func StartServer(opts ...Option) (*Server, error) { return start(false, opts) }

// StartTLSServer serves a new Emulator over HTTPS, with a certificate from a fresh CA
// that only CertPool and CACertPEM know.
func StartTLSServer(opts ...Option) (*Server, error) { return start(true, opts) }

func start(useTLS bool, opts []Option) (*Server, error) {
	e := New(opts...)
	sc := e.cfg.server
	addr := sc.addr
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("soracomtest: listen: %w", err)
	}
	s := &Server{Emulator: e}
	s.listener = &slowListener{Listener: ln, delay: sc.connLatency, server: s}
	s.srv = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: 10 * time.Second,
		// Tests provoke failed handshakes and dropped connections on purpose; the
		// server's complaints about them would only clutter the output.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	scheme := "http"
	if useTLS {
		cert, caPEM, err := newCertificate(sc.certHosts)
		if err != nil {
			_ = ln.Close()
			return nil, err
		}
		s.caPEM = caPEM
		s.pool = x509.NewCertPool()
		s.pool.AppendCertsFromPEM(caPEM)
		s.listener = tls.NewListener(s.listener, &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			// HTTP/1.1 only: connection reuse is what the benchmarks measure, and
			// DropBeforeHandling needs a hijackable connection.
			NextProtos: []string{"http/1.1"},
			GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
				s.handshakes.Add(1)
				return nil, nil
			},
		})
		scheme = "https"
	}
	s.url = scheme + "://" + ln.Addr().String()
	go func() { _ = s.srv.Serve(s.listener) }()
	return s, nil
}

// URL returns the base URL without /v1, the way the action is configured
// (e.g. "http://127.0.0.1:40123").
func (s *Server) URL() string { return s.url }

// CACertPEM returns the PEM of the CA that signed a TLS server's certificate, nil for a
// plain HTTP server.
func (s *Server) CACertPEM() []byte { return append([]byte(nil), s.caPEM...) }

// CertPool returns a pool holding the CA of a TLS server, nil for a plain HTTP server.
func (s *Server) CertPool() *x509.CertPool {
	if s.pool == nil {
		return nil
	}
	return s.pool.Clone()
}

// Client returns a new HTTP client that trusts the server's CA (for a TLS server) and
// has its own connection pool.
func (s *Server) Client() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	if s.pool != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: s.CertPool(), MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: t}
}

// Connections returns how many TCP connections the server has accepted.
func (s *Server) Connections() int64 { return s.conns.Load() }

// TLSHandshakes returns how many TLS handshakes clients have started (full or resumed).
func (s *Server) TLSHandshakes() int64 { return s.handshakes.Load() }

// Close stops the server at once: it closes the listener and every connection, which
// also ends requests waiting in a delay.
func (s *Server) Close() error { return s.srv.Close() }

// Shutdown stops the server gracefully: no new connections, and it waits for requests
// in flight until ctx ends, then closes what is left.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	return err
}

// slowListener counts accepted connections and gives each a first-read delay.
type slowListener struct {
	net.Listener
	delay  time.Duration
	server *Server
}

func (l *slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.server.conns.Add(1)
	if l.delay <= 0 {
		return c, nil
	}
	// Delaying the first read rather than Accept keeps connections from queueing
	// behind each other: each pays its own handshake time, in parallel, as over a
	// network.
	return &slowConn{Conn: c, delay: l.delay}, nil
}

type slowConn struct {
	net.Conn
	delay time.Duration
	once  sync.Once
}

func (c *slowConn) Read(p []byte) (int, error) {
	c.once.Do(func() { time.Sleep(c.delay) })
	return c.Conn.Read(p)
}

// newCertificate makes a CA and a server certificate it signs, for localhost,
// 127.0.0.1, ::1 and the extra hosts. Both live a day: long enough for any test or
// demo, short enough that a leaked one is useless soon.
func newCertificate(extraHosts []string) (tls.Certificate, []byte, error) {
	fail := func(err error) (tls.Certificate, []byte, error) {
		return tls.Certificate{}, nil, fmt.Errorf("soracomtest: make certificate: %w", err)
	}
	now := time.Now()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fail(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "soracomtest CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return fail(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return fail(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fail(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "soracomtest"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range extraHosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else if h != "" {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return fail(err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, caPEM, nil
}

// TB is the part of testing.TB that Start uses; declaring it here keeps the testing
// package out of binaries that embed the emulator.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// Start serves a new Emulator over plain HTTP for the length of a test.
func Start(t TB, opts ...Option) *Server {
	t.Helper()
	return startForTest(t, StartServer, opts)
}

// StartTLS serves a new Emulator over HTTPS for the length of a test; Client, CertPool
// and CACertPEM give what a client needs to trust it.
func StartTLS(t TB, opts ...Option) *Server {
	t.Helper()
	return startForTest(t, StartTLSServer, opts)
}

func startForTest(t TB, start func(...Option) (*Server, error), opts []Option) *Server {
	t.Helper()
	s, err := start(opts...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
