package seal

import (
	"bytes"
	"errors"
	"testing"
)

func TestSealRoundTripAndBinding(t *testing.T) {
	key, err := GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := s.Seal([]byte("shared-secret"), "tenant/a/shared_secret")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("shared-secret")) {
		t.Fatal("ciphertext contains plaintext")
	}
	pt, err := s.Open(ct, "tenant/a/shared_secret")
	if err != nil || string(pt) != "shared-secret" {
		t.Fatalf("open = %q, %v", pt, err)
	}
	if _, err := s.Open(ct, "tenant/b/shared_secret"); !errors.Is(err, ErrOpen) {
		t.Fatalf("open with another context: %v, want ErrOpen", err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := s.Open(ct, "tenant/a/shared_secret"); !errors.Is(err, ErrOpen) {
		t.Fatalf("open tampered: %v, want ErrOpen", err)
	}
	other, _ := GenerateKey()
	s2, _ := New(other)
	ct2, _ := s.Seal([]byte("x"), "c")
	if _, err := s2.Open(ct2, "c"); !errors.Is(err, ErrOpen) {
		t.Fatalf("open with another key: %v", err)
	}
	if _, err := s.Open(nil, "c"); !errors.Is(err, ErrOpen) {
		t.Fatalf("open empty: %v", err)
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
}
