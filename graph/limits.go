package graph

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// listWeight is what an unpaged list field (makes, a make's models, stats by
// make) multiplies the cost of its selection by: a guess at a typical
// length, since the size is not known before the query runs.
const listWeight = 10

// complexityCap keeps the cost arithmetic far from overflow; any cost that
// reaches it is over every sensible limit.
const complexityCap = math.MaxInt32

// documentLimits refuses GraphQL documents that would cost too much to
// validate or run, with extensions.code QUERY_TOO_COMPLEX, before anything
// is executed. It is a gqlgen handler extension with two checks:
//
//   - before gqlgen parses and validates the document (an operation
//     parameter mutator): the token count, then directives per field,
//     depth, aliases and the number of fields, all measured on the parsed
//     document with fragments expanded. Validation costs up to the square of
//     the number of fields (gqlparser compares fields pairwise to check they
//     can be merged: 15,000 repetitions of one field take 15 s, 500 take
//     20 ms), so the field count is bounded (MAX_FIELDS) before it runs.
//   - after validation (an operation context mutator): the complexity of the
//     chosen operation with its variables, list fields weighted by
//     first/last (see costWalker).
//
// Fragments are measured once each (memoised), so a document that spreads
// a fragment that spreads another twice, forty levels deep, costs forty
// steps to measure rather than 2^40. Documents already in the query cache
// passed these checks before and are not measured again.
//
// When introspection is enabled (development), the subtrees under __schema
// and __type are left out of depth and complexity: GraphiQL's introspection
// query is 15 levels deep and its cost is fixed by the schema, not by data.
// (Its 226 fields count towards MAX_FIELDS like any others.)
type documentLimits struct {
	maxTokens     int
	maxDepth      int
	maxAliases    int
	maxDirectives int
	maxFields     int
	maxComplexity int
	introspection bool
	cache         graphql.Cache[*ast.QueryDocument]
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationParameterMutator
	graphql.OperationContextMutator
} = documentLimits{}

func (documentLimits) ExtensionName() string { return "DocumentLimits" }

func (documentLimits) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationParameters checks the document before gqlgen parses and
// validates it. Syntax errors are left for gqlgen to report.
func (l documentLimits) MutateOperationParameters(ctx context.Context, params *graphql.RawParams) *gqlerror.Error {
	if params.Query == "" {
		return nil
	}
	if l.cache != nil {
		if _, ok := l.cache.Get(ctx, params.Query); ok {
			return nil
		}
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: params.Query}, l.maxTokens)
	if err != nil {
		var gqlErr *gqlerror.Error
		if errors.As(err, &gqlErr) && strings.HasPrefix(gqlErr.Message, "exceeded token limit") {
			return tooComplex("the document has more than %d tokens, the limit", l.maxTokens)
		}
		return nil
	}
	return l.checkDocument(doc)
}

// checkDocument measures a parsed, not yet validated document.
func (l documentLimits) checkDocument(doc *ast.QueryDocument) *gqlerror.Error {
	if n := maxDirectives(doc); n > l.maxDirectives {
		return tooComplex("a field has %d directives, more than the limit of %d", n, l.maxDirectives)
	}
	m := newMeasurer(doc, l.introspection)
	fields := 0
	for _, op := range doc.Operations {
		s := m.selectionSet(op.SelectionSet)
		if s.depth > l.maxDepth {
			return tooComplex("the query is %d levels deep, more than the limit of %d", s.depth, l.maxDepth)
		}
		if s.aliases > l.maxAliases {
			return tooComplex("the query has %s aliases, more than the limit of %d", atLeast(s.aliases), l.maxAliases)
		}
		fields = satAdd(fields, s.fields)
	}
	// Fragments no operation uses are validated too (and then refused).
	for _, f := range doc.Fragments {
		if _, used := m.memo[f.Name]; !used {
			fields = satAdd(fields, countFields(f.SelectionSet))
		}
	}
	if fields > l.maxFields {
		return tooComplex("the document selects %s fields, more than the limit of %d", atLeast(fields), l.maxFields)
	}
	return nil
}

// MutateOperationContext checks the validated operation's complexity with
// its variables.
func (l documentLimits) MutateOperationContext(_ context.Context, opCtx *graphql.OperationContext) *gqlerror.Error {
	if opCtx.Operation == nil {
		return nil
	}
	c := costWalker{doc: opCtx.Doc, vars: opCtx.Variables, introspection: l.introspection, memo: map[fragmentAt]int{}, active: map[fragmentAt]bool{}}
	if cost := c.selectionSet(opCtx.Operation.SelectionSet, true); cost > l.maxComplexity {
		return tooComplex("the operation has complexity %s, more than the limit of %d", atLeast(cost), l.maxComplexity)
	}
	return nil
}

