package offboard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"syscall"
	"time"
)

// errPrivateAddress refuses report deliveries to this machine or private
// networks: a site admin's webhook URL must not reach keyward's insides.
var errPrivateAddress = errors.New("report webhook address is not public")

// publicAddr reports whether an address is routable on the internet.
func publicAddr(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() && !a.IsLinkLocalMulticast() &&
		!a.IsMulticast() && !a.IsUnspecified() && !a.IsInterfaceLocalMulticast() &&
		!netip.MustParsePrefix("100.64.0.0/10").Contains(a) // carrier-grade NAT
}

// publicHost refuses host names and literals that obviously point inside:
// loopback and private literals, localhost and internal-only suffixes.
// Names are checked again, resolved, when the delivery connects.
func publicHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if a, err := netip.ParseAddr(strings.Trim(h, "[]")); err == nil {
		return publicAddr(a)
	}
	for _, suffix := range []string{"localhost", ".local", ".internal", ".localdomain"} {
		if h == strings.TrimPrefix(suffix, ".") || strings.HasSuffix(h, suffix) {
			return false
		}
	}
	return h != ""
}

// newEgressClient is the HTTP client of report deliveries: it connects only
// to public addresses (checked after DNS resolution, so a rebinding name
// cannot slip through) and never follows redirects.
func newEgressClient(timeout time.Duration, allowPrivate bool) *http.Client {
	dialer := &net.Dialer{
		Timeout: 5 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !allowPrivate && !publicAddr(ap.Addr()) {
				return fmt.Errorf("%w: %s", errPrivateAddress, address)
			}
			return nil
		},
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, addr)
	}
	return &http.Client{Timeout: timeout, Transport: transport, CheckRedirect: noRedirects}
}

func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
