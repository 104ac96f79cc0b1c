package config

import "testing"

// TestAttackGuard_DevModeNeedsLoopbackAddr: KEYWARD_DEV is refused unless
// KEYWARD_ADDR binds a loopback address.
func TestAttackGuard_DevModeNeedsLoopbackAddr(t *testing.T) {
	for _, addr := range []string{":8080", "0.0.0.0:8080", "[::]:8080", "10.0.0.7:8080", "192.168.1.2:80", "example.com:8080", "localhost.example.com:8080", "127.0.0.1.nip.io:8080"} {
		if _, err := Load(env("KEYWARD_DEV", "1", "KEYWARD_ADDR", addr)); err == nil {
			t.Errorf("KEYWARD_DEV=1 with KEYWARD_ADDR=%s was accepted", addr)
		}
	}
	for _, addr := range []string{"127.0.0.1:8080", "[::1]:8080", "127.0.0.2:9000"} {
		if _, err := Load(env("KEYWARD_DEV", "1", "KEYWARD_ADDR", addr)); err != nil {
			t.Errorf("KEYWARD_DEV=1 with KEYWARD_ADDR=%s: %v", addr, err)
		}
	}
}
