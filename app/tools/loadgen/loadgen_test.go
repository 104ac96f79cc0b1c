package main

import (
	"bufio"
	"strings"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 10000; i++ {
		h.record(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5 * time.Millisecond}, {0.9, 9 * time.Millisecond}, {0.99, 9900 * time.Microsecond}} {
		got := h.quantile(c.q)
		if d := got - c.want; d > c.want/100 || -d > c.want/100 {
			t.Errorf("p%g = %v, want %v within 1%%", c.q*100, got, c.want)
		}
	}
	if h.max != 10*time.Millisecond || h.n != 10000 {
		t.Fatalf("max %v n %d", h.max, h.n)
	}
	prev := time.Duration(-1)
	for us := uint64(0); us < 1<<22; us += 7 {
		v := valueOf(bucketOf(us))
		if v < prev || v > time.Duration(us)*time.Microsecond {
			t.Fatalf("bucket of %d µs starts at %v (previous %v)", us, v, prev)
		}
		prev = v
	}
}

func TestReadResponse(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\ncontent-length: 15\r\n\r\n{\"active\":true}" +
		"HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}"
	br := bufio.NewReader(strings.NewReader(raw))
	status, keep, body, err := readResponse(br, nil)
	if err != nil || status != 200 || !keep || string(body) != `{"active":true}` {
		t.Fatalf("first: %d %v %q %v", status, keep, body, err)
	}
	status, keep, body, err = readResponse(br, body[:0])
	if err != nil || status != 400 || keep || string(body) != `{}` {
		t.Fatalf("second: %d %v %q %v", status, keep, body, err)
	}
	if _, _, _, err := readResponse(bufio.NewReader(strings.NewReader("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")), nil); err == nil {
		t.Fatal("chunked response accepted")
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:8080/v1/verify", "http://localhost:8080", "http://[::1]:8080"} {
		if err := loopback(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"http://10.0.0.1:8080", "https://127.0.0.1", "http://example.com", "127.0.0.1:8080"} {
		if loopback(bad) == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
