package relay

import "testing"

// Every vehicle on a page costs one NodeID (its id) and, when edges are
// selected, one Cursor.String; every argument one parse.

func BenchmarkNodeID(b *testing.B) {
	b.ReportAllocs()
	for i := range b.N {
		_ = NodeID("Vehicle", int64(i)+1)
	}
}

func BenchmarkParseNodeID(b *testing.B) {
	id := NodeID("Vehicle", 123456)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ParseNodeID(id); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCursorString(b *testing.B) {
	c := Cursor{Order: "price", Key: "2399900", ID: 123456}
	b.ReportAllocs()
	for b.Loop() {
		_ = c.String()
	}
}

func BenchmarkParseCursor(b *testing.B) {
	s := Cursor{Order: "created", Key: "1767225600000000", ID: 123456}.String()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseCursor(s); err != nil {
			b.Fatal(err)
		}
	}
}
