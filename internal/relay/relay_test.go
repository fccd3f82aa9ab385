package relay

import (
	"errors"
	"testing"
)

func TestNodeIDRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		typ string
		id  int64
	}{{"Vehicle", 1}, {"Dealer", 42}, {"Make", 9223372036854775807}} {
		t.Run(tc.typ, func(t *testing.T) {
			typ, id, err := ParseNodeID(NodeID(tc.typ, tc.id))
			if err != nil || typ != tc.typ || id != tc.id {
				t.Errorf("ParseNodeID(NodeID(%q, %d)) = %q, %d, %v", tc.typ, tc.id, typ, id, err)
			}
		})
	}
}

func TestNodeIDIsOpaque(t *testing.T) {
	t.Parallel()
	if got := NodeID("Vehicle", 7); got == "Vehicle:7" || got == "7" {
		t.Fatalf("NodeID leaks its parts: %q", got)
	}
}

func TestParseNodeIDRejectsForeignInput(t *testing.T) {
	t.Parallel()
	for name, in := range map[string]string{
		"empty":           "",
		"not base64":      "!!!",
		"no separator":    b64.EncodeToString([]byte("Vehicle7")),
		"no type":         b64.EncodeToString([]byte(":7")),
		"zero id":         b64.EncodeToString([]byte("Vehicle:0")),
		"negative id":     b64.EncodeToString([]byte("Vehicle:-3")),
		"leading zero":    b64.EncodeToString([]byte("Vehicle:07")),
		"overflow":        b64.EncodeToString([]byte("Vehicle:99999999999999999999")),
		"trailing junk":   b64.EncodeToString([]byte("Vehicle:7x")),
		"huge":            string(make([]byte, 4096)),
		"std padding":     "VmVoaWNsZTo3==",
		"plain database":  "7",
		"sql":             "1; DROP TABLE vehicles",
		"nul":             "VmVoaWNsZTo3\x00",
		"unicode garbage": "ü€",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := ParseNodeID(in); !errors.Is(err, ErrMalformed) {
				t.Fatalf("ParseNodeID(%q) error = %v, want ErrMalformed", in, err)
			}
		})
	}
}

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range []Cursor{
		{Order: "p", Key: "1999900", ID: 12},
		{Order: "n", Key: "Northside Motors: Uptown", ID: 3},
		{Order: "c", Key: "", ID: 1},
	} {
		got, err := ParseCursor(c.String())
		if err != nil || got != c {
			t.Errorf("ParseCursor(%v.String()) = %v, %v", c, got, err)
		}
	}
}

func TestParseCursorRejectsGarbage(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "garbage", "Zm9v", b64.EncodeToString([]byte("p:x:1")), b64.EncodeToString([]byte(":1:2"))} {
		if _, err := ParseCursor(in); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseCursor(%q) error = %v, want ErrMalformed", in, err)
		}
	}
}

func FuzzParseNodeID(f *testing.F) {
	f.Add(NodeID("Vehicle", 1))
	f.Add("garbage")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		typ, id, err := ParseNodeID(s)
		if err != nil {
			return
		}
		if again := NodeID(typ, id); again != s {
			t.Fatalf("accepted %q but it re-encodes as %q", s, again)
		}
	})
}

func FuzzParseCursor(f *testing.F) {
	f.Add(Cursor{Order: "p", Key: "10", ID: 1}.String())
	f.Add("garbage")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCursor(s)
		if err != nil {
			return
		}
		if c.ID <= 0 || c.Order == "" {
			t.Fatalf("accepted %q as %+v", s, c)
		}
	})
}
