package soracomtest

import (
	"errors"
	"fmt"
	"net"
)

// Coverage names, as soracom-coverage-type spells them.
const (
	CoverageJP = "jp"
	CoverageG  = "g"
)

// Coverages is SORACOM's two coverages, Japan and global, as two emulators on two
// sockets: two independent places, each with its own credential sets, groups, event
// handlers, sessions and rate-limit budgets. The real API does not document whether a
// set created on one is visible on the other, so the emulators share no set; an
// operator's SAM users and their AuthKeys work on both, so the two share one AuthKey
// store: a key generated through one coverage authenticates on the other.
type Coverages struct {
	JP, G *Server
}

// StartCoverages serves two new emulators over plain HTTP, both with opts.
func StartCoverages(opts ...Option) (*Coverages, error) {
	return startCoverages(StartServer, opts)
}

// StartTLSCoverages serves two new emulators over HTTPS; each has its own CA.
func StartTLSCoverages(opts ...Option) (*Coverages, error) {
	return startCoverages(StartTLSServer, opts)
}

func startCoverages(start func(...Option) (*Server, error), opts []Option) (*Coverages, error) {
	opts = append(opts[:len(opts):len(opts)], withAuthKeys(newAuthKeyStore()))
	jp, err := start(opts...)
	if err != nil {
		return nil, fmt.Errorf("coverage jp: %w", err)
	}
	// The second listens beside the first: same host, a port of its own.
	g, err := start(append(opts, WithAddr(addrBeside(jp)))...)
	if err != nil {
		_ = jp.Close()
		return nil, fmt.Errorf("coverage g: %w", err)
	}
	return &Coverages{JP: jp, G: g}, nil
}

// addrBeside is an address on s's host with a free port.
func addrBeside(s *Server) string {
	host, _, err := net.SplitHostPort(s.listener.Addr().String())
	if err != nil {
		return DefaultAddr
	}
	return net.JoinHostPort(host, "0")
}

// StartBoth serves both coverages over plain HTTP for the length of a test.
func StartBoth(t TB, opts ...Option) *Coverages {
	t.Helper()
	c, err := StartCoverages(opts...)
	if err != nil {
		t.Fatalf("%v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Each calls f with each coverage's name and server, jp first.
func (c *Coverages) Each(f func(coverage string, s *Server)) {
	f(CoverageJP, c.JP)
	f(CoverageG, c.G)
}

// Server returns the server of a coverage by name, nil for an unknown name.
func (c *Coverages) Server(coverage string) *Server {
	switch coverage {
	case CoverageJP:
		return c.JP
	case CoverageG:
		return c.G
	}
	return nil
}

// AddAuthKey registers an AuthKey of DefaultUserName, which works on both coverages.
func (c *Coverages) AddAuthKey(id, secret string) {
	c.Each(func(_ string, s *Server) { s.AddAuthKey(id, secret) })
}

// LiveSessions returns the sessions still usable on both coverages together.
func (c *Coverages) LiveSessions() int {
	n := 0
	c.Each(func(_ string, s *Server) { n += s.LiveSessions() })
	return n
}

// Close stops both servers at once.
func (c *Coverages) Close() error {
	return errors.Join(c.JP.Close(), c.G.Close())
}
