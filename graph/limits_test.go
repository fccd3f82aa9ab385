package graph

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

func TestMeasureDocument(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		query                   string
		depth, aliases, fields  int
		introspectionDepthIsOne bool
	}{
		{"{ a }", 1, 0, 1, false},
		{"{ a { b { c } } d }", 3, 0, 4, false},
		{"{ x: a { y: b } }", 2, 2, 2, false},
		{"{ ... on Q { a { b } } ...F } fragment F on Q { c { d { e } } }", 3, 0, 5, false},
		{"{ __schema { types { fields { name } } } }", 1, 0, 4, true},
	} {
		t.Run(tc.query, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			m := newMeasurer(doc, tc.introspectionDepthIsOne)
			s := m.selectionSet(doc.Operations[0].SelectionSet)
			if s.depth != tc.depth || s.aliases != tc.aliases || s.fields != tc.fields {
				t.Errorf("%s: %+v, want depth %d aliases %d fields %d", tc.query, s, tc.depth, tc.aliases, tc.fields)
			}
		})
	}
}

// FuzzDocumentLimits measures arbitrary documents: no panic, and the
// measures never go negative (saturating arithmetic).
func FuzzDocumentLimits(f *testing.F) {
	for _, seed := range []string{
		"{ a }", strings.Repeat("a { ", 19) + "b" + strings.Repeat(" }", 19), "{" + strings.Repeat(" x: a", 40) + " }", "query { ...A } fragment A on Q { ...A }",
		"query Q($v: Int = 1) @d { a(x: $v) @skip(if: true) { ... on T { b } ...F } } fragment F on T { c }",
		"{ __schema { types { name } } }", "{", "",
	} {
		f.Add(seed)
	}
	l := documentLimits{maxTokens: 15000, maxDepth: 12, maxAliases: 30, maxDirectives: 10, maxFields: 500, maxComplexity: 1000, introspection: true}
	f.Fuzz(func(t *testing.T, q string) {
		doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: q}, l.maxTokens)
		if err != nil {
			return
		}
		_ = l.checkDocument(doc)
		m := newMeasurer(doc, true)
		for _, op := range doc.Operations {
			if s := m.selectionSet(op.SelectionSet); s.depth < 0 || s.aliases < 0 || s.fields < 0 {
				t.Fatalf("negative measure %+v", s)
			}
		}
	})
}
