package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// loadConfig is one load run.
type loadConfig struct {
	addr         string
	request      []byte // the whole HTTP/1.1 request, sent as is
	workers      int
	duration     time.Duration
	requests     int64
	warmup       time.Duration
	expectActive bool
}

// verifyRequest renders the raw keep-alive POST /v1/verify request.
func verifyRequest(u *url.URL, token, secret, method, path string) []byte {
	body, _ := json.Marshal(map[string]string{"credential": secret, "method": method, "path": path, "ip": "203.0.113.9", "userAgent": "keyward-loadgen"})
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nUser-Agent: keyward-loadgen\r\n\r\n", u.RequestURI(), u.Host, token, len(body))
	b.Write(body)
	return b.Bytes()
}

// result is what the workers measured.
type result struct {
	elapsed              time.Duration
	ok, unexpected, non2 int64
	errs                 int64
	firstErr             error
	hist                 histogram
}

func (r *result) failures() int64 { return r.errs + r.non2 + r.unexpected }

func (r *result) print(w io.Writer) {
	n := r.ok + r.unexpected + r.non2
	fmt.Fprintf(w, "requests: %d in %s = %.0f req/s\n", n, r.elapsed.Round(time.Millisecond), float64(n)/r.elapsed.Seconds())
	fmt.Fprintf(w, "answers:  %d ok, %d unexpected (not active), %d non-200, %d transport errors\n", r.ok, r.unexpected, r.non2, r.errs)
	if r.firstErr != nil {
		fmt.Fprintf(w, "first error: %v\n", r.firstErr)
	}
	q := func(p float64) string { return r.hist.quantile(p).Round(time.Microsecond).String() }
	fmt.Fprintf(w, "latency:  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n", q(0.50), q(0.90), q(0.99), q(0.999), r.hist.max.Round(time.Microsecond))
}

// load runs the workers: warm-up first (not measured), then the measured
// phase until the duration or the request count is reached.
func load(cfg loadConfig) (*result, error) {
	var (
		measuring atomic.Bool
		stop      atomic.Bool
		left      atomic.Int64
		mu        sync.Mutex
		total     = &result{}
		wg        sync.WaitGroup
	)
	left.Store(cfg.requests)
	for range cfg.workers {
		conn, err := net.DialTimeout("tcp", cfg.addr, 5*time.Second)
		if err != nil {
			return nil, err
		}
		wg.Go(func() {
			r := worker(conn, cfg, &measuring, &stop, &left)
			mu.Lock()
			total.merge(r)
			mu.Unlock()
		})
	}
	time.Sleep(cfg.warmup)
	start := time.Now()
	measuring.Store(true)
	deadline := time.NewTimer(cfg.duration)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-deadline.C:
		stop.Store(true)
		total.elapsed = time.Since(start)
		<-done
	case <-done: // -n reached
		total.elapsed = time.Since(start)
	}
	return total, nil
}

func (r *result) merge(o *result) {
	r.ok += o.ok
	r.unexpected += o.unexpected
	r.non2 += o.non2
	r.errs += o.errs
	if r.firstErr == nil {
		r.firstErr = o.firstErr
	}
	r.hist.merge(&o.hist)
}

var activeTrue = []byte(`"active":true`)

// worker sends requests on one connection (re-dialling if the server
// closes it) until stopped.
func worker(conn net.Conn, cfg loadConfig, measuring, stop *atomic.Bool, left *atomic.Int64) *result {
	r := &result{}
	br := bufio.NewReaderSize(conn, 8<<10)
	body := make([]byte, 0, 4<<10)
	fail := func(err error) {
		if measuring.Load() {
			r.errs++
			if r.firstErr == nil {
				r.firstErr = err
			}
		}
		conn.Close()
		for !stop.Load() {
			c, err := net.DialTimeout("tcp", cfg.addr, 5*time.Second)
			if err == nil {
				conn = c
				br.Reset(conn)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	defer func() { conn.Close() }()
	for !stop.Load() {
		counted := measuring.Load()
		if counted && cfg.requests > 0 && left.Add(-1) < 0 {
			break
		}
		t0 := time.Now()
		if _, err := conn.Write(cfg.request); err != nil {
			fail(err)
			continue
		}
		status, keepAlive, b, err := readResponse(br, body[:0])
		if err != nil {
			fail(err)
			continue
		}
		body = b
		if counted {
			r.hist.record(time.Since(t0))
			switch {
			case status != 200:
				r.non2++
				if r.firstErr == nil {
					r.firstErr = fmt.Errorf("status %d: %.200s", status, b)
				}
			case cfg.expectActive && !bytes.Contains(b, activeTrue):
				r.unexpected++
				if r.firstErr == nil {
					r.firstErr = fmt.Errorf("not active: %.200s", b)
				}
			default:
				r.ok++
			}
		}
		if !keepAlive {
			fail(errors.New("server closed the connection"))
		}
	}
	return r
}

// readResponse reads one HTTP/1.1 response with a Content-Length body.
func readResponse(br *bufio.Reader, body []byte) (status int, keepAlive bool, _ []byte, _ error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, false, body, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, false, body, fmt.Errorf("bad status line %q", line)
	}
	status, err = strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, false, body, fmt.Errorf("bad status line %q", line)
	}
	keepAlive, length := true, -1
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, false, body, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 || length > 1<<20 {
				return 0, false, body, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			keepAlive = false
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, body, errors.New("chunked responses are not supported")
		}
	}
	if length < 0 {
		return 0, false, body, errors.New("response without Content-Length")
	}
	if cap(body) < length {
		body = make([]byte, length)
	}
	body = body[:length]
	_, err = io.ReadFull(br, body)
	return status, keepAlive, body, err
}
