package sluice_test

import (
	"net"
	"sync"
	"testing"
)

// tcpProxy forwards connections on 127.0.0.1 to a broker, for faults below
// gRPC, like the TypeScript fault tests' TcpProxy: DropReplies loses what the
// broker sends while the connections stay open (the broker stores, its
// answers never arrive); Cut destroys every connection at once, and
// connections made after it work normally.
type tcpProxy struct {
	ln     net.Listener
	target string

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	dropped bool
	wg      sync.WaitGroup
}

func startProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &tcpProxy{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Addr is the address to dial instead of the broker's.
func (p *tcpProxy) Addr() string { return p.ln.Addr().String() }

// DropReplies discards every byte from the broker from now on, until Cut.
func (p *tcpProxy) DropReplies() {
	p.mu.Lock()
	p.dropped = true
	p.mu.Unlock()
}

// Cut closes every connection, without a goodbye to either side, and lets
// replies through again on new connections.
func (p *tcpProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
	p.dropped = false
}

// Close stops accepting, cuts every connection and waits for the proxy's goroutines.
func (p *tcpProxy) Close() {
	p.ln.Close()
	p.Cut()
	p.wg.Wait()
}

func (p *tcpProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		upstream, err := net.Dial("tcp", p.target)
		if err != nil {
			client.Close()
			continue
		}
		p.mu.Lock()
		p.conns[client], p.conns[upstream] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(client, upstream, false)
		go p.pipe(upstream, client, true)
	}
}

// pipe copies from src to dst until either closes, then closes both.
func (p *tcpProxy) pipe(src, dst net.Conn, replies bool) {
	defer p.wg.Done()
	defer func() {
		p.mu.Lock()
		delete(p.conns, src)
		delete(p.conns, dst)
		p.mu.Unlock()
		src.Close()
		dst.Close()
	}()
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			drop := replies && p.dropped
			p.mu.Unlock()
			if !drop {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			return
		}
	}
}
