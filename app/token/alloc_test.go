package token_test

import (
	"testing"

	"github.com/keyward/keyward/app/token"
)

func TestParseAndHashDoNotAllocate(t *testing.T) {
	badSum := replaceAt(vecAPIKey, 10, 'Z')
	tests := []struct {
		name string
		fn   func()
	}{
		{"Parse valid", func() { _, _ = token.Parse(vecClient) }},
		{"Parse bad checksum", func() { _, _ = token.Parse(badSum) }},
		{"Parse malformed", func() { _, _ = token.Parse("kwk_short") }},
		{"Parse empty", func() { _, _ = token.Parse("") }},
		{"Hash", func() { _ = token.Hash(vecClient) }},
	}
	for _, tt := range tests {
		if allocs := testing.AllocsPerRun(1000, tt.fn); allocs != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tt.name, allocs)
		}
	}
}

// BenchmarkParse target: under 250 ns/op and 0 allocs/op; Parse runs on
// every authenticated request before the database lookup.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.Parse(vecAPIKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHash target: under 250 ns/op and 0 allocs/op.
func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = token.Hash(vecAPIKey)
	}
}

// BenchmarkNew has no hard target (issuing is rare); it is here to notice
// regressions in the random source loop.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := token.New(token.KindAccessToken); err != nil {
			b.Fatal(err)
		}
	}
}
