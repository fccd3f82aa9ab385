package models

import (
	"strings"
	"testing"
)

// A photo's alt text is held to the listing texts' rules: trimmed, one
// line, no NUL or control characters, and its length counted once
// trimmed.
func TestCheckPhotoAlt(t *testing.T) {
	for _, tc := range []struct {
		alt, want string // want "" with bad: refused
		bad       bool
	}{
		{alt: "  Front three-quarter view ", want: "Front three-quarter view"},
		{alt: "   ", want: ""},
		{alt: strings.Repeat("x", MaxPhotoAltLength) + "  ", want: strings.Repeat("x", MaxPhotoAltLength)},
		{alt: strings.Repeat("x", MaxPhotoAltLength+1), bad: true},
		{alt: "front\x00", bad: true},
		{alt: "\u0000", bad: true},
		{alt: "front\nview", bad: true},
		{alt: "front\x1b[31m", bad: true},
		{alt: "front\xff", bad: true},
	} {
		var inv Invalid
		got := CheckPhotoAlt(&tc.alt, &inv)
		err := inv.Err()
		switch {
		case tc.bad && err == nil:
			t.Errorf("%q was accepted", tc.alt)
		case tc.bad && !strings.HasPrefix(err.Error(), "invalid input: alt: "):
			t.Errorf("%q: %v", tc.alt, err)
		case !tc.bad && err != nil:
			t.Errorf("%q: %v", tc.alt, err)
		case !tc.bad && tc.want == "" && got != nil, !tc.bad && tc.want != "" && (got == nil || *got != tc.want):
			t.Errorf("%q stored as %v", tc.alt, got)
		}
	}
}
