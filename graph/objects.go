package graph

import (
	"io"

	"github.com/99designs/gqlgen/graphql"
)

// objectFields is the marshaller of an object whose collected fields are
// fields and whose values set holds, which the executor returns where gqlgen
// would return set itself (see graph/internal/gqlgen). gqlgen writes a field
// set through an iterator, with a map of the aliases written so far and each
// field copied to the heap: about six allocations for every object of an
// answer. This writes the same bytes with none: the fields in order, each
// alias once (the first field that has it; a later one with the same alias
// is skipped, as gqlgen skips it), values read when the object is written.
// Under a root other than *Resolver, it is set itself.
func objectFields(root ResolverRoot, fields []graphql.CollectedField, set *graphql.FieldSet) graphql.Marshaler {
	if _, ok := root.(*Resolver); !ok {
		return set
	}
	return &fieldSetWriter{fields: fields, set: set}
}

type fieldSetWriter struct {
	fields []graphql.CollectedField
	set    *graphql.FieldSet
}

func (o *fieldSetWriter) MarshalGQL(w io.Writer) {
	io.WriteString(w, "{")
	first := true
fields:
	for i := range o.fields {
		alias := o.fields[i].Alias
		for j := range i {
			if o.fields[j].Alias == alias {
				continue fields
			}
		}
		if !first {
			io.WriteString(w, ",")
		}
		first = false
		writeQuotedString(w, alias)
		io.WriteString(w, ":")
		o.set.Values[i].MarshalGQL(w)
	}
	io.WriteString(w, "}")
}

// writeQuotedString writes s as a JSON string exactly as gqlgen writes a
// field's alias.
func writeQuotedString(w io.Writer, s string) {
	const hex = "0123456789ABCDEF"
	start := 0
	io.WriteString(w, `"`)
	for i, c := range s {
		if c < 0x20 || c == '\\' || c == '"' {
			io.WriteString(w, s[start:i])
			switch c {
			case '\t':
				io.WriteString(w, `\t`)
			case '\r':
				io.WriteString(w, `\r`)
			case '\n':
				io.WriteString(w, `\n`)
			case '\\':
				io.WriteString(w, `\\`)
			case '"':
				io.WriteString(w, `\"`)
			default:
				io.WriteString(w, `\u00`)
				w.Write([]byte{hex[c>>4], hex[c&0xf]})
			}
			start = i + 1
		}
	}
	io.WriteString(w, s[start:])
	io.WriteString(w, `"`)
}