func tooComplex(format string, args ...any) *gqlerror.Error {
	return &gqlerror.Error{
		Message:    fmt.Sprintf(format, args...),
		Extensions: map[string]any{"code": string(CodeQueryTooComplex)},
	}
}

// atLeast prints a measure that may have been capped.
func atLeast(n int) string {
	if n >= complexityCap {
		return "at least " + strconv.Itoa(complexityCap)
	}
	return strconv.Itoa(n)
}

// shape is what documentLimits measures of a selection set with its
// fragments expanded.
type shape struct {
	depth   int // levels of nested fields
	aliases int // aliased fields
	fields  int // fields
}

// measurer measures selection sets of one unvalidated document, each
// fragment once.
type measurer struct {
	fragments     map[string]*ast.FragmentDefinition
	introspection bool
	memo          map[string]shape
	active        map[string]bool // fragments being measured, to stop at cycles
}

func newMeasurer(doc *ast.QueryDocument, introspection bool) *measurer {
	m := &measurer{
		fragments:     make(map[string]*ast.FragmentDefinition, len(doc.Fragments)),
		introspection: introspection,
		memo:          map[string]shape{},
		active:        map[string]bool{},
	}
	for _, f := range doc.Fragments {
		if _, dup := m.fragments[f.Name]; !dup {
			m.fragments[f.Name] = f
		}
	}
	return m
}

func (m *measurer) selectionSet(set ast.SelectionSet) shape {
	var out shape
	for _, sel := range set {
		var s shape
		switch sel := sel.(type) {
		case *ast.Field:
			s = m.selectionSet(sel.SelectionSet)
			s.depth++
			if m.introspection && isIntrospectionField(sel.Name) {
				s.depth = 1
			}
			s.fields = satAdd(s.fields, 1)
			if sel.Alias != "" && sel.Alias != sel.Name {
				s.aliases = satAdd(s.aliases, 1)
			}
		case *ast.InlineFragment:
			s = m.selectionSet(sel.SelectionSet)
		case *ast.FragmentSpread:
			s = m.fragment(sel.Name)
		}
		out.depth = max(out.depth, s.depth)
		out.aliases = satAdd(out.aliases, s.aliases)
		out.fields = satAdd(out.fields, s.fields)
	}
	return out
}

func (m *measurer) fragment(name string) shape {
	if s, ok := m.memo[name]; ok {
		return s
	}
	f := m.fragments[name]
	if f == nil || m.active[name] {
		return shape{} // unknown or cyclic: validation refuses it
	}
	m.active[name] = true
	s := m.selectionSet(f.SelectionSet)
	delete(m.active, name)
	m.memo[name] = s
	return s
}

// countFields counts the fields written in a selection set, without
// expanding fragments.
func countFields(set ast.SelectionSet) int {
	n := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			n = satAdd(n, satAdd(1, countFields(sel.SelectionSet)))
		case *ast.InlineFragment:
			n = satAdd(n, countFields(sel.SelectionSet))
		}
	}
	return n
}

// maxDirectives returns the most directives on any one node of the
// document: an operation, a fragment, a field, a spread or an inline fragment.
func maxDirectives(doc *ast.QueryDocument) int {
	most := 0
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch sel := sel.(type) {
			case *ast.Field:
				most = max(most, len(sel.Directives))
				walk(sel.SelectionSet)
			case *ast.InlineFragment:
				most = max(most, len(sel.Directives))
				walk(sel.SelectionSet)
			case *ast.FragmentSpread:
				most = max(most, len(sel.Directives))
			}
		}
	}
	for _, op := range doc.Operations {
		most = max(most, len(op.Directives))
		for _, v := range op.VariableDefinitions {
			most = max(most, len(v.Directives))
		}
		walk(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		most = max(most, len(f.Directives))
		walk(f.SelectionSet)
	}
	return most
}

func isIntrospectionField(name string) bool {
	return name == "__schema" || name == "__type"
}

