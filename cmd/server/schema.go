package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/carlot/carlot/graph"
	"github.com/vektah/gqlparser/v2/formatter"
)

// schemaCommand runs `server schema print`: the schema this binary serves,
// as SDL, for client code generators (Apollo, Relay, graphql-codegen) and
// schema registries.
func schemaCommand(args []string, stdout io.Writer) error {
	if len(args) != 1 || args[0] != "print" {
		return fmt.Errorf("usage: server schema print")
	}
	_, err := io.WriteString(stdout, servedSchema())
	return err
}

// servedSchema is the executable schema's SDL: the types the server
// resolves, without the built-in scalars and introspection types.
func servedSchema() string {
	var b bytes.Buffer
	formatter.NewFormatter(&b, formatter.WithIndent("  ")).FormatSchema(graph.NewExecutableSchema(graph.Config{}).Schema())
	return b.String()
}
