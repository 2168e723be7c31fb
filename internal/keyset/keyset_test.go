package keyset

import (
	"errors"
	"testing"

	"github.com/touchpoint-hub/touchpoint/internal/id"
)

func TestCursorRoundTripAndRefusal(t *testing.T) {
	for _, c := range []struct {
		k    int64
		last id.ID
	}{{0, 1}, {1763856000000000, 383024838337363968}, {-5, 42}} {
		k, last, err := Decode(Encode(c.k, c.last))
		if err != nil || k != c.k || last != c.last {
			t.Fatalf("round trip of (%d, %d): (%d, %d, %v)", c.k, c.last, k, last, err)
		}
	}
	for _, bad := range []string{"", "!!", "MTIz", Encode(1, 2) + "x", "MS5hYmM"} {
		if _, _, err := Decode(bad); !errors.Is(err, ErrBadCursor) {
			t.Fatalf("cursor %q: %v, want ErrBadCursor", bad, err)
		}
	}
}