// costWalker computes the complexity of a validated operation, an
// estimate of the objects it may load (in the manner of GitHub's and
// Shopify's API limits):
//
//   - scalar and enum fields cost nothing: they come with their row;
//   - a field with first/last arguments (a connection) costs, per item of
//     the page it asks for, 1 plus its selection: its page size is first
//     (or last), defaultPageSize when neither is given, clamped to
//     1…maxPageSize since larger pages are refused anyway. The edges and
//     nodes lists of a *Connection type are its items, not weighted again;
//   - any other list of objects costs listWeight × (1 plus its selection);
//   - a single object costs 1 plus its selection at the root of the
//     operation (each is a lookup of its own) and just its selection below
//     (batched loaders fetch a page's makes, models and dealers in one
//     statement each);
//   - inline fragments and spreads on different types all add up (an upper
//     bound, where gqlgen's own estimate takes the dearest type).
//
// So vehicles(first: 100) with each vehicle's make, model and dealer costs
// 100, twenty dealers with five vehicles each 20 × (1 + 5) = 120, and a
// request for a thousand vehicles (ten pages of 100 under aliases, or 100
// dealers' 10 vehicles each) is over the default limit of 1,000. Each
// fragment is costed once per position (root or nested).
type costWalker struct {
	doc           *ast.QueryDocument
	vars          map[string]any
	introspection bool
	memo          map[fragmentAt]int
	active        map[fragmentAt]bool
}

// fragmentAt is a fragment spread at the operation's root or below it.
type fragmentAt struct {
	name string
	root bool
}

func (c *costWalker) selectionSet(set ast.SelectionSet, root bool) int {
	total := 0
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			total = satAdd(total, c.field(sel, root))
		case *ast.InlineFragment:
			total = satAdd(total, c.selectionSet(sel.SelectionSet, root))
		case *ast.FragmentSpread:
			total = satAdd(total, c.fragment(fragmentAt{sel.Name, root}))
		}
	}
	return total
}

func (c *costWalker) fragment(at fragmentAt) int {
	if n, ok := c.memo[at]; ok {
		return n
	}
	f := c.doc.Fragments.ForName(at.name)
	if f == nil || c.active[at] {
		return 0
	}
	c.active[at] = true
	n := c.selectionSet(f.SelectionSet, at.root)
	delete(c.active, at)
	c.memo[at] = n
	return n
}

func (c *costWalker) field(f *ast.Field, root bool) int {
	if c.introspection && isIntrospectionField(f.Name) {
		return 1
	}
	child := c.selectionSet(f.SelectionSet, false)
	def := f.Definition
	object := len(f.SelectionSet) > 0 // a validated field has a selection exactly when its type is composite
	switch {
	case def == nil:
		return child
	case def.Arguments.ForName("first") != nil || def.Arguments.ForName("last") != nil:
		return satMul(pageSize(f.ArgumentMap(c.vars)), satAdd(1, child))
	case def.Type.Elem != nil && object && !inConnection(f):
		return satMul(listWeight, satAdd(1, child))
	case object && root:
		return satAdd(1, child)
	}
	return child
}

// inConnection reports whether f is a field of a *Connection type (its
// edges or nodes).
func inConnection(f *ast.Field) bool {
	return f.ObjectDefinition != nil && strings.HasSuffix(f.ObjectDefinition.Name, "Connection")
}

// pageSize is the page a connection field asks for, clamped to 1…maxPageSize:
// the page sizes the connection resolvers apply (paging.go), counted at least
// one so that an empty page still costs its selection.
func pageSize(args map[string]any) int {
	n := defaultPageSize
	if v, ok := intArg(args["first"]); ok {
		n = v
	} else if v, ok := intArg(args["last"]); ok {
		n = v
	}
	return min(max(n, 1), maxPageSize)
}

// intArg reads an Int argument however gqlgen's coercion left it.
func intArg(v any) (int, bool) {
	switch v := v.(type) {
	case int:
		return v, true
	case int32:
		return int(v), true
	case int64:
		return int(max(min(v, math.MaxInt32), math.MinInt32)), true
	case float64:
		return int(max(min(v, math.MaxInt32), math.MinInt32)), true
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return intArg(n)
		}
	case string:
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return intArg(n)
		}
	}
	return 0, false
}

// satAdd adds non-negative measures, stopping at complexityCap.
func satAdd(a, b int) int {
	if a >= complexityCap-b {
		return complexityCap
	}
	return a + b
}

// satMul multiplies non-negative measures, stopping at complexityCap.
func satMul(a, b int) int {
	if a != 0 && b > complexityCap/a {
		return complexityCap
	}
	return a * b
}
