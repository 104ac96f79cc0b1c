package auth

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"sync"
	"testing"
	"time"
)

// testNow is the fixed clock of most tests.
var testNow = time.Unix(1_700_000_000, 0).UTC()

func fixedNow() time.Time { return testNow }

type qshVector struct {
	Name      string `json:"name"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	RawQuery  string `json:"raw_query"`
	Canonical string `json:"canonical"`
	QSH       string `json:"qsh"`
}

type qshVectorFile struct {
	SharedSecret   string         `json:"interop_shared_secret"`
	Claims         map[string]any `json:"interop_claims"`
	TokenSignature string         `json:"interop_simple_token_signature"`
	SigningInput   string         `json:"interop_simple_signing_input"`
	Vectors        []qshVector    `json:"vectors"`
}

func loadVectors(t testing.TB) qshVectorFile {
	t.Helper()
	b, err := os.ReadFile("testdata/qsh_vectors.json")
	if err != nil {
		t.Fatalf("read vectors: %v", err)
	}
	var f qshVectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatalf("parse vectors: %v", err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors")
	}
	return f
}

// jsonSegment base64url-encodes v as JSON (a string is used verbatim).
func jsonSegment(t testing.TB, v any) string {
	t.Helper()
	if s, ok := v.(string); ok {
		return encodeSegment([]byte(s))
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return encodeSegment(b)
}

// signHS makes an HS* token with an arbitrary header and claims.
func signHS(t testing.TB, header, claims any, secret []byte) string {
	t.Helper()
	input := jsonSegment(t, header) + "." + jsonSegment(t, claims)
	alg := "HS256"
	if h, ok := header.(map[string]any); ok {
		if a, ok := h["alg"].(string); ok {
			alg = a
		}
	}
	hf, ok := hmacHash(alg)
	if !ok {
		hf, _ = hmacHash("HS256")
	}
	return input + "." + encodeSegment(hmacSign(hf, secret, []byte(input)))
}

// signRS makes an RS256 token with an arbitrary header and claims.
func signRS(t testing.TB, header, claims any, key *rsa.PrivateKey) string {
	t.Helper()
	input := jsonSegment(t, header) + "." + jsonSegment(t, claims)
	d := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + encodeSegment(sig)
}

// testKeys generates RSA keys once per test binary: 2048-bit generation is
// the slowest part of the suite.
type keyPool struct {
	once sync.Once
	keys []*rsa.PrivateKey
}

var rsaKeys keyPool

func testKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	rsaKeys.once.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys.keys = append(rsaKeys.keys, k)
		}
	})
	return rsaKeys.keys[i]
}

func publicPEM(t testing.TB, k *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// claims copies base and applies edits; a nil value deletes the key.
func claims(base map[string]any, edits map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(edits))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range edits {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}
