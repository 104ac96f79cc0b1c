package handlers

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// The fast JSON paths of /v1/verify must agree with encoding/json: these
// differential tests and fuzz targets hold them to it.

var verifyBodies = []string{
	`{"credential":"kwk_abc","method":"GET","path":"/4/worklogs","ip":"203.0.113.9","userAgent":"tempo/1"}`,
	` { "credential" : "kwk_abc" ,` + "\n\t" + `"method":"POST", "path":"/4/plans?x=1&y=%2F" } ` + "\r\n",
	`{"path":"/4/teams","method":"DELETE","credential":"x"}`,
	`{}`,
	`{"credential":""}`,
	`{"credential":"a","credential":"b"}`,
	`{"Credential":"kwk"}`,
	`{"credential":"kwk","extra":"x"}`,
	`{"credential":"k\"w"}`,
	`{"credential":"k\u0077k"}`,
	"{\"credential\":\"é\"}",
	"{\"credential\":\"\xff\"}",
	"{\"credential\":\"a\x01\"}",
	`{"credential":5}`,
	`{"credential":null}`,
	`{"credential":"a",}`,
	`{"credential":"a"}}`,
	`{"credential":"a"} x`,
	`{"credential":"a"}{}`,
	`[]`,
	`"x"`,
	``,
	`{`,
	`{"credential"`,
	`{"credential":"a"`,
	`{"credential":"a" "method":"GET"}`,
}

// checkDecode fails when the fast decoder accepts body but decodes it
// differently from decodeStrict (or decodeStrict refuses it).
func checkDecode(t *testing.T, body []byte) (fast bool) {
	t.Helper()
	var got, want verifyRequest
	if !decodeVerifyFast(body, &got) {
		return false
	}
	if err := decodeStrict(body, &want); err != nil {
		t.Fatalf("fast path accepted %q, strict decoding refuses it: %v", body, err)
	}
	if got != want {
		t.Fatalf("body %q: fast %+v, strict %+v", body, got, want)
	}
	return true
}

func TestDecodeVerifyFastAgreesWithStrict(t *testing.T) {
	fast := 0
	for _, b := range verifyBodies {
		if checkDecode(t, []byte(b)) {
			fast++
		}
	}
	// The shapes resource servers send take the fast path.
	for _, b := range verifyBodies[:5] {
		var r verifyRequest
		if !decodeVerifyFast([]byte(b), &r) {
			t.Errorf("common body %q missed the fast path", b)
		}
	}
	if fast != 5 {
		t.Errorf("%d bodies took the fast path, want the 5 plain ones", fast)
	}
}

func FuzzDecodeVerify(f *testing.F) {
	for _, b := range verifyBodies {
		f.Add([]byte(b))
	}
	f.Fuzz(func(t *testing.T, body []byte) { checkDecode(t, body) })
}

// checkEncode fails when appendVerifyResponse produces anything but what
// encoding/json's Encoder writes, whenever it claims to handle resp.
func checkEncode(t *testing.T, resp *verifyResponse) (fast bool) {
	t.Helper()
	var want bytes.Buffer
	if err := json.NewEncoder(&want).Encode(resp); err != nil {
		if _, ok := appendVerifyResponse(nil, resp); ok {
			t.Fatalf("encoding/json refuses %+v (%v), the fast path does not", resp, err)
		}
		return false
	}
	got, ok := appendVerifyResponse(nil, resp)
	if !ok {
		return false
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("fast %s\nwant %s", got, want.Bytes())
	}
	return true
}

func TestAppendVerifyResponseAgreesWithEncoding(t *testing.T) {
	exp := time.Date(2026, 12, 13, 19, 4, 39, 90855000, time.UTC)
	whole := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	zone := time.Date(2027, 1, 1, 0, 0, 0, 1, time.FixedZone("", 5*3600+1800))
	cases := []struct {
		resp verifyResponse
		fast bool
	}{
		{verifyResponse{Active: true, Tenant: "01a23d4b-5db0-7897", Principal: "557058:alice", CredentialID: "01a2-7d19", Kind: "api_key", Scopes: []string{"teams:manage", "worklogs:view"}, ExpiresAt: &exp}, true},
		{verifyResponse{Active: false, Reason: "scope_denied", Tenant: "t", Principal: "p", CredentialID: "c", Kind: "api_key", Scopes: []string{"full"}, ExpiresAt: &whole}, true},
		{verifyResponse{Reason: "malformed"}, true},
		{verifyResponse{}, true},
		{verifyResponse{Active: true, Scopes: []string{}, ExpiresAt: &zone}, true},
		{verifyResponse{Principal: "a<b>&c"}, false},
		{verifyResponse{Principal: "é"}, false},
		{verifyResponse{Tenant: `quote"d`}, false},
		{verifyResponse{Scopes: []string{"x\n"}}, false},
	}
	for _, tc := range cases {
		if fast := checkEncode(t, &tc.resp); fast != tc.fast {
			t.Errorf("%+v: fast path %v, want %v", tc.resp, fast, tc.fast)
		}
	}
}

func FuzzVerifyResponseJSON(f *testing.F) {
	f.Add(true, "", "01a23d4b", "557058:alice", "01a2-7d19", "api_key", "worklogs:view", "", int64(1_800_000_000_123_456_000), true, 0)
	f.Add(false, "revoked", "t", "p<", "c", "oauth_grant", "full", "teams:view", int64(-9_000_000_000_000_000_000), true, -3600)
	f.Fuzz(func(t *testing.T, active bool, reason, tenant, principal, id, kind, s1, s2 string, nanos int64, hasExp bool, offset int) {
		r := verifyResponse{Active: active, Reason: reason, Tenant: tenant, Principal: principal, CredentialID: id, Kind: kind}
		for _, s := range []string{s1, s2} {
			if s != "" {
				r.Scopes = append(r.Scopes, s)
			}
		}
		if hasExp {
			at := time.Unix(0, nanos).In(time.FixedZone("", offset%(18*3600)))
			r.ExpiresAt = &at
		}
		checkEncode(t, &r)
	})
}
