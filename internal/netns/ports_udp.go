package netns

import (
	"context"
	"net"
	"sync"
	"time"
)

// udpIdle is how long a UDP flow without traffic stays open.
const udpIdle = 60 * time.Second

// serveUDP relays datagrams between host clients and dst. Each client
// address gets its own socket in the sandbox, so replies find their way
// back; with keep set it has the client's address where possible
// (dialFrom).
func (s *Sandbox) serveUDP(ctx context.Context, pc *net.UDPConn, dst string, keep bool) {
	var mu sync.Mutex
	flows := map[string]net.Conn{}
	var wg sync.WaitGroup
	defer func() {
		mu.Lock()
		for _, f := range flows {
			f.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	buf := make([]byte, 65536)
	for {
		n, from, err := pc.ReadFromUDP(buf)
		if err != nil {
			return
		}
		mu.Lock()
		f, ok := flows[from.String()]
		if !ok {
			if f, err = s.dialFrom(ctx, "udp", dst, from, keep); err != nil {
				mu.Unlock()
				continue
			}
			flows[from.String()] = f
			wg.Add(1)
			go func() {
				defer wg.Done()
				replyUDP(pc, f, from)
				mu.Lock()
				delete(flows, from.String())
				mu.Unlock()
			}()
		}
		mu.Unlock()
		_, _ = f.Write(buf[:n])
	}
}

// replyUDP copies the container's replies to the client until the flow is
// idle or closed.
func replyUDP(pc *net.UDPConn, f net.Conn, to *net.UDPAddr) {
	defer f.Close()
	buf := make([]byte, 65536)
	for {
		_ = f.SetReadDeadline(time.Now().Add(udpIdle))
		n, err := f.Read(buf)
		if err != nil {
			return
		}
		if _, err := pc.WriteToUDP(buf[:n], to); err != nil {
			return
		}
	}
}
