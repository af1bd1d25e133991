package privacy_test

import (
	"strings"
	"testing"

	"github.com/hotlineqc/hotlineqc/internal/privacy"
)

func TestHasher(t *testing.T) {
	if _, err := privacy.NewHasher([]byte("short")); err == nil {
		t.Fatal("short key accepted")
	}
	h, _ := privacy.NewHasher([]byte("0123456789abcdef"))
	other, _ := privacy.NewHasher([]byte("fedcba9876543210"))
	a, b := h.Hash("13800000000"), h.Hash("13800000000")
	if a != b || len(a) != 64 || strings.Contains(a, "13800000000") {
		t.Errorf("Hash not stable or leaks: %q %q", a, b)
	}
	if a == h.Hash("13800000001") || a == other.Hash("13800000000") {
		t.Error("different numbers or keys give the same hash")
	}
	// Computed independently with Python's hmac module.
	if want := "e5552a2b5de9e5357935637a091242ccda4ba098dee7d90acd666b8c1fbbf5a8"; a != want {
		t.Errorf("Hash = %s, want %s", a, want)
	}
}
