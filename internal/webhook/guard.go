package webhook

import (
	"fmt"
	"net/netip"
	"syscall"
)

// blocked are the address ranges a webhook may not reach unless allowed: the machine itself,
// private networks and whatever is not a single routable host. netip's own predicates cover
// loopback, RFC 1918 and ULA, link-local, unspecified and multicast; the prefixes add ranges
// that are internal in practice (carrier-grade NAT is how some clouds number their VPCs).
var blocked = []struct {
	is     func(netip.Addr) bool
	reason string
}{
	{netip.Addr.IsLoopback, "a loopback address"},
	{netip.Addr.IsPrivate, "a private address"},
	{netip.Addr.IsLinkLocalUnicast, "a link-local address"},
	{netip.Addr.IsUnspecified, "the unspecified address"},
	{netip.Addr.IsMulticast, "a multicast address"},
	{inPrefix("0.0.0.0/8"), `a "this network" address`},
	{inPrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{inPrefix("192.0.0.0/24"), "an IETF protocol assignment"},
	{inPrefix("198.18.0.0/15"), "a benchmarking address"},
	{inPrefix("240.0.0.0/4"), "a reserved or broadcast address"},
}

func inPrefix(cidr string) func(netip.Addr) bool {
	p := netip.MustParsePrefix(cidr)
	return p.Contains
}

// RefusedError is a connection the guard refused. Its message says why and how to allow it.
type RefusedError struct {
	Addr   netip.Addr
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused to connect to %s: it is %s (allow it with SWITCHBOARD_WEBHOOK_ALLOW_CIDRS)", e.Addr, e.Reason)
}

// Guard decides which resolved addresses a webhook may connect to.
type Guard struct {
	Allow []netip.Prefix // allowed even when blocked, e.g. 127.0.0.0/8 in tests
}

// Check returns a *RefusedError when addr is blocked and not allowed.
func (g Guard) Check(addr netip.Addr) error {
	addr = addr.Unmap() // ::ffff:127.0.0.1 is 127.0.0.1
	for _, p := range g.Allow {
		if p.Contains(addr) {
			return nil
		}
	}
	for _, b := range blocked {
		if b.is(addr) {
			return &RefusedError{Addr: addr, Reason: b.reason}
		}
	}
	return nil
}

// control is a net.Dialer Control function: it runs after name resolution, on the address
// actually being connected to, so a name that resolves (or re-resolves) to an internal address
// is refused too.
func (g Guard) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %q: not an IP address and port", address)
	}
	return g.Check(ap.Addr())
}
