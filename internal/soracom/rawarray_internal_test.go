package soracom

import (
	"strings"
	"testing"
)

// An array longer than the caller reads is not read past its bound: an answer is
// bounded in bytes only, and millions of tiny entries must not each become an item.
func TestRawArrayStopsPastItsBound(t *testing.T) {
	body := []byte("[" + strings.Repeat("0,", 100_000) + "0, not even JSON")
	raw, err := rawArray(body, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(raw) != 11 || raw[10] != nil {
		t.Fatalf("%d entries, the last %q: want 10 and a nil one for the rest", len(raw), raw[len(raw)-1])
	}
	for _, tt := range []struct{ body string }{{"[0,1]"}, {"null"}, {"[]"}} {
		if raw, err := rawArray([]byte(tt.body), 2); err != nil || len(raw) > 2 {
			t.Errorf("rawArray(%s, 2) = %q, %v", tt.body, raw, err)
		}
	}
	for _, bad := range []string{"[0,", "{}", "[0] [1]", "[0,1,2"} {
		if _, err := rawArray([]byte(bad), 5); err == nil {
			t.Errorf("rawArray(%s) took it for an array", bad)
		}
	}
}
